#include "tracer/restart.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cerrno>

#include "tracer/base/errors.h"
#include "tracer/core/kernel_abi.h"
#include "tracer/unotify.h"

namespace sandtrace {
namespace {

using kabi::kErestartNoHand;
using kabi::kErestartNoIntr;
using kabi::kErestartSys;

#if defined(__x86_64__)
unsigned long long* ArgRegister(user_regs_struct& regs, int arg) {
  switch (arg) {
    case 0:
      return &regs.rdi;
    case 1:
      return &regs.rsi;
    case 2:
      return &regs.rdx;
    case 3:
      return &regs.r10;
    case 4:
      return &regs.r8;
    case 5:
      return &regs.r9;
  }
  return nullptr;
}

// Waits for `tid` to stop. Returns the signal to pass on at detach (0 for
// the interrupt's own stop), or ENOENT if it exited instead. An exit is
// only peeked at (WNOWAIT): the supervisor's reaper collects it.
Result<int> WaitForStop(pid_t tid) {
  for (;;) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(tid), &info, WSTOPPED | WEXITED | WNOWAIT | __WALL) != 0) {
      if (errno == EINTR) continue;
      return ErrnoError("waitid");
    }
    if (info.si_code == CLD_EXITED || info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
      return Err(ENOENT, "the thread exited");
    }
    int status = 0;
    pid_t w;
    do {
      w = waitpid(tid, &status, __WALL);
    } while (w < 0 && errno == EINTR);
    if (w != tid) return ErrnoError("waitpid");
    if (!WIFSTOPPED(status)) return Err(ENOENT, "the thread exited");
    // A ptrace event stop (the interrupt, or a group stop) carries the
    // event in the high bits; a plain stop is a signal being delivered.
    return (status >> 16) == 0 ? WSTOPSIG(status) : 0;
  }
}
#endif

}  // namespace

Status RestartWithArg(Listener& listener, uint64_t id, pid_t tid, int nr, int arg, uint64_t value,
                      int arg2, uint64_t value2) {
#if !defined(__x86_64__)
  (void)listener, (void)id, (void)tid, (void)nr, (void)arg, (void)value, (void)arg2, (void)value2;
  return Err(ENOSYS, "restarting a syscall with a changed argument is implemented on x86_64 only");
#else
  if (arg < 0 || arg > 5) return Err(EINVAL, "no syscall argument " + std::to_string(arg));
  if (arg2 > 5 || arg2 == arg)
    return Err(EINVAL, "no second syscall argument " + std::to_string(arg2));
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) return ErrnoError("PTRACE_SEIZE");
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    Error e = ErrnoError("PTRACE_INTERRUPT");
    (void)ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
    return e;
  }
  // From here the thread stops on its way out (the interrupt is pending), so
  // it must be waited for and detached whatever the answer does.
  Status sent = listener.SendErrno(id, static_cast<int>(kErestartNoIntr));
  if (!sent.ok() && sent.code() != ENOENT) {
    // As for any other answer that fails so: the run cannot go on.
    throw Fatal(sent.error().Message());
  }
  auto stop = WaitForStop(tid);
  if (!stop.ok()) return stop.code() == ENOENT ? stop.error() : Err(ENOENT, stop.error().Message());
  Status result = sent;
  user_regs_struct regs{};
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0) {
    const long rax = static_cast<long>(regs.rax);
    const bool pending = rax == -kErestartNoIntr || rax == -kErestartSys || rax == -kErestartNoHand;
    // Without WAIT_KILLABLE_RECV the interrupt itself ends the wait (the
    // answer then finds ENOENT) and the syscall is restarted with
    // -ERESTARTSYS: the argument is set all the same, or the same
    // notification would come back forever.
    if (pending && static_cast<long>(regs.orig_rax) == nr) {
      *ArgRegister(regs, arg) = value;
      if (arg2 >= 0) *ArgRegister(regs, arg2) = value2;
      if (ptrace(PTRACE_SETREGS, tid, nullptr, &regs) == 0) result = OkStatus();
    }
  }
  (void)ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<intptr_t>(*stop)));
  if (!result.ok() && result.code() != ENOENT) return Err(ENOENT, result.error().Message());
  return result;
#endif
}

}  // namespace sandtrace
