// WaitingOpens: opens that wait for a FIFO's other end, answered off the
// supervisor's loop.
//
// A handler that needs an open the supervisor would block in (a FIFO the
// workdir had, opened for writing while nobody reads it) decides to inject
// an O_PATH fd of it with InjectedFile::waits. The loop must never block, so
// it hands the notification here: a thread of its own opens the FIFO with
// the child's flags, blocking as the child would natively, then installs the
// file with ADDFD + SEND, or answers with open's errno. The child waits in
// its syscall meanwhile, as it would natively.
//
// While it waits, Sweep() (called by the loop) looks after each child:
//  - its notification no longer valid (the child was killed): the thread's
//    open is interrupted with a signal whose handler does nothing (no
//    SA_RESTART), and the thread ends without answering;
//  - a signal pending for it that the open should yield to (a caught one,
//    or a stop signal; see ShouldInterrupt): the notification is answered
//    -ERESTARTSYS, as the kernel's own FIFO wait would end, so the handler
//    runs and the open restarts (SA_RESTART) or fails with EINTR; the
//    thread's open is interrupted as above. Under WAIT_KILLABLE_RECV only
//    fatal signals end a notification's wait; this is how the others still
//    reach a child that waits here, Sweep's period late at most.
// Exactly one of the thread and Sweep answers (a per-waiter flag decides).
//
// Ownership: owns the threads and the O_PATH fds; borrows the listener,
// which must outlive it. CancelAll (also run by the destructor) interrupts
// and joins every thread. Thread-safety: one thread (the loop) calls the
// methods; the waiters only answer their own notification.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <list>
#include <memory>

#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace {

class Listener;

class WaitingOpens {
 public:
  explicit WaitingOpens(Listener& listener);
  ~WaitingOpens();
  WaitingOpens(const WaitingOpens&) = delete;
  WaitingOpens& operator=(const WaitingOpens&) = delete;

  // Starts a thread that opens `path_fd` (/proc/self/fd/N) with
  // `open_flags` and answers notification `id` of thread `tid` with the
  // result (installed with `fd_flags`). Fails (EAGAIN...) if no thread
  // could be started; the notification is then still the caller's.
  Status Start(uint64_t id, pid_t tid, UniqueFd path_fd, int open_flags, uint32_t fd_flags);

  // See the file comment. Cheap when nothing waits.
  void Sweep();

  // Interrupts every waiter (their notifications are left unanswered: call
  // it once the children are gone) and joins them.
  void CancelAll();

  bool empty() const { return waiters_.empty(); }
  // Opens handed over so far, and those answered -ERESTARTSYS for a signal.
  uint64_t started() const { return started_; }
  uint64_t interrupted() const { return interrupted_; }

  // The signal that interrupts a waiter's open (a real-time one).
  static int WakeSignal();

 private:
  struct Waiter;
  static void Wait(Listener& listener, Waiter& w);

  Listener& listener_;
  std::list<std::unique_ptr<Waiter>> waiters_;
  uint64_t started_ = 0;
  uint64_t interrupted_ = 0;
};

// Whether a thread blocked in a FIFO open would leave it for a signal now:
// /proc/<tid>/status shows a signal pending for the thread (or for its
// process, if it is the only thread), not blocked, and either caught or a
// stop signal the process does not ignore. False if it cannot be read.
bool SignalWouldInterrupt(pid_t tid);

}  // namespace sandtrace
