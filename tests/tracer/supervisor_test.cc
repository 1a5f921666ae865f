// The supervisor as a library: Run() is called in the test process, which
// forks the sandboxed child; filters and Landlock apply only to that child.
#include "tracer/supervisor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <span>

#include "tests/tracer/test_util.h"
#include "tracer/base/errors.h"
#include "tracer/live_tracee.h"

namespace sandtrace {
namespace {

// Runs `fn` with fd 1 redirected to a file; returns what was written.
template <class Fn>
std::string CaptureStdout(Fn fn) {
  testing::TempDir dir;
  std::string path = dir.path() + "/out";
  fflush(stdout);
  int saved = dup(1);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  dup2(fd, 1);
  close(fd);
  fn();
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  return testing::ReadFile(path);
}

struct Recorder : SupervisorObserver {
  std::vector<Notification> notes;
  std::vector<DispatchResult> decisions;  // (without fds)
  std::vector<Response> responses;
  std::vector<NotificationTimes> times;
  std::vector<ProcessEvent> events;
  int wraps = 0;
  Tracee& WrapTracee(const Notification&, Tracee& live) override {
    ++wraps;
    return live;
  }
  void OnNotification(const Notification& n, const DispatchResult& r, const Response& resp,
                      const NotificationTimes& t) override {
    notes.push_back(n);
    DispatchResult copy;
    copy.decision.kind = r.decision.kind;
    copy.decision.value = r.decision.value;
    copy.decision.error = r.decision.error;
    copy.set = r.set;
    decisions.push_back(std::move(copy));
    responses.push_back(resp);
    times.push_back(t);
  }
  void OnProcessEvent(const ProcessEvent& e) override { events.push_back(e); }
};

class SupervisorTest : public ::testing::Test {
 protected:
  RunOptions Options(std::vector<std::string> argv) {
    RunOptions o;
    o.argv = std::move(argv);
    o.workdir = work_.path();
    o.landlock = features_.landlock_abi > 0;
    o.foreground_tty = false;
    return o;
  }
  RunResult MustRun(Supervisor& s, const RunOptions& o) {
    auto r = s.Run(o);
    if (!r.ok()) throw Fatal(r.error().Message());
    return *r;
  }
  KernelFeatures features_ = ProbeKernelFeatures();
  testing::TempDir work_;
};

Handler MagicFile(const std::string& contents) {
  return [contents](const Notification& n, Tracee& t) -> std::optional<Decision> {
    auto path = ReadPathChecked(t, n.args[1]);
    if (!path.ok() || *path != "/sandtrace-magic") return std::nullopt;
    UniqueFd fd(memfd_create("magic", MFD_CLOEXEC));
    if (pwrite(fd.get(), contents.data(), contents.size(), 0) < 0) return Decision::Errno(EIO);
    InjectedFile f;
    f.root = FileRoot::kOutside;
    f.path = "magic";
    f.fd_flags = (n.args[2] & O_CLOEXEC) ? O_CLOEXEC : 0;
    return Decision::Inject(std::move(fd), f);
  };
}

TEST_F(SupervisorTest, HandlerReturnValueReachesTheChild) {
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("t", {"getppid"},
                            [](const Notification&, Tracee&) {
                              return std::optional<Decision>(Decision::Return(4242));
                            })
                  .ok());
  Supervisor sup(reg, features_);
  Recorder rec;
  sup.set_observer(&rec);
  RunResult r;
  std::string out = CaptureStdout([&] { r = MustRun(sup, Options({TC_GETPPID, "3"})); });
  EXPECT_EQ(out, "4242\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.exited);
  ASSERT_GE(rec.notes.size(), 3u);
  EXPECT_EQ(r.notifications, rec.notes.size());
  EXPECT_EQ(rec.wraps, static_cast<int>(rec.notes.size()));
  for (size_t i = 0; i < rec.notes.size(); ++i) {
    EXPECT_EQ(rec.notes[i].seq, i);
    EXPECT_EQ(rec.notes[i].nr, __NR_getppid);
    EXPECT_EQ(rec.notes[i].arch, AUDIT_ARCH_X86_64);
    EXPECT_EQ(rec.decisions[i].decision.value, 4242);
    EXPECT_EQ(rec.responses[i].outcome, ResponseOutcome::kSent);
    const auto& t = rec.times[i];
    EXPECT_LE(t.received, t.handler_start);
    EXPECT_LE(t.handler_start, t.handler_end);
    EXPECT_LE(t.handler_end, t.response_sent);
  }
  ASSERT_GE(rec.events.size(), 2u);
  EXPECT_EQ(rec.events.front().kind, ProcessEvent::Kind::kSpawn);
  EXPECT_TRUE(rec.events.front().root);
  EXPECT_EQ(rec.events.back().kind, ProcessEvent::Kind::kExit);
  EXPECT_EQ(rec.events.back().exit_status, 0);
}

TEST_F(SupervisorTest, ProcessIdsAskedAgainAreTheSame) {
  // The handlers ask for a task's ids on each of its notifications when it
  // has a virtual cwd; from the third ask on they come from ProcIdsCache.
  HandlerRegistry reg;
  std::vector<ProcIds> seen;
  std::vector<uint32_t> tids;
  ASSERT_TRUE(reg.AddByName("t", {"getppid"},
                            [&](const Notification& n, Tracee& t) {
                              for (int i = 0; i < 2; ++i) {
                                auto ids = t.ReadProcIds();
                                if (ids.ok()) seen.push_back(*ids);
                                tids.push_back(n.tid);
                              }
                              return std::optional<Decision>(Decision::Continue());
                            })
                  .ok());
  Supervisor sup(reg, features_);
  RunResult r;
  CaptureStdout([&] { r = MustRun(sup, Options({TC_GETPPID, "4"})); });
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_EQ(seen.size(), 8u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].tgid, static_cast<pid_t>(tids[i])) << i;
    EXPECT_EQ(seen[i].ppid, seen[0].ppid) << i;
    EXPECT_EQ(seen[i].start_time, seen[0].start_time) << i;
  }
  EXPECT_GT(seen[0].start_time, 0u);
}

