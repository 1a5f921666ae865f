// Supervisor: runs a command under the sandbox and answers its seccomp
// notifications.
//
// How notifications flow (one thread, the caller's):
//
//   child syscall ─► filter ─USER_NOTIF─► listener ─poll─► Recv (zeroed
//   buffer of SECCOMP_GET_NOTIF_SIZES) ─► observer.WrapTracee(LiveTracee) ─►
//   registry.Dispatch (first handler decision wins, else CONTINUE) ─►
//   respond: CONTINUE | value | errno | ADDFD+SEND ─► observer.OnNotification
//
// The same poll waits on a pidfd for the command, a signalfd (SIGCHLD,
// SIGINT, SIGTERM, SIGHUP), the child's exec-status pipe, and the tick timer.
//
// TOCTOU: what a handler reads from the child may change right after; the
// LiveTracee re-checks ID_VALID after every read, and handlers must never
// CONTINUE a mutating operation on the workdir based on what they read. ENOENT
// from RECV/SEND/ADDFD is a normal outcome (target gone or interrupted):
// whatever the decision held (an fd to inject) is released, the run goes on.
// A failed fd injection fails the syscall with the injection's errno; it
// never falls back to CONTINUE.
//
// Process tree: the caller becomes a child subreaper for the run (restored
// after) and reaps every child of the calling process, so do not run other
// children beside it. The command gets its own process group (and the
// terminal's foreground, when the caller had it); when the command exits,
// whatever it left running is SIGKILLed, and so is the whole tree on
// SIGINT/SIGTERM/SIGHUP to the supervisor (the run then ends with 128+N). If
// the supervisor dies, a watchdog kills the group (tracer/spawn.h).
//
// Signals: Run blocks SIGCHLD, SIGINT, SIGTERM, SIGHUP and SIGTTOU in the
// calling thread and reads them from a signalfd. Other threads must block
// them too (BlockSupervisorSignals() in main before starting threads), or a
// SIGINT may kill the process the default way instead of ending the run
// cleanly. Run must be called from a thread that lives until it returns
// (the child's parent-death signal follows the forking thread).
//
// The supervisor never pins itself to a CPU; with SYNC_WAKE_UP the kernel
// keeps supervisor and child on the same one.
//
// Ownership: borrows the registry and the observer, which must outlive Run.
// Thread-safety: a Supervisor runs one command at a time, on one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tracer/base/result.h"
#include "tracer/core/handler_registry.h"
#include "tracer/kernel_features.h"
#include "tracer/observer.h"

namespace sandtrace {

struct RunOptions {
  std::vector<std::string> argv;         // the command; argv[0] is searched in PATH
  std::string workdir;                   // "" = the current directory
  bool landlock = true;                  // false: run without Landlock (--no-landlock)
  std::vector<std::string> read_paths;   // -r: narrow read+exec (default: everywhere)
  std::vector<std::string> write_paths;  // -w: writable besides /dev nodes and TMPDIR
  // Trees whose existing files the command may open for reading and writing,
  // but where it may create, remove or rename nothing (the COW session's
  // FIFO links, cow/overlay.h Overlay::fifo_dir). Never the workdir.
  std::vector<std::string> open_rw_paths;
  std::vector<std::string> env;  // empty: the caller's environment
  bool sync_wake_up = true;      // use SYNC_WAKE_UP when the kernel has it
  bool foreground_tty = true;    // hand the terminal to the command
};

struct RunResult {
  int exit_code = 0;        // the command's status, 128+N if signal N killed it,
                            // 127 if it could not be executed, 128+N if the run
                            // was ended by signal N to the supervisor
  bool exited = false;      // the command exited (vs was killed)
  int status = -1;          // its exit status if exited
  int term_signal = 0;      // the signal that killed it
  int stop_signal = 0;      // SIGINT/SIGTERM/SIGHUP that ended the run, or 0
  std::string exec_error;   // "cannot execute 'x': No such file or directory"
  std::string abort_error;  // a handler or callback threw; the run was aborted
  uint64_t notifications = 0;
  uint64_t target_gone = 0;
  uint64_t interrupted = 0;
  uint64_t failed = 0;
  uint64_t waited = 0;        // opens answered by a thread that waited for a FIFO
                              // (InjectedFile::waits; WaitingOpens)
  std::string enforced;       // what was enforced (Landlock, filter), multi-line
  std::string restart_error;  // why a syscall could not be restarted with a
                              // changed argument (the first time), or empty
};

// Blocks the signals the supervisor reads from its signalfd, in the calling
// thread (threads created afterwards inherit the mask).
void BlockSupervisorSignals();

class Supervisor {
 public:
  Supervisor(const HandlerRegistry& registry, KernelFeatures features);

  void set_observer(SupervisorObserver* observer) { observer_ = observer; }
  // Calls `tick` at least every `period` while a run lasts (from the loop
  // thread, between notifications).
  void set_tick(std::chrono::milliseconds period, std::function<void()> tick) {
    tick_period_ = period;
    tick_ = std::move(tick);
  }
  const KernelFeatures& features() const { return features_; }

  // Checks the options (Landlock available unless disabled, -w paths) as Run
  // would; EINVAL means a usage error, anything else a system problem.
  Status Check(const RunOptions& options) const;

  // What Run would enforce, multi-line, without running anything.
  Result<std::string> Describe(const RunOptions& options) const;

  // Runs the command to completion. An error means sandtrace itself failed
  // before the command ran (Landlock unavailable, a bad -w, fork failed...);
  // everything that happens to the command is in the RunResult.
  Result<RunResult> Run(const RunOptions& options);

 private:
  const HandlerRegistry& registry_;
  KernelFeatures features_;
  SupervisorObserver* observer_ = nullptr;
  std::chrono::milliseconds tick_period_{0};
  std::function<void()> tick_;
};

}  // namespace sandtrace
