// SupervisorObserver: how the recorder (and tests, and --stats) see a run.
//
// The supervisor calls, on its loop thread:
//   WrapTracee(n, live)     once per notification, before the handlers run:
//                           return `live`, or a decorator around it (the
//                           recorder's logging Tracee) that the handlers will
//                           use instead; it must stay valid until
//                           OnNotification for the same notification returns;
//   OnNotification(...)     once per notification, after the response, with
//                           the decision, what happened to the response and
//                           four CLOCK_MONOTONIC timestamps;
//   OnProcessEvent(e)       when the root is spawned and when a process is
//                           reaped;
// and, separately, Supervisor's tick callback (e.g. the trace writer's
// 100 ms flush) at least every tick period while the run lasts.
//
// Callbacks must not block for long: the child waits while they run. An
// exception thrown from a callback aborts the run (kExitInternal).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tracer/core/handler_registry.h"
#include "tracer/core/notification.h"
#include "tracer/core/tracee.h"

namespace sandtrace {

enum class ResponseOutcome : uint8_t {
  kSent,         // the child got the decision
  kTargetGone,   // the task died before the response (ENOENT, task gone)
  kInterrupted,  // the syscall was interrupted by a signal (ENOENT, task alive)
  kFailed,       // the response could not be delivered as decided (e.g. ADDFD
                 // failed); the syscall was failed with `error` instead
  kWaiting,      // handed to a thread that waits for a FIFO's other end
                 // (InjectedFile::waits); it answers when its open returns
};

struct Response {
  ResponseOutcome outcome = ResponseOutcome::kSent;
  int error = 0;      // kFailed: the errno the child got
  int child_fd = -1;  // kInjectFd sent: the fd number installed in the child
};

// CLOCK_MONOTONIC nanoseconds.
struct NotificationTimes {
  uint64_t received = 0;       // RECV returned
  uint64_t handler_start = 0;  // just before Dispatch
  uint64_t handler_end = 0;    // Dispatch returned
  uint64_t response_sent = 0;  // SEND / ADDFD returned
};

struct ProcessEvent {
  enum class Kind : uint8_t { kSpawn, kExit };
  Kind kind = Kind::kSpawn;
  pid_t pid = 0;
  uint64_t time = 0;              // CLOCK_MONOTONIC ns
  std::vector<std::string> argv;  // kSpawn: the command
  bool root = false;              // the command itself (not a descendant)
  int exit_status = -1;           // kExit: exit code, or -1 if killed
  int signal = 0;                 // kExit: the signal that killed it, or 0
  bool core_dumped = false;
};

class SupervisorObserver {
 public:
  virtual ~SupervisorObserver() = default;
  virtual Tracee& WrapTracee(const Notification& n, Tracee& live) { return live; }
  // `result.decision.fd` is still open (an injected file can be inspected).
  virtual void OnNotification(const Notification& n, const DispatchResult& result,
                              const Response& response, const NotificationTimes& times) {}
  virtual void OnProcessEvent(const ProcessEvent& event) {}
};

}  // namespace sandtrace