TEST(ProcIdsCache, AnswersOnlyWhileTheTaskItWasFilledForLives) {
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipefd[1]);
    char c;
    (void)!read(pipefd[0], &c, 1);
    _exit(0);
  }
  close(pipefd[0]);
  ProcIdsCache cache;
  ProcIds ids;
  ids.tgid = child;
  ids.ppid = getpid();
  ids.start_time = 12345;
  EXPECT_FALSE(cache.WantsPidfd(child));
  cache.Put(child, ids, UniqueFd());  // a first read: remembered, not answered
  EXPECT_TRUE(cache.WantsPidfd(child));
  EXPECT_EQ(cache.Get(child), nullptr);
  long pidfd = syscall(SYS_pidfd_open, child, 0);
  ASSERT_GE(pidfd, 0);
  cache.Put(child, ids, UniqueFd(static_cast<int>(pidfd)));
  const ProcIds* hit = cache.Get(child);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->start_time, 12345u);
  close(pipefd[1]);  // the child exits: its tid may now be reused
  int st = 0;
  ASSERT_EQ(waitpid(child, &st, 0), child);
  EXPECT_EQ(cache.Get(child), nullptr);
  cache.Forget(child);
  EXPECT_FALSE(cache.WantsPidfd(child));
}

TEST_F(SupervisorTest, ArgumentTestsDecideInTheFilterWhatIsNotified) {
  // ioctl is notified only for command 0x12345678 (the low 32 bits: the
  // kernel truncates the command) or any command of type 0x77; everything
  // else goes to the kernel without a notification.
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName(
                     "t", {"ioctl"},
                     [](const Notification&, Tracee&) {
                       return std::optional<Decision>(Decision::Errno(EDOM));
                     },
                     NotifyWhen{{1, 0xffffffff, 0x12345678}, {1, 0xff00, 0x7700}})
                  .ok());
  ASSERT_EQ(reg.NotifyRules().size(), 1u);
  ASSERT_TRUE(reg.NotifyRules()[0].when.has_value());
  Supervisor sup(reg, features_);
  Recorder rec;
  sup.set_observer(&rec);
  RunResult r;
  std::string out = CaptureStdout([&] {
    r = MustRun(
        sup, Options({TC_IOCTL, "12345678", "112345678", "12345679", "7701", "40047702", "5401"}));
  });
  // stdin is not a terminal: the kernel's own answer is ENOTTY.
  EXPECT_EQ(out, "12345678 " + std::to_string(EDOM) + "\n112345678 " + std::to_string(EDOM) +
                     "\n12345679 " + std::to_string(ENOTTY) + "\n7701 " + std::to_string(EDOM) +
                     "\n40047702 " + std::to_string(EDOM) + "\n5401 " + std::to_string(ENOTTY) +
                     "\n");
  EXPECT_EQ(r.exit_code, 0);
  size_t ioctls = 0;
  for (const auto& n : rec.notes) ioctls += n.nr == __NR_ioctl;
  EXPECT_EQ(ioctls, 4u);
  EXPECT_EQ(r.notifications, rec.notes.size());
}

