// Per-notification cost of the supervisor, measured end to end: a helper
// makes N calls of one syscall natively and under Supervisor::Run with one
// handler kind; the added wall time divided by the notifications is the cost.
//
//   bench_tracer_notify [N]   (default 100000; prints one line per case,
//                             then the library-level startup overhead)
//
// Cases: continue (getppid, handler returns CONTINUE), emulate (getppid,
// handler returns a value), emulate+write (getrandom with the seed handlers:
// writes into the child), inject (open of a magic path: ADDFD+SEND of
// /dev/null) — each with and without SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP.
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "tracer/core/seed_handlers.h"
#include "tracer/supervisor.h"

namespace {

using sandtrace::Decision;
using sandtrace::HandlerRegistry;
using sandtrace::Notification;
using sandtrace::Tracee;

double NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

double Native(const std::vector<std::string>& argv) {
  double t0 = NowUs();
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  return NowUs() - t0;
}

struct Case {
  const char* name;
  const char* syscall;  // helper loop kind
  void (*setup)(HandlerRegistry&);
};

void Continue(HandlerRegistry& r) {
  (void)r.AddByName("bench", {"getppid"}, [](const Notification&, Tracee&) {
    return std::optional<Decision>(Decision::Continue());
  });
}
void Emulate(HandlerRegistry& r) {
  (void)r.AddByName("bench", {"getppid"}, [](const Notification&, Tracee&) {
    return std::optional<Decision>(Decision::Return(1));
  });
}
void Seed(HandlerRegistry& r) { (void)sandtrace::AddSeedHandlers(r, 1, false); }
void Inject(HandlerRegistry& r) {
  (void)r.AddByName("bench", {"openat"}, [](const Notification& n, Tracee& t) {
    auto path = sandtrace::ReadPathChecked(t, n.args[1]);
    if (!path.ok() || *path != "/sandtrace-bench") return std::optional<Decision>();
    sandtrace::InjectedFile f;
    f.fd_flags = (n.args[2] & O_CLOEXEC) ? O_CLOEXEC : 0;
    return std::optional<Decision>(
        Decision::Inject(sandtrace::UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC)), f));
  });
}

// open("/sandtrace-bench") is restarted with its path pointing at a copy of
// "/dev/null" below the stack pointer (tracer/restart.h); the second
// notification CONTINUEs. Reported per restarted call (two notifications).
void Restart(HandlerRegistry& r) {
  (void)r.AddByName("bench", {"openat"}, [](const Notification& n, Tracee& t) {
    auto path = sandtrace::ReadPathChecked(t, n.args[1]);
    if (!path.ok() || *path != "/sandtrace-bench") return std::optional<Decision>();
    auto sp = t.ReadStackPointer();
    if (!sp.ok()) return std::optional<Decision>(Decision::Errno(EIO));
    static constexpr char kNull[] = "/dev/null";
    const uint64_t at = (*sp - 128 + 15) & ~uint64_t{15};
    if (!t.WriteMemory(at, std::as_bytes(std::span(kNull))).ok()) {
      return std::optional<Decision>(Decision::Errno(EIO));
    }
    return std::optional<Decision>(Decision::Restart(1, at, ENOENT));
  });
}

}  // namespace

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 100000;
  std::string helper = std::string(BENCH_HELPER);
  sandtrace::BlockSupervisorSignals();
  sandtrace::KernelFeatures features = sandtrace::ProbeKernelFeatures();
  const Case cases[] = {{"continue", "getppid", Continue},
                        {"emulate", "getppid", Emulate},
                        {"emulate+write (getrandom --seed)", "getrandom", Seed},
                        {"inject (ADDFD+SEND)", "open", Inject},
                        {"restart (ptrace; per call, 2 notif.)", "open", Restart}};
  std::printf("per-notification cost, %ld calls per case (added wall time / notifications)\n", n);
  for (const Case& c : cases) {
    std::vector<std::string> argv_run = {helper, "loop", c.syscall, std::to_string(n)};
    double native = 1e18;
    for (int i = 0; i < 3; ++i) native = std::min(native, Native(argv_run));
    for (bool sync : {true, false}) {
      HandlerRegistry reg;
      c.setup(reg);
      sandtrace::Supervisor sup(reg, features);
      sandtrace::RunOptions o;
      o.argv = argv_run;
      o.workdir = "/proc";  // any directory: nothing is written
      o.landlock = false;
      o.foreground_tty = false;
      o.sync_wake_up = sync;
      double best = 1e18;
      uint64_t notes = 0;
      for (int i = 0; i < 3; ++i) {
        double t0 = NowUs();
        auto r = sup.Run(o);
        double t = NowUs() - t0;
        if (!r.ok() || r->exit_code != 0) {
          std::fprintf(stderr, "run failed: %s\n",
                       r.ok() ? r->exec_error.c_str() : r.error().Message().c_str());
          return 1;
        }
        notes = r->notifications;
        best = std::min(best, t);
      }
      // A restarted call makes two notifications: its cost is per call.
      const bool per_call = c.setup == Restart;
      std::printf(
          "%-34s sync_wake_up=%-3s %7.2f us/%s (%llu notifications)\n", c.name,
          sync && sup.features().sync_wake_up ? "on" : "off",
          (best - native) / static_cast<double>(per_call ? static_cast<uint64_t>(n) : notes),
          per_call ? "call" : "notification", static_cast<unsigned long long>(notes));
    }
  }
  // Startup: Supervisor::Run of /bin/true (Landlock + filter + spawn +
  // watchdog + teardown) against fork+exec of /bin/true, 50 runs each.
  {
    HandlerRegistry reg;
    (void)sandtrace::AddSeedHandlers(reg, 1, false);
    sandtrace::Supervisor sup(reg, features);
    sandtrace::RunOptions o;
    o.argv = {"/bin/true"};
    o.workdir = "/proc";
    o.landlock = features.landlock_abi > 0;
    o.foreground_tty = false;
    double bare = 0, traced = 0;
    for (int i = 0; i < 50; ++i) bare += Native(o.argv);
    for (int i = 0; i < 50; ++i) {
      double t0 = NowUs();
      auto r = sup.Run(o);
      traced += NowUs() - t0;
      if (!r.ok() || r->exit_code != 0) {
        std::fprintf(stderr, "startup run failed\n");
        return 1;
      }
    }
    std::printf(
        "startup (library, Landlock %s): Run(/bin/true) %.0f us, fork+exec %.0f us, "
        "overhead %.0f us\n",
        o.landlock ? "on" : "off", traced / 50, bare / 50, (traced - bare) / 50);
  }
  return 0;
}
