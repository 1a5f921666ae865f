// What the running kernel offers sandtrace, probed at run time (the build
// machine's headers say nothing about that; see tracer/core/kernel_abi.h).
//
// ProbeKernelFeatures() is called once per run (by main or the supervisor's
// owner) and its result passed down by value: there is no cached global.
#pragma once

#include <linux/seccomp.h>

#include <string>

namespace sandtrace {

struct KernelFeatures {
  std::string release;              // uname -r
  int landlock_abi = 0;             // 0: Landlock unavailable or disabled
  bool user_notif = false;          // SECCOMP_RET_USER_NOTIF (5.0)
  bool wait_killable_recv = false;  // SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19)
  // Only known from a listener: filled by ProbeKernelFeatures(true), or by
  // the supervisor on its real listener.
  bool addfd_send = false;    // SECCOMP_ADDFD_FLAG_SEND (5.14)
  bool sync_wake_up = false;  // SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (6.6)
  bool listener_probed = false;
  seccomp_notif_sizes sizes{};  // SECCOMP_GET_NOTIF_SIZES

  // Multi-line human-readable summary ("landlock: ABI 7" ...).
  std::string Describe() const;
};

// Probes without side effects on the calling process. With
// `probe_listener`, also forks a short-lived child that creates a throwaway
// seccomp listener to test ADDFD_FLAG_SEND and SYNC_WAKE_UP (about a
// millisecond); the supervisor does not need that, it probes its own
// listener.
KernelFeatures ProbeKernelFeatures(bool probe_listener = false);

// Probes on a live listener fd (the supervisor's); sets addfd_send,
// sync_wake_up (by trying to enable it when `enable_sync_wake_up`) and
// listener_probed.
void ProbeListener(int listener_fd, bool enable_sync_wake_up, KernelFeatures& features);

}  // namespace sandtrace