TEST_F(SupervisorTest, NegatedArgumentTestsNotifyEverythingElse) {
  // ioctl is notified for every command but TCGETS (0x5401): that one goes
  // to the kernel (ENOTTY, stdin is no terminal), the others get EDOM.
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName(
                     "t", {"ioctl"},
                     [](const Notification&, Tracee&) {
                       return std::optional<Decision>(Decision::Errno(EDOM));
                     },
                     NotifyWhen{ArgMatch{1, ~uint64_t{0}, 0x5401, /*differs=*/true}})
                  .ok());
  // A negated test compares the whole argument: a mask is refused.
  EXPECT_EQ(
      reg.AddByName(
             "u", {"ioctl"}, [](const Notification&, Tracee&) { return std::optional<Decision>(); },
             NotifyWhen{ArgMatch{1, 0xffff, 0x5401, true}})
          .code(),
      EINVAL);
  Supervisor sup(reg, features_);
  Recorder rec;
  sup.set_observer(&rec);
  RunResult r;
  std::string out = CaptureStdout([&] {
    r = MustRun(sup, Options({TC_IOCTL, "5401", "5402", "12345678"}));
  });
  EXPECT_EQ(out, "5401 " + std::to_string(ENOTTY) + "\n5402 " + std::to_string(EDOM) +
                     "\n12345678 " + std::to_string(EDOM) + "\n");
  size_t ioctls = 0;
  for (const auto& n : rec.notes) ioctls += n.nr == __NR_ioctl;
  EXPECT_EQ(ioctls, 2u);
}

TEST_F(SupervisorTest, AReadCwdFollowsEveryChdirWhetherOrNotChdirIsNotified) {
  // The supervisor keeps each task's cwd between its syscalls only when the
  // handler sets notify every call that can change one (chdir, fchdir,
  // renames, rmdir): with openat alone notified, a chdir goes unseen and
  // nothing may be kept; with them notified, the chdir drops what was kept.
  for (bool notify_chdir : {false, true}) {
    SCOPED_TRACE(notify_chdir ? "chdir notified" : "chdir not notified");
    HandlerRegistry reg;
    std::vector<std::string> cwds;
    ASSERT_TRUE(reg.AddByName("t", {"openat"},
                              [&](const Notification& n, Tracee& t) -> std::optional<Decision> {
                                auto path = ReadPathChecked(t, n.args[1]);
                                if (!path.ok() || *path != "/dev/null") return std::nullopt;
                                auto cwd = t.ReadProcLink(ProcLink::kCwd, 0);
                                cwds.push_back(cwd.ok() ? *cwd : "error");
                                return std::nullopt;
                              })
                    .ok());
    if (notify_chdir) {
      ASSERT_TRUE(
          reg.AddByName("t",
                        {"chdir", "fchdir", "rename", "renameat", "renameat2", "rmdir", "unlinkat"},
                        [](const Notification&, Tracee&) { return std::optional<Decision>(); })
              .ok());
    }
    Supervisor sup(reg, features_);
    RunResult r = MustRun(sup, Options({"/bin/sh", "-c",
                                        "cd / && : </dev/null && cd /tmp && : </dev/null && "
                                        "cd /proc && : </dev/null"}));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(cwds, (std::vector<std::string>{"/", "/tmp", "/proc"}));
  }
}

