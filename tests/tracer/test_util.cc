#include "tests/tracer/test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sandtrace::testing {

namespace {

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int Remove(const char* p, const struct stat*, int, FTW*) { return remove(p), 0; }

}  // namespace

int ProcResult::code() const {
  if (timed_out) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

Subprocess::Subprocess(const std::vector<std::string>& argv, const std::string& cwd) {
  int o[2], e[2];
  if (pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0) abort();
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(o[1], 1);
    dup2(e[1], 2);
    execv(args[0], args.data());
    _exit(126);
  }
  setpgid(pid_, pid_);
  close(o[1]);
  close(e[1]);
  out_ = o[0];
  err_ = e[0];
}

Subprocess::~Subprocess() {
  if (!waited_) Wait(0);
}

ProcResult Subprocess::Wait(int timeout_s) {
  ProcResult r;
  waited_ = true;
  double deadline = Now() + timeout_s;
  bool exited = false;
  while (out_ >= 0 || err_ >= 0 || !exited) {
    if (!exited) {
      if (waitpid(pid_, &r.status, WNOHANG) == pid_) exited = true;
    }
    double left = deadline - Now();
    if (left <= 0 && !r.timed_out) {
      r.timed_out = true;
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      deadline = Now() + 5;  // to drain and reap
      continue;
    }
    if (left <= 0) break;
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    poll(fds, 2, 20);
    for (int i = 0; i < 2; ++i) {
      int& fd = i == 0 ? out_ : err_;
      if (fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, n);
      } else {
        close(fd);
        fd = -1;
      }
    }
  }
  if (!exited) waitpid(pid_, &r.status, 0);
  if (out_ >= 0) close(out_);
  if (err_ >= 0) close(err_);
  out_ = err_ = -1;
  return r;
}

ProcResult RunProcess(const std::vector<std::string>& argv, int timeout_s, const std::string& cwd) {
  Subprocess p(argv, cwd);
  return p.Wait(timeout_s);
}

TempDir::TempDir(const std::string& base) {
  std::string t = base + "/sandtrace-test-XXXXXX";
  if (mkdtemp(t.data()) == nullptr) abort();
  path_ = t;
}

TempDir::~TempDir() { nftw(path_.c_str(), Remove, 16, FTW_DEPTH | FTW_PHYS); }

std::vector<pid_t> FindProcesses(const std::string& needle) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    pid_t pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::string cmd = ReadFile("/proc/" + std::string(e->d_name) + "/cmdline");
    for (char& c : cmd) {
      if (c == 0) c = ' ';
    }
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    if (cmd == needle) {
      // Zombies still have a /proc entry but no cmdline; skip them anyway.
      std::string stat = ReadFile("/proc/" + std::string(e->d_name) + "/stat");
      size_t p = stat.rfind(')');
      if (p != std::string::npos && p + 2 < stat.size() && stat[p + 2] == 'Z') continue;
      out.push_back(pid);
    }
  }
  closedir(d);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace sandtrace::testing
