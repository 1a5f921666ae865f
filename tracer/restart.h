// Re-entering a notified syscall with one argument changed.
//
// A seccomp notification cannot change the syscall's arguments: the handler
// can only CONTINUE it, answer it, or install fds. When the kernel must see a
// different argument (an exec of a file of the view by a path string too
// short, or read-only, to be rewritten in place; see cow_session.h), the
// supervisor makes the syscall run again:
//
//   1. PTRACE_SEIZE the notifying thread and PTRACE_INTERRUPT it (it stays
//      blocked in the notification: after RECV its wait is killable only);
//   2. answer the notification with -ERESTARTNOINTR;
//   3. on its way back to user space the thread stops for the interrupt (or
//      for a signal that arrived meanwhile, which is passed on at detach);
//      there, with the restart pending (rax = -ERESTARTNOINTR, orig_rax =
//      the syscall), the argument register gets its new value;
//   4. PTRACE_DETACH: the kernel rewinds the instruction pointer and enters
//      the syscall again, and a new notification comes.
//
// The thread is traced for those few microseconds only (its TracerPid shows
// the supervisor meanwhile). x86_64 only: on aarch64 the first argument
// register is also the return register and is restored from orig_x0, which
// ptrace cannot set. Everything here runs on the supervisor's one thread,
// before its reaper can see the stops.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "tracer/base/result.h"

namespace sandtrace {

class Listener;

// Restarts the syscall `nr` of notification `id` from thread `tid` with
// argument `arg` (0-5) set to `value`.
// Ok: the syscall will be entered again (the notification is answered).
// ENOENT: the notification or the thread is gone (also answered).
// Any other error: nothing was done; the notification is still pending and
// the caller must answer it.
// `arg2` (-1: none) is set to `value2` at the same time.
Status RestartWithArg(Listener& listener, uint64_t id, pid_t tid, int nr, int arg, uint64_t value,
                      int arg2 = -1, uint64_t value2 = 0);

}  // namespace sandtrace
