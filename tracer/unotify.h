// Listener: the supervisor's end of the seccomp user-notification channel.
//
// Raw ioctls on the listener fd (libseccomp 2.5.4 has no ADDFD wrapper, and
// its notification helpers allocate per call). Expected outcomes are values:
// ENOENT from RECV / SEND / ADDFD means the target is gone or its syscall was
// interrupted, and is returned as an error code, never thrown.
//
// Ownership: owns the listener fd and the RECV buffer; buffers are sized
// with SECCOMP_GET_NOTIF_SIZES (the kernel's structs may be larger than the
// build headers' ones). Thread-safety: Recv from one thread (the supervisor
// loop); IdValid, the Send* and AddFdAndSend from any (a WaitingOpens thread
// answers its own notification).
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"
#include "tracer/core/notification.h"

namespace sandtrace {

class Listener {
 public:
  Listener(UniqueFd fd, const seccomp_notif_sizes& sizes, bool addfd_send);

  int fd() const { return fd_.get(); }

  // Receives one pending notification into `out` (seq is left as is).
  // ENOENT: the target died before we got it. EINTR is retried.
  Status Recv(Notification& out);

  // SECCOMP_IOCTL_NOTIF_ID_VALID.
  bool IdValid(uint64_t id) const;

  // Responses. ENOENT: target gone or interrupted.
  Status SendContinue(uint64_t id);
  Status SendReturn(uint64_t id, int64_t value);
  Status SendErrno(uint64_t id, int error);
  // Installs `srcfd` in the target and makes its syscall return the new fd
  // number, atomically (ADDFD + SEND). newfd_flags is O_CLOEXEC or 0. Returns
  // the child's fd number. Call it with signals that run handlers blocked:
  // the kernel marks the notification answered, then waits interruptibly
  // for the child to take the file, and a signal in that wait withdraws the
  // file but not the answer (the child's syscall returns 0; retrying finds
  // EINPROGRESS).
  Result<int> AddFdAndSend(uint64_t id, int srcfd, uint32_t newfd_flags);

 private:
  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  Status Send(uint64_t id, int64_t val, int32_t error, uint32_t flags);

  UniqueFd fd_;
  size_t notif_size_;
  size_t resp_size_;
  bool addfd_send_;
  static constexpr size_t kLocalResp = 128;  // the kernel's is 24 bytes (6.x)
  std::unique_ptr<seccomp_notif, FreeDeleter> notif_;
};

}  // namespace sandtrace
