#include "tracer/spawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tracer/base/errors.h"
#include "tracer/core/kernel_abi.h"
#include "tracer/landlock.h"

namespace sandtrace {

namespace {

// Everything the child reads, as plain pointers prepared before fork.
struct ChildPlan {
  char* const* argv;
  char* const* envp;
  const char* const* candidates;
  size_t n_candidates;
  const char* workdir;
  sock_fprog prog;
  unsigned seccomp_flags;
  int landlock_fd;
  int sock;
  int status;
  pid_t parent;
  int cookie_nr;
  int cookie_arg;
  uint64_t cookie;
  bool foreground_tty;
  bool restore_nofile;
  rlimit nofile;
  // {"/bin/sh", <the candidate>, argv[1]...}: for a file without a #! line,
  // which execvp runs with the shell (slot 1 is set before use).
  char** sh_argv;
};

[[noreturn]] void ChildFail(const ChildPlan& p, int stage, int err) {
  ChildFailure f{stage, err};
  ssize_t ignored = write(p.status, &f, sizeof f);
  (void)ignored;
  _exit(stage == kStageExec ? 127 : 125);
}

[[noreturn]] void ChildMain(const ChildPlan& p) {
  if (setpgid(0, 0) != 0) ChildFail(p, kStageSetpgid, errno);
  // Take the terminal before exec so the command never reads it from the
  // background (SIGTTIN). SIGTTOU is still blocked here (inherited from Run).
  if (p.foreground_tty) tcsetpgrp(STDIN_FILENO, getpid());
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(p, kStageParentDeath, errno);
  // The parent may have died before the prctl: then we were reparented.
  if (getppid() != p.parent) _exit(125);

  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);  // EINVAL for glibc-reserved RT signals: fine
  }
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) ChildFail(p, kStageSignals, errno);

  if (chdir(p.workdir) != 0) ChildFail(p, kStageChdir, errno);
  // Every fd but stdio closes at exec (our own pipes are O_CLOEXEC already).
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (p.restore_nofile) setrlimit(RLIMIT_NOFILE, &p.nofile);  // lowering cannot fail
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ChildFail(p, kStageNoNewPrivs, errno);
  if (p.landlock_fd >= 0) {
    int r = LandlockRestrictSelf(p.landlock_fd);
    if (r != 0) ChildFail(p, kStageLandlock, -r);
  }
  long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                          SECCOMP_FILTER_FLAG_NEW_LISTENER | p.seccomp_flags, &p.prog);
  if (listener < 0) ChildFail(p, kStageSeccomp, errno);

  // From here on any syscall may be notified, and nobody answers until the
  // supervisor has the listener: this sendmsg carries the cookie that
  // exempts it.
  int lfd = static_cast<int>(listener);
  char byte = 'L';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &lfd, sizeof lfd);
  uint64_t a[6] = {
      static_cast<uint64_t>(p.sock), reinterpret_cast<uint64_t>(&msg), MSG_NOSIGNAL, 0, 0, 0};
  a[p.cookie_arg] = p.cookie;
  if (syscall(SYS_sendmsg, a[0], a[1], a[2], a[3], a[4], a[5]) != 1) {
    ChildFail(p, kStageHandshake, errno);
  }

  int err = ENOENT;
  for (size_t i = 0; i < p.n_candidates; ++i) {
    execve(p.candidates[i], p.argv, p.envp);
    if (errno == ENOEXEC) {
      // As execvp (and env, timeout, xargs) do: a file the kernel cannot
      // run is a shell script without its #! line.
      p.sh_argv[1] = const_cast<char*>(p.candidates[i]);
      execve(p.sh_argv[0], p.sh_argv, p.envp);
      errno = ENOEXEC;
    }
    // Like execvp: a permission problem is more telling than "not found".
    if (errno == EACCES)
      err = EACCES;
    else if (err != EACCES && errno != ENOENT && errno != ENOTDIR)
      err = errno;
  }
  ChildFail(p, kStageExec, err);
}

[[noreturn]] void WatchdogMain(int pipe_rd, pid_t pgid) {
  setpgid(0, pgid);  // keeps the group (and so its number) alive while we live
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE}) {
    sigaction(sig, &ign, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (pipe_rd > 0) syscall(SYS_close_range, 0U, static_cast<unsigned>(pipe_rd - 1), 0U);
  syscall(SYS_close_range, static_cast<unsigned>(pipe_rd + 1), ~0U, 0U);
  prctl(PR_SET_NAME, "sandtrace-watch");
  char c;
  ssize_t n;
  do {
    n = read(pipe_rd, &c, 1);
  } while (n < 0 && errno == EINTR);
  if (n == 0) kill(-pgid, SIGKILL);  // the supervisor is gone
  _exit(0);
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(task_dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(task_dir + "/" + e->d_name + "/children");
    pid_t c;
    while (f >> c) out.push_back(c);
  }
  closedir(d);
  return out;
}

}  // namespace