TEST_F(SupervisorTest, InjectedFdCopiesCloexecFromTheChild) {
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("t", {"openat"}, MagicFile("hello")).ok());
  Supervisor sup(reg, features_);
  Recorder rec;
  sup.set_observer(&rec);
  std::string out = CaptureStdout([&] {
    MustRun(sup, Options({TC_OPEN_READ, "/sandtrace-magic", "cloexec"}));
    MustRun(sup, Options({TC_OPEN_READ, "/sandtrace-magic"}));
  });
  EXPECT_EQ(out, "read 5 [hello] cloexec 1\nread 5 [hello] cloexec 0\n");
  int injected = 0;
  for (size_t i = 0; i < rec.responses.size(); ++i) {
    if (rec.decisions[i].decision.kind == DecisionKind::kInjectFd) {
      ++injected;
      EXPECT_EQ(rec.responses[i].outcome, ResponseOutcome::kSent);
      EXPECT_GE(rec.responses[i].child_fd, 3);
    }
  }
  EXPECT_EQ(injected, 2);
}

// A handler that restarts openat("/sandtrace-short") with its path pointed
// at a copy of "/sandtrace-magic" written below the stack pointer, and
// (with `signal`) sends the thread that signal first, so the restart meets a
// signal being delivered.
Handler RestartShortPath(int signal, Handler next) {
  return [signal, next](const Notification& n, Tracee& t) -> std::optional<Decision> {
    auto path = ReadPathChecked(t, n.args[1]);
    if (!path.ok() || *path != "/sandtrace-short") return next(n, t);
    auto sp = t.ReadStackPointer();
    if (!sp.ok()) return Decision::Errno(EIO);
    static constexpr char kLong[] = "/sandtrace-magic";
    // In the red zone: a signal frame goes under it.
    const uint64_t at = (*sp - 128 + 15) & ~uint64_t{15};
    if (!t.WriteMemory(at, std::as_bytes(std::span(kLong))).ok()) return Decision::Errno(EIO);
    if (signal != 0) syscall(SYS_tkill, n.tid, signal);
    return Decision::Restart(1, at, ENOEXEC);
  };
}

TEST_F(SupervisorTest, RestartEntersTheSyscallAgainWithTheNewArgument) {
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("t", {"openat"}, RestartShortPath(0, MagicFile("hello"))).ok());
  Supervisor sup(reg, features_);
  Recorder rec;
  sup.set_observer(&rec);
  RunResult r;
  std::string out = CaptureStdout([&] {
    r = MustRun(sup, Options({TC_OPEN_READ, "/sandtrace-short"}));
  });
  EXPECT_EQ(out, "read 5 [hello] cloexec 0\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.restart_error.empty()) << r.restart_error;
  // The restart, then the same thread's syscall again, with the new path.
  size_t restarts = 0;
  for (size_t i = 0; i < rec.decisions.size(); ++i) {
    if (rec.decisions[i].decision.kind != DecisionKind::kRestart) continue;
    ++restarts;
    EXPECT_EQ(rec.responses[i].outcome, ResponseOutcome::kSent);
    ASSERT_LT(i + 1, rec.notes.size());
    EXPECT_EQ(rec.notes[i + 1].tid, rec.notes[i].tid);
    EXPECT_EQ(rec.notes[i + 1].nr, __NR_openat);
    EXPECT_EQ(rec.notes[i + 1].args[1], static_cast<uint64_t>(rec.decisions[i].decision.value));
    EXPECT_NE(rec.notes[i + 1].args[1], rec.notes[i].args[1]);
    EXPECT_EQ(rec.decisions[i + 1].decision.kind, DecisionKind::kInjectFd);
  }
  EXPECT_EQ(restarts, 1u);
}

TEST_F(SupervisorTest, RestartPassesOnASignalThatArrivesMeanwhile) {
  // The thread gets SIGUSR1 (with a handler) while the restart is under
  // way: the handler runs, the open still comes back with the new path, and
  // the process is not left traced.
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("t", {"openat"}, RestartShortPath(SIGUSR1, MagicFile("hello"))).ok());
  Supervisor sup(reg, features_);
  const char* script =
      "import os, signal\n"
      "got = []\n"
      "signal.signal(signal.SIGUSR1, lambda *a: got.append(1))\n"
      "fd = os.open('/sandtrace-short', os.O_RDONLY)\n"
      "print(os.read(fd, 5).decode(), len(got))\n"
      "tracer = [l.split()[1] for l in open('/proc/self/status') if l.startswith('TracerPid')]\n"
      "print('tracer', tracer[0])\n";
  RunResult r;
  std::string out = CaptureStdout([&] {
    r = MustRun(sup, Options({"/usr/bin/python3", "-c", script}));
  });
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(out, "hello 1\ntracer 0\n");
}

