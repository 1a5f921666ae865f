#include "tracer/kernel_features.h"

#include <linux/filter.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "tracer/core/kernel_abi.h"

namespace sandtrace {

namespace {

long Seccomp(unsigned op, unsigned flags, void* arg) {
  return syscall(SYS_seccomp, op, flags, arg);
}

constexpr int kAddfdSend = 1;
constexpr int kSyncWakeUp = 2;

// Async-signal-safe (used in a forked child too).
int ProbeListenerBits(int listener_fd, bool enable_sync_wake_up) {
  int bits = 0;
  // ADDFD with SEND for an id that cannot exist: a kernel that knows the flag
  // gets as far as the id lookup (ENOENT); an older one rejects the flag.
  seccomp_notif_addfd addfd{};
  addfd.id = ~0ULL;
  addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
  addfd.srcfd = static_cast<__u32>(listener_fd);
  if (ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0 && errno == ENOENT) {
    bits |= kAddfdSend;
  }
  if (enable_sync_wake_up) {
    __u64 flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
    if (ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0) bits |= kSyncWakeUp;
  }
  return bits;
}

}  // namespace

void ProbeListener(int listener_fd, bool enable_sync_wake_up, KernelFeatures& f) {
  int bits = ProbeListenerBits(listener_fd, enable_sync_wake_up);
  f.addfd_send = bits & kAddfdSend;
  if (enable_sync_wake_up) f.sync_wake_up = bits & kSyncWakeUp;
  f.listener_probed = true;
}

KernelFeatures ProbeKernelFeatures(bool probe_listener) {
  KernelFeatures f;
  utsname u{};
  if (uname(&u) == 0) f.release = u.release;

  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  f.landlock_abi = abi > 0 ? static_cast<int>(abi) : 0;

  __u32 action = SECCOMP_RET_USER_NOTIF;
  f.user_notif = Seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
  if (Seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &f.sizes) != 0) f.user_notif = false;

  // The kernel checks the flags before it reads the program: a NULL program
  // gives EFAULT when the flags are known and EINVAL otherwise. Nothing is
  // installed either way.
  errno = 0;
  long r =
      Seccomp(SECCOMP_SET_MODE_FILTER,
              SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, nullptr);
  f.wait_killable_recv = r < 0 && errno == EFAULT;

  if (probe_listener && f.user_notif) {
    pid_t pid = fork();
    if (pid == 0) {
      // Child: async-signal-safe calls only. Exit code bit 0: addfd_send,
      // bit 1: sync_wake_up, 64: could not create a listener.
      sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
      sock_fprog prog{1, &allow};
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(64);
      long fd = Seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
      if (fd < 0) _exit(64);
      _exit(ProbeListenerBits(static_cast<int>(fd), true));
    }
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
        WEXITSTATUS(status) != 64) {
      f.addfd_send = WEXITSTATUS(status) & kAddfdSend;
      f.sync_wake_up = WEXITSTATUS(status) & kSyncWakeUp;
      f.listener_probed = true;
    }
  }
  return f;
}

std::string KernelFeatures::Describe() const {
  auto yn = [](bool b) { return b ? "yes" : "no"; };
  std::string s = "kernel: " + release + "\n";
  s += "landlock: " + (landlock_abi > 0 ? "ABI " + std::to_string(landlock_abi) : "unavailable") +
       "\n";
  s += std::string("seccomp user notification: ") + yn(user_notif) + "\n";
  s += std::string("seccomp wait_killable_recv: ") + yn(wait_killable_recv) + "\n";
  if (listener_probed) {
    s += std::string("seccomp addfd send: ") + yn(addfd_send) + "\n";
    s += std::string("seccomp sync_wake_up: ") + yn(sync_wake_up) + "\n";
  }
  return s;
}

}  // namespace sandtrace