std::vector<std::string> ExecCandidates(const std::string& argv0, const char* path_env) {
  if (argv0.find('/') != std::string::npos) return {argv0};
  std::string path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    size_t j = path.find(':', i);
    std::string dir = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
    out.push_back((dir.empty() ? "." : dir) + "/" + argv0);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

std::string DescribeChildStage(int stage, const std::string& command) {
  const char* what = "set up the sandbox";
  switch (stage) {
    case kStageSetpgid:
      what = "create a process group";
      break;
    case kStageParentDeath:
      what = "set the parent-death signal";
      break;
    case kStageSignals:
      what = "reset signals";
      break;
    case kStageChdir:
      what = "enter the workdir";
      break;
    case kStageNoNewPrivs:
      what = "set no_new_privs";
      break;
    case kStageLandlock:
      what = "enforce the Landlock ruleset";
      break;
    case kStageSeccomp:
      what = "install the seccomp filter";
      break;
    case kStageHandshake:
      what = "hand the seccomp listener to the supervisor";
      break;
    case kStageExec:
      return "cannot execute '" + command + "'";
  }
  return std::string("child could not ") + what;
}

std::string DescribeChildFailure(const ChildFailure& f, const std::string& command) {
  return DescribeChildStage(f.stage, command) + ": " + std::strerror(f.error);
}

Result<SpawnedChild> Spawn(const SpawnRequest& req) {
  if (req.argv.empty()) return Err(EINVAL, "no command given");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return ErrnoError("socketpair");
  }
  UniqueFd sock_parent(sv[0]), sock_child(sv[1]);
  int pp[2];
  if (pipe2(pp, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  UniqueFd status_rd(pp[0]), status_wr(pp[1]);

  // Everything the child needs, built before fork (no allocation after it).
  std::vector<char*> argv = CStrings(req.argv);
  std::vector<char*> envp = CStrings(req.env);
  const char* path_env = nullptr;
  for (const auto& e : req.env) {
    if (e.rfind("PATH=", 0) == 0) path_env = e.c_str() + 5;
  }
  std::vector<std::string> candidates = ExecCandidates(req.argv[0], path_env);
  std::vector<const char*> cand_ptrs;
  for (const auto& c : candidates) cand_ptrs.push_back(c.c_str());

  std::string shell = "/bin/sh";
  std::vector<char*> sh_argv = {shell.data(), nullptr};
  for (size_t i = 1; i + 1 < argv.size(); ++i) sh_argv.push_back(argv[i]);
  sh_argv.push_back(nullptr);

  ChildPlan plan{};
  plan.sh_argv = sh_argv.data();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.candidates = cand_ptrs.data();
  plan.n_candidates = cand_ptrs.size();
  plan.workdir = req.workdir.c_str();
  plan.prog.len = static_cast<unsigned short>(req.filter.size());
  plan.prog.filter = const_cast<sock_filter*>(req.filter.data());
  plan.seccomp_flags = req.seccomp_flags;
  plan.landlock_fd = req.landlock_fd;
  plan.sock = sock_child.get();
  plan.status = status_wr.get();
  plan.parent = getpid();
  plan.cookie_nr = req.cookie_nr;
  plan.cookie_arg = req.cookie_arg;
  plan.cookie = req.cookie;
  plan.foreground_tty =
      req.foreground_tty && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
  plan.restore_nofile = req.nofile.has_value();
  if (req.nofile) plan.nofile = *req.nofile;
  if (req.filter.empty() || req.filter.size() > 4096) return Err(EINVAL, "bad filter size");

  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) ChildMain(plan);

  SpawnedChild child;
  child.pid = pid;
  setpgid(pid, pid);  // also done by the child; whoever is first wins the race
  sock_child.reset();
  status_wr.reset();
  child.status = std::move(status_rd);
  child.pidfd = UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));  // O_CLOEXEC

  auto fail = [&](Error e) -> Result<SpawnedChild> {
    kill(pid, SIGKILL);
    ChildFailure f{};
    if (read(child.status.get(), &f, sizeof f) == static_cast<ssize_t>(sizeof f)) {
      // The child's own account is more precise than ours.
      e = Error{f.error, DescribeChildStage(f.stage, req.argv[0])};
    }
    int st;
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
    }
    return e;
  };

  // Wait for the listener (or for the child to fail and close its end).
  pollfd pfd{sock_parent.get(), POLLIN, 0};
  int pr;
  do {
    pr = poll(&pfd, 1, 30000);
  } while (pr < 0 && errno == EINTR);
  if (pr == 0) return fail(Err(ETIMEDOUT, "child did not hand over its seccomp listener"));
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(sock_parent.get(), &msg, MSG_CMSG_CLOEXEC);
  cmsghdr* cm = n > 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
  if (cm == nullptr || cm->cmsg_type != SCM_RIGHTS) {
    return fail(Err(EPROTO, "child exited before handing over its seccomp listener"));
  }
  int lfd;
  std::memcpy(&lfd, CMSG_DATA(cm), sizeof lfd);
  child.listener = UniqueFd(lfd);

  // The watchdog is forked after the child so the child never holds its pipe.
  int wp[2];
  if (pipe2(wp, O_CLOEXEC) != 0) return fail(ErrnoError("pipe2"));
  UniqueFd watch_rd(wp[0]);
  child.watchdog_pipe = UniqueFd(wp[1]);
  pid_t w = fork();
  if (w < 0) return fail(ErrnoError("fork watchdog"));
  if (w == 0) WatchdogMain(watch_rd.get(), pid);
  child.watchdog = w;
  setpgid(w, pid);

  if (plan.foreground_tty) child.tty_fd = STDIN_FILENO;
  return child;
}

void KillTree(pid_t pgid, pid_t spare) {
  if (pgid > 0) kill(-pgid, SIGKILL);
  // Breadth-first over our descendants; a few rounds catch processes forked
  // while we walked.
  for (int round = 0; round < 3; ++round) {
    std::vector<pid_t> todo = ChildrenOf(getpid());
    bool any = false;
    for (size_t i = 0; i < todo.size(); ++i) {
      if (todo[i] == spare) continue;
      kill(todo[i], SIGKILL);
      any = true;
      for (pid_t c : ChildrenOf(todo[i])) todo.push_back(c);
    }
    if (!any) break;
  }
}

}  // namespace sandtrace