TEST_F(SupervisorTest, InjectionLeavesEveryCpuMaskAsItWas) {
  // Injections never touch a CPU mask (holding target and supervisor on
  // one CPU around ADDFD would halve its cost on an idle machine, but the
  // child could see the narrowed mask once its syscall returned), nor
  // clobber a mask the child set itself.
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("t", {"openat"}, MagicFile("hello")).ok());
  Supervisor sup(reg, features_);
  cpu_set_t own_before;
  ASSERT_EQ(sched_getaffinity(0, sizeof own_before, &own_before), 0);
  const char* script =
      "import os\n"
      "def opens():\n"
      "    for i in range(50):\n"
      "        os.close(os.open('/sandtrace-magic', os.O_RDONLY))\n"
      "full = os.sched_getaffinity(0)\n"
      "opens()\n"
      "print(os.sched_getaffinity(0) == full, len(full))\n"
      "narrow = {max(full)}\n"
      "os.sched_setaffinity(0, narrow)\n"
      "opens()\n"
      "print(os.sched_getaffinity(0) == narrow)\n";
  RunResult r;
  std::string out = CaptureStdout([&] {
    r = MustRun(sup, Options({"/usr/bin/python3", "-c", script}));
  });
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(out, "True " + std::to_string(CPU_COUNT(&own_before)) + "\nTrue\n");
  cpu_set_t own_after;
  ASSERT_EQ(sched_getaffinity(0, sizeof own_after, &own_after), 0);
  EXPECT_TRUE(CPU_EQUAL(&own_before, &own_after));
}

TEST_F(SupervisorTest, FailedInjectionFailsTheSyscall) {
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("t", {"openat"}, MagicFile("x")).ok());
  Supervisor sup(reg, features_);
  Recorder rec;
  sup.set_observer(&rec);
  std::string out = CaptureStdout([&] { MustRun(sup, Options({TC_EMFILE, "/sandtrace-magic"})); });
  EXPECT_EQ(out, "open -1 errno " + std::to_string(EMFILE) + "\n");
  ASSERT_FALSE(rec.responses.empty());
  EXPECT_EQ(rec.responses.back().outcome, ResponseOutcome::kFailed);
  EXPECT_EQ(rec.responses.back().error, EMFILE);
}

