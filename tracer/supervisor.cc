#include "tracer/supervisor.h"

#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "tracer/base/errors.h"
#include "tracer/landlock.h"
#include "tracer/live_tracee.h"
#include "tracer/restart.h"
#include "tracer/seccomp_filter.h"
#include "tracer/spawn.h"
#include "tracer/unotify.h"
#include "tracer/waiting_opens.h"

extern char** environ;

namespace sandtrace {

namespace {

uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

sigset_t SupervisorSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGTTOU}) sigaddset(&set, sig);
  return set;
}

std::string RealPathOr(const std::string& p, std::string fallback) {
  char buf[PATH_MAX];
  return realpath(p.c_str(), buf) != nullptr ? std::string(buf) : std::move(fallback);
}

bool Beneath(const std::string& inner, const std::string& outer) {
  if (outer == "/") return true;
  return inner == outer ||
         (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
          inner[outer.size()] == '/');
}

int RemoveEntry(const char* path, const struct stat*, int, FTW*) {
  remove(path);
  return 0;
}

// The run's private TMPDIR: created outside the workdir, removed (without
// following symlinks) when the run ends.
class TempDir {
 public:
  static Result<TempDir> Create(const std::string& workdir) {
    std::vector<std::string> bases;
    if (const char* t = getenv("TMPDIR"); t != nullptr && t[0] == '/') bases.emplace_back(t);
    for (const char* b : {"/tmp", "/dev/shm", "/var/tmp"}) bases.emplace_back(b);
    for (const auto& base : bases) {
      std::string real = RealPathOr(base, "");
      if (real.empty() || Beneath(real, workdir)) continue;
      std::string tmpl = real + "/sandtrace-XXXXXX";
      if (mkdtemp(tmpl.data()) != nullptr) return TempDir(tmpl);
    }
    return Err(errno ? errno : EEXIST, "cannot create a private TMPDIR outside the workdir");
  }
  TempDir(TempDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    if (!path_.empty()) nftw(path_.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

struct Prepared {
  std::string workdir;
  std::optional<TempDir> tmpdir;
  LandlockRuleset ruleset;
  std::vector<sock_filter> filter;
  uint64_t cookie = 0;
  std::string enforced;
};

std::string FilterDescription(const HandlerRegistry& registry) {
  const ArchTable& t = registry.table();
  std::string deny, notify;
  for (const SyscallDef& d : t.defs()) {
    if (!d.denied()) continue;
    deny += (deny.empty() ? "" : " ") + std::string(d.name);
    if (d.policy == SyscallPolicy::kDenyIfFlags) deny += "(flags)";
    if (d.policy == SyscallPolicy::kDenyEnosys) deny += "(ENOSYS)";
  }
  for (const NotifyRule& r : registry.NotifyRules()) {
    notify += (notify.empty() ? "" : " ") + t.NameOf(r.nr);
    if (r.when.has_value()) notify += "(" + std::to_string(r.when->size()) + " argument tests)";
  }
  return "seccomp: arch " + std::string(t.name()) + " only (others and x32 killed)\n" +
         "seccomp deny: " + deny + "\nseccomp notify: " + (notify.empty() ? "(none)" : notify) +
         "\n";
}

}  // namespace

void BlockSupervisorSignals() {
  sigset_t set = SupervisorSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Supervisor::Supervisor(const HandlerRegistry& registry, KernelFeatures features)
    : registry_(registry), features_(std::move(features)) {}

Status Supervisor::Check(const RunOptions& o) const {
  if (o.argv.empty()) return Err(EINVAL, "no command given");
  if (!features_.user_notif) {
    return Err(EOPNOTSUPP, "this kernel has no seccomp user notification");
  }
  std::string workdir = o.workdir.empty() ? RealPathOr(".", "") : RealPathOr(o.workdir, "");
  if (workdir.empty()) return ErrnoError("workdir " + (o.workdir.empty() ? "." : o.workdir));
  if (o.landlock) {
    if (features_.landlock_abi <= 0) {
      return Err(EOPNOTSUPP,
                 "Landlock is not available on this kernel (pass --no-landlock to run without "
                 "it)");
    }
    // Usage errors either way; an EINVAL's context says why by itself.
    auto usage = [](const Error& e) {
      return Err(EINVAL, e.code == EINVAL ? e.context : e.Message());
    };
    if (Status s = CheckWritePaths(o.write_paths, workdir); !s.ok()) return usage(s.error());
    if (Status s = CheckWritePaths(o.open_rw_paths, workdir); !s.ok()) return usage(s.error());
    for (const auto& r : o.read_paths) {
      if (access(r.c_str(), F_OK) != 0) return Err(EINVAL, "-r " + r + ": " + strerror(errno));
    }
  }
  return OkStatus();
}

Result<std::string> Supervisor::Describe(const RunOptions& o) const {
  std::string out = features_.Describe();
  if (o.landlock && features_.landlock_abi > 0) {
    LandlockPolicy policy{o.read_paths, o.write_paths,
                          o.workdir.empty() ? RealPathOr(".", ".") : RealPathOr(o.workdir, ""),
                          "<private TMPDIR>", o.open_rw_paths};
    policy.tmpdir.clear();
    auto rs = BuildLandlockRuleset(policy, features_.landlock_abi);
    if (!rs.ok()) return rs.error();
    out += rs->description;
    out += "landlock write: a private TMPDIR, created per run\n";
  } else {
    out += "landlock: not enforced\n";
  }
  out += FilterDescription(registry_);
  return out;
}

namespace {

// The supervisor's caches keep fds per live task (a /proc/<tid>/mem fd,
// pidfds): under the usual soft limit of 1024 a few hundred tasks would
// exhaust it and the command's syscalls would fail. The soft limit is
// raised to the hard one for the run; the command gets the limit it would
// have had (SpawnRequest::nofile), and the caller's is restored after.
class RaisedFdLimit {
 public:
  RaisedFdLimit() {
    if (getrlimit(RLIMIT_NOFILE, &original_) != 0) return;
    known_ = true;
    if (original_.rlim_cur >= original_.rlim_max) return;
    rlimit raised = original_;
    raised.rlim_cur = std::min<rlim_t>(original_.rlim_max, rlim_t{1} << 20);
    raised_ = setrlimit(RLIMIT_NOFILE, &raised) == 0;
  }
  ~RaisedFdLimit() {
    if (raised_) setrlimit(RLIMIT_NOFILE, &original_);
  }
  RaisedFdLimit(const RaisedFdLimit&) = delete;
  RaisedFdLimit& operator=(const RaisedFdLimit&) = delete;
  std::optional<rlimit> for_command() const {
    return known_ ? std::optional<rlimit>(original_) : std::nullopt;
  }

 private:
  rlimit original_{};
  bool known_ = false;
  bool raised_ = false;
};

}  // namespace

Result<RunResult> Supervisor::Run(const RunOptions& o) {
  if (Status s = Check(o); !s.ok()) return s.error();
  RaisedFdLimit fd_limit;
  Prepared prep;
  prep.workdir = o.workdir.empty() ? RealPathOr(".", "") : RealPathOr(o.workdir, "");
  auto tmp = TempDir::Create(prep.workdir);
  if (!tmp.ok()) return tmp.error();
  prep.tmpdir.emplace(std::move(*tmp));
  registry_.NotifyRun(HandlerRegistry::RunInfo{prep.tmpdir->path()});

  if (o.landlock) {
    LandlockPolicy policy{o.read_paths, o.write_paths, prep.workdir, prep.tmpdir->path(),
                          o.open_rw_paths};
    auto rs = BuildLandlockRuleset(policy, features_.landlock_abi);
    if (!rs.ok()) return rs.error();
    prep.ruleset = std::move(*rs);
    prep.enforced += prep.ruleset.description;
  } else {
    prep.enforced += "landlock: not enforced (--no-landlock)\n";
  }
  if (getrandom(&prep.cookie, sizeof prep.cookie, 0) != sizeof prep.cookie) {
    return ErrnoError("getrandom");
  }
  const SyscallDef* sendmsg = registry_.table().FindByName("sendmsg");
  if (sendmsg == nullptr) throw Fatal("syscall table has no sendmsg");
  auto filter = FilterBuilder(registry_.table())
                    .DenyList()
                    .Notify(registry_.NotifyRules())
                    .ExemptWithCookie(sendmsg->nr, 5, prep.cookie)
                    .Build();
  if (!filter.ok()) return filter.error();
  prep.filter = std::move(*filter);
  prep.enforced += FilterDescription(registry_);

  SpawnRequest req;
  req.argv = o.argv;
  if (o.env.empty()) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      if (std::strncmp(*e, "TMPDIR=", 7) != 0) req.env.emplace_back(*e);
    }
  } else {
    for (const auto& e : o.env) {
      if (e.rfind("TMPDIR=", 0) != 0) req.env.push_back(e);
    }
  }
  req.env.push_back("TMPDIR=" + prep.tmpdir->path());
  req.workdir = prep.workdir;
  req.filter = prep.filter;
  req.seccomp_flags = features_.wait_killable_recv ? SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0;
  req.landlock_fd = prep.ruleset.fd.valid() ? prep.ruleset.fd.get() : -1;
  req.cookie_nr = sendmsg->nr;
  req.cookie_arg = 5;
  req.cookie = prep.cookie;
  req.foreground_tty = o.foreground_tty;
  req.nofile = fd_limit.for_command();

  // Signals first, so no SIGCHLD or SIGINT is missed between fork and poll.
  sigset_t set = SupervisorSignals(), old_mask;
  pthread_sigmask(SIG_BLOCK, &set, &old_mask);
  UniqueFd sigfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  int old_subreaper = 0;
  prctl(PR_GET_CHILD_SUBREAPER, &old_subreaper);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  auto restore = [&] {
    // Swallow what is still pending so that unblocking does not act on it.
    signalfd_siginfo si;
    while (sigfd.valid() && read(sigfd.get(), &si, sizeof si) == sizeof si) {
    }
    prctl(PR_SET_CHILD_SUBREAPER, old_subreaper);
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  };
  if (!sigfd.valid()) {
    Error e = ErrnoError("signalfd");
    restore();
    return e;
  }

  auto spawned = Spawn(req);
  prep.ruleset.fd.reset();
  if (!spawned.ok()) {
    restore();
    return spawned.error();
  }
  SpawnedChild child = std::move(*spawned);
  ProbeListener(child.listener.get(), o.sync_wake_up, features_);
  Listener listener(std::move(child.listener), features_.sizes, features_.addfd_send);
  // After the listener, so it is destroyed (its threads joined) first.
  WaitingOpens waiting(listener);
  if (features_.sync_wake_up && o.sync_wake_up) prep.enforced += "seccomp: sync_wake_up on\n";

  RunResult result;
  result.enforced = prep.enforced;
  MemFdCache mem;
  CwdCache cwd;
  ProcIdsCache proc_ids;
  // The syscalls after which no cached cwd is trusted (see CwdCache).
  std::vector<bool> moves_dirs(static_cast<size_t>(NativeSyscalls().nr_limit()), false);
  for (const char* name : {"chdir", "fchdir", "rename", "renameat", "renameat2", "rmdir"}) {
    if (const SyscallDef* d = NativeSyscalls().FindByName(name)) moves_dirs[d->nr] = true;
  }
  const SyscallDef* unlinkat_def = NativeSyscalls().FindByName("unlinkat");
  // The cache is safe only if every such call reaches the supervisor: the
  // handler sets must notify each of them, every time (the COW set does).
  bool cwd_cacheable = unlinkat_def != nullptr;
  {
    std::vector<bool> notified_always(moves_dirs.size(), false);
    for (const NotifyRule& rule : registry_.NotifyRules()) {
      if (!rule.when && rule.nr >= 0 && static_cast<size_t>(rule.nr) < notified_always.size()) {
        notified_always[rule.nr] = true;
      }
    }
    for (size_t nr = 0; nr < moves_dirs.size(); ++nr) {
      if (moves_dirs[nr] && !notified_always[nr]) cwd_cacheable = false;
    }
    if (unlinkat_def != nullptr && !notified_always[unlinkat_def->nr]) cwd_cacheable = false;
  }
  auto may_move_dirs = [&](const Notification& n) {
    if (n.arch != NativeSyscalls().audit_arch()) return false;
    if (n.nr >= 0 && static_cast<size_t>(n.nr) < moves_dirs.size() && moves_dirs[n.nr]) {
      return true;
    }
    return unlinkat_def != nullptr && n.nr == unlinkat_def->nr && (n.args[2] & AT_REMOVEDIR);
  };
  uint64_t seq = 0;
  bool root_done = false;
  int root_status = 0;

  // One reaped process: remember the command's status, tell the observer.
  auto on_exit = [&](pid_t p, int st) {
    mem.Forget(p);
    cwd.Forget(p);
    proc_ids.Forget(p);
    cwd.Settle(p);
    if (p == child.watchdog) {
      child.watchdog = -1;
      return;
    }
    if (p == child.pid) {
      root_done = true;
      root_status = st;
    }
    if (observer_ != nullptr && (WIFEXITED(st) || WIFSIGNALED(st))) {
      ProcessEvent ev;
      ev.kind = ProcessEvent::Kind::kExit;
      ev.pid = p;
      ev.time = NowNs();
      ev.root = p == child.pid;
      if (WIFEXITED(st)) ev.exit_status = WEXITSTATUS(st);
      if (WIFSIGNALED(st)) {
        ev.signal = WTERMSIG(st);
        ev.core_dumped = WCOREDUMP(st);
      }
      observer_->OnProcessEvent(ev);
    }
  };
  auto reap = [&] {
    for (;;) {
      int st = 0;
      pid_t p = waitpid(-1, &st, WNOHANG | __WALL);
      if (p <= 0) break;
      on_exit(p, st);
    }
  };

  auto read_status = [&] {
    ChildFailure f{};
    ssize_t n = read(child.status.get(), &f, sizeof f);
    if (n == static_cast<ssize_t>(sizeof f)) result.exec_error = DescribeChildFailure(f, o.argv[0]);
    if (n == 0 || n == static_cast<ssize_t>(sizeof f)) child.status.reset();
  };

  // The clock's last reading: each notification takes four (received,
  // handler start and end, response sent), and the loop sizes its waits and
  // runs its ticks from the last of them instead of asking again.
  uint64_t last_now = NowNs();
  auto handle_one = [&] {
    Notification n;
    Status r = listener.Recv(n);
    NotificationTimes times;
    times.received = NowNs();
    if (!r.ok()) {
      if (r.code() == ENOENT) return;  // the target died before we got it
      throw Fatal(r.error().Message());
    }
    n.seq = seq++;
    ++result.notifications;
    const auto tid = static_cast<pid_t>(n.tid);
    cwd.Settle(tid);
    if (may_move_dirs(n)) cwd.Unsettle(tid);
    LiveTracee live(listener, mem, n.id, tid, cwd_cacheable ? &cwd : nullptr, &proc_ids);
    Tracee& tracee = observer_ != nullptr ? observer_->WrapTracee(n, live) : live;
    times.handler_start = NowNs();
    DispatchResult dr;
    try {
      dr = registry_.Dispatch(n, tracee);
    } catch (...) {
      // Fail the syscall rather than let it run unsupervised; then abort.
      (void)listener.SendErrno(n.id, ENOSYS);
      throw;
    }
    times.handler_end = NowNs();
    Response resp;
    Status sent = OkStatus();
    const Decision& d = dr.decision;
    // The decision cannot be delivered as made: the syscall fails with
    // `child_errno` instead (never a CONTINUE in its place).
    auto fail_with = [&](int child_errno) {
      resp.outcome = ResponseOutcome::kFailed;
      resp.error = child_errno;
      ++result.failed;
      Status s = listener.SendErrno(n.id, child_errno);
      if (!s.ok() && s.code() != ENOENT) throw Fatal(s.error().Message());
      return OkStatus();
    };
    switch (d.kind) {
      case DecisionKind::kContinue:
        sent = listener.SendContinue(n.id);
        break;
      case DecisionKind::kReturn:
        sent = listener.SendReturn(n.id, d.value);
        break;
      case DecisionKind::kErrno:
        if (d.error <= 0 || d.error > 4095) {
          (void)listener.SendErrno(n.id, ENOSYS);
          throw Fatal("handler returned errno " + std::to_string(d.error) + " for " +
                      registry_.table().NameOf(n.nr));
        }
        sent = listener.SendErrno(n.id, d.error);
        break;
      case DecisionKind::kInjectFd: {
        if (!d.fd.valid()) {
          (void)listener.SendErrno(n.id, ENOSYS);
          throw Fatal("handler asked to inject an invalid fd for " +
                      registry_.table().NameOf(n.nr));
        }
        if (d.file.waits) {
          // The open may block: a thread of its own makes it and answers.
          UniqueFd path_fd(fcntl(d.fd.get(), F_DUPFD_CLOEXEC, 3));
          Status started = path_fd.valid() ? waiting.Start(n.id, tid, std::move(path_fd),
                                                           d.file.open_flags, d.file.fd_flags)
                                           : ErrnoError("dup");
          if (started.ok()) {
            resp.outcome = ResponseOutcome::kWaiting;
            ++result.waited;
          } else {
            sent = fail_with(started.code());
          }
          break;
        }
        auto fd = listener.AddFdAndSend(n.id, d.fd.get(), d.file.fd_flags);
        if (fd.ok()) {
          resp.child_fd = *fd;
        } else if (fd.code() != ENOENT) {
          sent = fail_with(fd.code());  // the syscall fails with the reason
        } else {
          sent = fd.error();
        }
        break;
      }
      case DecisionKind::kRestart: {
        Status s = RestartWithArg(listener, n.id, static_cast<pid_t>(n.tid), n.nr, d.arg,
                                  static_cast<uint64_t>(d.value), d.arg2, d.value2);
        if (s.ok() || s.code() == ENOENT) {
          sent = s;
          break;
        }
        // Not restarted: the syscall fails with the handler's fallback.
        if (result.restart_error.empty()) {
          result.restart_error = registry_.table().NameOf(n.nr) + " could not be restarted (" +
                                 s.error().Message() + "); it failed with " +
                                 (strerrorname_np(d.error) ? strerrorname_np(d.error) : "?");
        }
        sent = fail_with(d.error > 0 && d.error <= 4095 ? d.error : ENOSYS);
        break;
      }
    }
    times.response_sent = NowNs();
    last_now = times.response_sent;
    if (!sent.ok()) {
      if (sent.code() != ENOENT) throw Fatal(sent.error().Message());
      // ENOENT: the task died, or a signal interrupted the syscall.
      char stat_path[64];
      std::snprintf(stat_path, sizeof stat_path, "/proc/%u/stat", n.tid);
      bool alive = false;
      if (UniqueFd fd(open(stat_path, O_RDONLY | O_CLOEXEC)); fd.valid()) {
        char buf[512];
        ssize_t k = read(fd.get(), buf, sizeof buf - 1);
        if (k > 0) {
          buf[k] = 0;
          const char* paren = std::strrchr(buf, ')');
          alive = paren != nullptr && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
        }
      }
      resp.outcome = alive ? ResponseOutcome::kInterrupted : ResponseOutcome::kTargetGone;
      ++(alive ? result.interrupted : result.target_gone);
    }
    if (observer_ != nullptr) observer_->OnNotification(n, dr, resp, times);
    // dr.decision.fd (if any) closes here, after the observer saw it.
  };

  const uint64_t tick_ns = static_cast<uint64_t>(tick_period_.count()) * 1000000ULL;
  uint64_t next_tick = tick_ ? last_now + tick_ns : 0;
  auto maybe_tick = [&] {
    if (!tick_ || last_now < next_tick) return;
    tick_();
    last_now = NowNs();
    next_tick = last_now + tick_ns;
  };
  constexpr int kSweepMs = 250;  // reaps even if another thread swallowed SIGCHLD
  constexpr int kWaitingSweepMs = 20;
  // Children waiting in a FIFO open are looked after every kWaitingSweepMs
  // (not at every notification: a sweep reads /proc/<tid>/status).
  uint64_t next_sweep = 0;
  auto maybe_sweep = [&] {
    if (waiting.empty() || last_now < next_sweep) return;
    waiting.Sweep();
    next_sweep = last_now + static_cast<uint64_t>(kWaitingSweepMs) * 1000000ULL;
  };
  try {
    if (observer_ != nullptr) {
      ProcessEvent ev;
      ev.kind = ProcessEvent::Kind::kSpawn;
      ev.pid = child.pid;
      ev.time = NowNs();
      ev.argv = o.argv;
      ev.root = true;
      observer_->OnProcessEvent(ev);
    }
    bool listener_open = true;
    while (!root_done && result.stop_signal == 0) {
      pollfd fds[4] = {
          {listener_open ? listener.fd() : -1, POLLIN, 0},
          {child.pidfd.valid() ? child.pidfd.get() : -1, POLLIN, 0},
          {sigfd.get(), POLLIN, 0},
          {child.status.valid() ? child.status.get() : -1, POLLIN, 0},
      };
      int timeout = waiting.empty() ? kSweepMs : kWaitingSweepMs;
      if (tick_) {
        const uint64_t now = last_now;
        int until = next_tick > now ? static_cast<int>((next_tick - now + 999999) / 1000000) : 0;
        timeout = std::min(timeout, until);
      }
      int pr = poll(fds, 4, timeout);
      if (pr < 0 && errno != EINTR) ThrowErrno("poll");
      if (pr <= 0) {
        last_now = NowNs();
        maybe_sweep();
        maybe_tick();
        reap();
        continue;
      }
      if (fds[0].revents & POLLIN) {
        handle_one();
      } else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
        listener_open = false;  // no task uses the filter any more
      }
      if (fds[2].revents & POLLIN) {
        signalfd_siginfo si;
        while (read(sigfd.get(), &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP) {
            result.stop_signal = static_cast<int>(si.ssi_signo);
          }
        }
        reap();
      }
      if (fds[1].revents & POLLIN) reap();
      if (fds[3].revents & (POLLIN | POLLHUP)) read_status();
      if (!(fds[0].revents & POLLIN)) last_now = NowNs();  // no notification read the clock
      maybe_sweep();
      maybe_tick();
    }
  } catch (const std::exception& e) {
    result.abort_error = e.what();
  }

  // End of the run: nothing the command left behind survives it.
  KillTree(child.pid, child.watchdog);  // the watchdog dies with the group; no walk into it
  for (;;) {
    int st = 0;
    pid_t p = waitpid(-1, &st, __WALL);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) break;
    try {
      on_exit(p, st);
    } catch (const std::exception& e) {
      if (result.abort_error.empty()) result.abort_error = e.what();
    }
  }
  waiting.CancelAll();  // their children are gone: nobody to answer
  if (child.status.valid()) read_status();
  if (child.tty_fd >= 0) tcsetpgrp(child.tty_fd, getpgrp());  // SIGTTOU is blocked
  child.watchdog_pipe.reset();
  restore();

  if (WIFEXITED(root_status)) {
    result.exited = true;
    result.status = WEXITSTATUS(root_status);
    result.exit_code = result.status;
  } else if (WIFSIGNALED(root_status)) {
    result.term_signal = WTERMSIG(root_status);
    result.exit_code = 128 + result.term_signal;
  }
  if (result.stop_signal != 0) result.exit_code = 128 + result.stop_signal;
  return result;
}

}  // namespace sandtrace
