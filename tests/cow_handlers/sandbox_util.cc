#include "tests/cow_handlers/sandbox_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace sandtrace::cow::testing {

std::string TraceBin() { return TRACE_BIN; }

Ran RunProgram(const std::vector<std::string>& argv, const std::string& cwd,
               const std::vector<std::string>& env_extra, int timeout_s) {
  Ran r;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const auto& e : env_extra) env.push_back(e);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    setpgid(0, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    execvpe(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    long left_ms = timeout_s * 1000L -
                   ((now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L);
    if (left_ms <= 0) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    int pr = poll(fds, 2, static_cast<int>(left_ms));
    if (pr < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (r.timed_out) {
    r.status = -1;
  } else if (WIFEXITED(st)) {
    r.status = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    r.status = 128 + WTERMSIG(st);
  }
  return r;
}

namespace {

int RemoveEntry(const char* p, const struct stat*, int, FTW*) { return remove(p); }

}  // namespace

void RemoveAll(const std::string& path) {
  // Make directories writable first (tests chmod some to 0500).
  nftw(
      path.c_str(),
      [](const char* p, const struct stat* st, int type, FTW*) {
        if (type == FTW_D) chmod(p, 0700);
        return 0;
      },
      16, FTW_PHYS);
  nftw(path.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

Scratch::Scratch(const std::string& base) {
  std::string tmpl = base + "/cowh-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl);
  char real[PATH_MAX];
  path_ = realpath(tmpl.c_str(), real) != nullptr ? real : tmpl;
}

Scratch::~Scratch() { RemoveAll(path_); }

void WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << data;
  }
  chmod(path.c_str(), mode);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

namespace {

void Walk(const std::string& root, const std::string& rel, bool identity, Tree& tree,
          std::map<uint64_t, std::string>& inodes) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  for (const auto& n : names) {
    std::string r = rel.empty() ? n : rel + "/" + n;
    std::string full = root + "/" + r;
    struct stat st {};
    if (lstat(full.c_str(), &st) != 0) continue;
    Node node;
    node.mode = st.st_mode & 07777;
    if (identity) {
      node.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      node.ino = st.st_ino;
    }
    if (S_ISREG(st.st_mode)) {
      node.type = 'f';
      node.data = ReadFile(full);
      if (st.st_nlink > 1) {
        auto [it, fresh] = inodes.emplace(st.st_ino, r);
        node.link_group = it->second;
      }
    } else if (S_ISDIR(st.st_mode)) {
      node.type = 'd';
    } else if (S_ISLNK(st.st_mode)) {
      node.type = 'l';
      char buf[PATH_MAX];
      ssize_t k = readlink(full.c_str(), buf, sizeof buf);
      node.data = std::string(buf, k > 0 ? static_cast<size_t>(k) : 0);
      node.mode = 0;
    } else if (S_ISFIFO(st.st_mode)) {
      node.type = 'p';
    } else if (S_ISSOCK(st.st_mode)) {
      node.type = 's';
    } else {
      node.type = 'c';
    }
    tree[r] = node;
    if (node.type == 'd') Walk(root, r, identity, tree, inodes);
  }
}

std::string Describe(const Node& n) {
  std::ostringstream o;
  o << n.type << " mode " << std::oct << n.mode << std::dec;
  if (n.type == 'l') o << " -> " << n.data;
  if (n.type == 'f') o << " " << n.data.size() << " bytes";
  if (!n.link_group.empty()) o << " linked with " << n.link_group;
  if (n.ino != 0) o << " ino " << n.ino << " mtime " << n.mtime_ns;
  return o.str();
}

}  // namespace

Tree Snapshot(const std::string& root, bool identity) {
  Tree t;
  std::map<uint64_t, std::string> inodes;
  Walk(root, "", identity, t, inodes);
  return t;
}

std::string DiffTrees(const Tree& expected, const Tree& got) {
  std::string out;
  for (const auto& [path, n] : expected) {
    auto it = got.find(path);
    if (it == got.end()) {
      out += "missing: " + path + " (" + Describe(n) + ")\n";
      continue;
    }
    const Node& g = it->second;
    if (g.type != n.type || g.mode != n.mode || g.data != n.data || g.link_group != n.link_group ||
        g.mtime_ns != n.mtime_ns || g.ino != n.ino) {
      out += "differs: " + path + ": expected " + Describe(n) + ", got " + Describe(g) + "\n";
    }
  }
  for (const auto& [path, g] : got) {
    if (!expected.count(path)) out += "extra: " + path + " (" + Describe(g) + ")\n";
  }
  return out;
}

std::string WithoutTraceLines(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("trace: ", 0) == 0 || line.rfind("trace run: ", 0) == 0) continue;
    out += line + "\n";
  }
  return out;
}

std::vector<std::string> TraceLines(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> out;
  while (std::getline(in, line)) {
    if (line.rfind("trace: ", 0) == 0 || line.rfind("trace run: ", 0) == 0) out.push_back(line);
  }
  return out;
}

}  // namespace sandtrace::cow::testing
