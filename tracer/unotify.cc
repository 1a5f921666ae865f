#include "tracer/unotify.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tracer/base/errors.h"
#include "tracer/core/kernel_abi.h"

namespace sandtrace {

Listener::Listener(UniqueFd fd, const seccomp_notif_sizes& sizes, bool addfd_send)
    : fd_(std::move(fd)),
      notif_size_(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif))),
      resp_size_(std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp))),
      addfd_send_(addfd_send),
      notif_(static_cast<seccomp_notif*>(std::calloc(1, notif_size_))) {
  if (!notif_) throw Fatal("out of memory for notification buffers");
}

Status Listener::Recv(Notification& out) {
  for (;;) {
    // The kernel rejects a RECV buffer that is not zeroed.
    std::memset(notif_.get(), 0, notif_size_);
    if (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_RECV, notif_.get()) == 0) break;
    if (errno == EINTR) continue;
    return ErrnoError("SECCOMP_IOCTL_NOTIF_RECV");
  }
  const seccomp_notif& n = *notif_;
  out.id = n.id;
  out.tid = n.pid;
  out.arch = n.data.arch;
  out.nr = n.data.nr;
  out.ip = n.data.instruction_pointer;
  for (int i = 0; i < 6; ++i) out.args[i] = n.data.args[i];
  return OkStatus();
}

bool Listener::IdValid(uint64_t id) const {
  return ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

Status Listener::Send(uint64_t id, int64_t val, int32_t error, uint32_t flags) {
  // A buffer of the caller's own: the waiters of WaitingOpens answer from
  // their threads.
  alignas(seccomp_notif_resp) unsigned char local[kLocalResp];
  std::unique_ptr<unsigned char[]> heap;
  unsigned char* buf = local;
  if (resp_size_ > sizeof local) {
    heap.reset(new unsigned char[resp_size_]);
    buf = heap.get();
  }
  std::memset(buf, 0, resp_size_);
  auto* resp = reinterpret_cast<seccomp_notif_resp*>(buf);
  resp->id = id;
  resp->val = val;
  resp->error = error;
  resp->flags = flags;
  for (;;) {
    if (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, resp) == 0) return OkStatus();
    if (errno == EINTR) continue;
    return ErrnoError("SECCOMP_IOCTL_NOTIF_SEND");
  }
}

Status Listener::SendContinue(uint64_t id) {
  return Send(id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}
Status Listener::SendReturn(uint64_t id, int64_t value) { return Send(id, value, 0, 0); }
Status Listener::SendErrno(uint64_t id, int error) { return Send(id, 0, -error, 0); }

Result<int> Listener::AddFdAndSend(uint64_t id, int srcfd, uint32_t newfd_flags) {
  seccomp_notif_addfd addfd{};
  addfd.id = id;
  addfd.flags = addfd_send_ ? SECCOMP_ADDFD_FLAG_SEND : 0;
  addfd.srcfd = static_cast<__u32>(srcfd);
  addfd.newfd = 0;
  addfd.newfd_flags = newfd_flags & O_CLOEXEC;
  int child_fd;
  for (;;) {
    child_fd = ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
    if (child_fd >= 0) break;
    if (errno == EINTR) continue;
    return ErrnoError("SECCOMP_IOCTL_NOTIF_ADDFD");
  }
  if (!addfd_send_) {
    // Pre-5.14 kernels: install, then answer with the number. TODO(security):
    // the fd stays installed if the SEND fails; only the kernel's SEND flag
    // makes this atomic.
    if (Status s = SendReturn(id, child_fd); !s.ok()) return s.error();
  }
  return child_fd;
}

}  // namespace sandtrace
