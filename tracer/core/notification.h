// Value types that flow between the supervisor, the handlers, the recorder
// and replay: one seccomp notification and the decision taken for it.
//
// These are plain values (no kernel handles except the fd to inject), so a
// handler can be driven identically by the live supervisor and by replay.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "tracer/base/unique_fd.h"

namespace sandtrace {

// One seccomp user notification, as the handler sees it.
struct Notification {
  uint64_t seq = 0;   // sandtrace's own sequence number within a run, from 0
  uint64_t id = 0;    // the kernel's notification cookie
  uint32_t tid = 0;   // thread that made the syscall (seccomp_notif.pid)
  uint32_t arch = 0;  // AUDIT_ARCH_* from seccomp_data.arch
  int32_t nr = -1;    // syscall number in that arch
  uint64_t ip = 0;    // instruction pointer at the syscall
  std::array<uint64_t, 6> args{};
};

enum class DecisionKind : uint8_t {
  kContinue,  // let the kernel run the syscall (SECCOMP_USER_NOTIF_FLAG_CONTINUE)
  kReturn,    // fail nothing, return `value` to the child
  kErrno,     // return -error to the child
  kInjectFd,  // install `fd` in the child (ADDFD + SEND); the syscall returns its number
              // (file.waits: once a blocking open of `fd` returns, see InjectedFile)
  kRestart,   // make the child enter the syscall again with argument `arg` set to
              // `value` (and `arg2` to `value2`; a new notification follows); if
              // that cannot be done, the syscall fails with `error` (tracer/restart.h)
};

// Which root an injected file was opened under. Paths are recorded relative
// to that root so traces compare across machines.
enum class FileRoot : uint8_t { kUnknown, kUpper, kLower, kOutside };

struct InjectedFile {
  FileRoot root = FileRoot::kUnknown;
  std::string path;       // relative to root ("" = the root itself); absolute if kOutside
  int open_flags = 0;     // flags the supervisor opened the file with
  uint32_t fd_flags = 0;  // O_CLOEXEC or 0: copied from the child's request, never forced
  // The open waits for the other end of a FIFO: the decision's fd is an
  // O_PATH fd, which the supervisor opens with open_flags on a thread of its
  // own and installs (or fails with open's errno) when that open returns.
  bool waits = false;
};

struct Decision {
  DecisionKind kind = DecisionKind::kContinue;
  int64_t value = 0;    // kReturn; kRestart: the argument's new value
  int error = 0;        // kErrno, positive errno; kRestart: the errno if it cannot restart
  int arg = 0;          // kRestart: which argument (0-5)
  int arg2 = -1;        // kRestart: a second argument to set (0-5), or -1
  uint64_t value2 = 0;  // kRestart: its new value
  InjectedFile file;    // kInjectFd: what was opened
  UniqueFd fd;          // kInjectFd: the open file (not recorded; only its description)

  static Decision Continue() { return Decision{}; }
  static Decision Return(int64_t v) {
    Decision d;
    d.kind = DecisionKind::kReturn;
    d.value = v;
    return d;
  }
  static Decision Errno(int err) {
    Decision d;
    d.kind = DecisionKind::kErrno;
    d.error = err;
    return d;
  }
  static Decision Restart(int arg, uint64_t value, int fallback_errno) {
    Decision d;
    d.kind = DecisionKind::kRestart;
    d.arg = arg;
    d.value = static_cast<int64_t>(value);
    d.error = fallback_errno;
    return d;
  }
  // Two arguments at once (a sockaddr and its length).
  static Decision Restart(int arg, uint64_t value, int arg2, uint64_t value2, int fallback_errno) {
    Decision d = Restart(arg, value, fallback_errno);
    d.arg2 = arg2;
    d.value2 = value2;
    return d;
  }
  static Decision Inject(UniqueFd fd, InjectedFile file) {
    Decision d;
    d.kind = DecisionKind::kInjectFd;
    d.fd = std::move(fd);
    d.file = std::move(file);
    return d;
  }
};

}  // namespace sandtrace