TEST_F(SupervisorTest, NotifiedSendmsgDoesNotBlockTheListenerHandOver) {
  HandlerRegistry reg;
  int calls = 0;
  ASSERT_TRUE(reg.AddByName("t", {"sendmsg", "execve"},
                            [&](const Notification&, Tracee&) {
                              ++calls;
                              return std::optional<Decision>();
                            })
                  .ok());
  Supervisor sup(reg, features_);
  RunResult r = MustRun(sup, Options({"/bin/true"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_GE(calls, 1);  // execve was notified, the handshake's sendmsg was not
}

TEST_F(SupervisorTest, HandlerExceptionAbortsTheRun) {
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("t", {"getppid"},
                            [](const Notification&, Tracee&) -> std::optional<Decision> {
                              throw Fatal("handler bug");
                            })
                  .ok());
  Supervisor sup(reg, features_);
  RunResult r = MustRun(sup, Options({TC_GETPPID, "1000000"}));
  EXPECT_EQ(r.abort_error, "handler bug");
  EXPECT_FALSE(r.exited);  // killed with the tree
}

TEST_F(SupervisorTest, ExitStatusesAndExecFailure) {
  HandlerRegistry reg;
  Supervisor sup(reg, features_);
  EXPECT_EQ(MustRun(sup, Options({"/bin/sh", "-c", "exit 3"})).exit_code, 3);
  RunResult killed = MustRun(sup, Options({"/bin/sh", "-c", "kill -9 $$"}));
  EXPECT_EQ(killed.exit_code, 128 + SIGKILL);
  EXPECT_EQ(killed.term_signal, SIGKILL);
  RunResult missing = MustRun(sup, Options({"/nonexistent/cmd"}));
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_EQ(missing.exec_error, "cannot execute '/nonexistent/cmd': No such file or directory");
  RunResult by_path = MustRun(sup, Options({"sandtrace-no-such-command"}));
  EXPECT_EQ(by_path.exit_code, 127);
  EXPECT_NE(by_path.exec_error.find("sandtrace-no-such-command"), std::string::npos);
}

TEST_F(SupervisorTest, MemoryReadsFollowTheTaskAcrossExec) {
  // sh opens /dev/null (a notified openat caches its /proc/<tid>/mem fd),
  // then execs the helper in the same tid: the old mm is gone and the cached
  // fd must not serve the new image's reads.
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("t", {"openat"}, MagicFile("fresh")).ok());
  Supervisor sup(reg, features_);
  std::string out = CaptureStdout([&] {
    MustRun(sup, Options({"/bin/sh", "-c",
                          std::string(". /dev/null; exec ") + TC_OPEN_READ + " /sandtrace-magic"}));
  });
  EXPECT_EQ(out, "read 5 [fresh] cloexec 0\n");
}

TEST_F(SupervisorTest, TraceeReadsProcLinksAndUmask) {
  HandlerRegistry reg;
  std::string path, cwd;
  mode_t umask_seen = 0;
  ASSERT_TRUE(reg.AddByName("t", {"chdir"},
                            [&](const Notification& n, Tracee& t) {
                              auto p = ReadPathChecked(t, n.args[0]);
                              auto c = t.ReadProcLink(ProcLink::kCwd, 0);
                              auto u = t.ReadUmask();
                              if (p.ok()) path = *p;
                              if (c.ok()) cwd = *c;
                              if (u.ok()) umask_seen = *u;
                              return std::optional<Decision>(Decision::Errno(ENOTDIR));
                            })
                  .ok());
  Supervisor sup(reg, features_);
  std::string out = CaptureStdout([&] {
    MustRun(sup, Options({"/bin/sh", "-c", "umask 027; cd /etc 2>/dev/null || echo refused"}));
  });
  EXPECT_EQ(out, "refused\n");  // the handler's errno reached the child
  EXPECT_EQ(path, "/etc");
  char real[PATH_MAX];
  ASSERT_NE(realpath(work_.path().c_str(), real), nullptr);
  EXPECT_EQ(cwd, real);
  EXPECT_EQ(umask_seen, 027u);
}

TEST_F(SupervisorTest, TargetGoneIsANormalOutcome) {
  // The handler kills its own target (tests only: real handlers never touch
  // the child) and waits until the notification is gone; the response then
  // fails with ENOENT and the run goes on.
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("t", {"getppid"},
                            [](const Notification& n, Tracee& t) {
                              kill(static_cast<pid_t>(n.tid), SIGKILL);
                              for (int i = 0; i < 2000 && t.IdValid(); ++i) usleep(1000);
                              return std::optional<Decision>(Decision::Return(1));
                            })
                  .ok());
  Supervisor sup(reg, features_);
  Recorder rec;
  sup.set_observer(&rec);
  RunResult r = MustRun(sup, Options({TC_GETPPID}));
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  ASSERT_EQ(rec.responses.size(), 1u);
  EXPECT_EQ(rec.responses[0].outcome, ResponseOutcome::kTargetGone);
  EXPECT_EQ(r.target_gone, 1u);
}

TEST_F(SupervisorTest, TickIsCalledDuringTheRun) {
  HandlerRegistry reg;
  Supervisor sup(reg, features_);
  int ticks = 0;
  sup.set_tick(std::chrono::milliseconds(10), [&] { ++ticks; });
  EXPECT_EQ(MustRun(sup, Options({"/bin/sleep", "0.3"})).exit_code, 0);
  EXPECT_GE(ticks, 1);
}

TEST_F(SupervisorTest, BadOptionsAreRefusedBeforeForking) {
  HandlerRegistry reg;
  Supervisor sup(reg, features_);
  if (features_.landlock_abi > 0) {
    RunOptions o = Options({"/bin/true"});
    o.write_paths = {"/"};
    auto r = sup.Run(o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), EINVAL);
  }
  KernelFeatures no_landlock = features_;
  no_landlock.landlock_abi = 0;
  Supervisor sup2(reg, no_landlock);
  RunOptions o = Options({"/bin/true"});
  o.landlock = true;
  auto r = sup2.Run(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().context.find("--no-landlock"), std::string::npos);
  o.landlock = false;
  EXPECT_EQ(MustRun(sup2, o).exit_code, 0);
}

}  // namespace
}  // namespace sandtrace
