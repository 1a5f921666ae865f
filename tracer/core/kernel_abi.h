// Kernel ABI fallbacks: the ONE place where constants and struct layouts
// that are newer than the build machine's kernel headers are defined.
//
// sandtrace builds against Debian bookworm's 6.1 uapi headers but runs on
// newer kernels (Landlock ABI 7, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, ...).
// Everything here is guarded so a newer header wins; values are the kernel's
// uapi values. Whether the running kernel actually has a feature is probed at
// run time (tracer/kernel_features.h), never assumed from these defines.
#pragma once

#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <linux/types.h>
#include <sched.h>
#include <sys/syscall.h>

#include <cstddef>

// ---- seccomp -------------------------------------------------------------

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)  // 5.19
#endif
#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)  // 5.14
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)  // 6.6
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)  // 6.6
#endif

// ---- Landlock ------------------------------------------------------------

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // ABI 5
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)  // ABI 4
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)  // ABI 6
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)  // ABI 7
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2)
#endif

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080  // 5.6
#endif

// ---- pidfd -----------------------------------------------------------------

#ifndef PIDFD_THREAD
#define PIDFD_THREAD 0x80  // 6.9: pidfd_open of a thread (O_EXCL's value)
#endif

namespace sandtrace::kabi {

// struct landlock_ruleset_attr as of ABI 6 (the 6.1 header has only the
// first field). The kernel accepts any size it knows and checks that unknown
// trailing bytes are zero, so passing sizeof(this) works from ABI 6 on; for
// older kernels pass offsetof() the first field they do not know.
struct LandlockRulesetAttr {
  __u64 handled_access_fs;
  __u64 handled_access_net;  // ABI 4
  __u64 scoped;              // ABI 6
};
static_assert(offsetof(LandlockRulesetAttr, handled_access_fs) ==
              offsetof(landlock_ruleset_attr, handled_access_fs));
static_assert(sizeof(landlock_ruleset_attr) <= sizeof(LandlockRulesetAttr));

// Namespace creation flags (CLONE_NEW*). CLONE_NEWTIME shares its bit with
// CSIGNAL in clone(2), so it only counts for unshare(2).
inline constexpr unsigned long kCloneNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
                                                      CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                                      CLONE_NEWNET;
inline constexpr unsigned long kUnshareNamespaceFlags = kCloneNamespaceFlags | CLONE_NEWTIME;

// struct xattr_args of setxattrat/getxattrat (6.13; not in the 6.1 header).
struct XattrArgs {
  __aligned_u64 value;  // address of the value buffer
  __u32 size;
  __u32 flags;  // XATTR_CREATE / XATTR_REPLACE (setxattrat only)
};
static_assert(sizeof(XattrArgs) == 16);

// The legacy getdents(2) record, struct linux_dirent, which no uapi header
// defines: d_name is NUL-terminated, then padding, and the entry's d_type
// is the record's last byte (at d_reclen - 1).
struct LinuxDirent {
  unsigned long d_ino;
  unsigned long d_off;
  unsigned short d_reclen;
  char d_name[1];
};
static_assert(offsetof(LinuxDirent, d_name) == 18);

// Kernel-internal restart codes (include/linux/errno.h): never seen by user
// space, but a supervisor may answer a syscall with one (the kernel then
// restarts it, or fails it with EINTR, as it would have), and they show in
// rax while a restart is pending.
constexpr long kErestartSys = 512;     // restart after an SA_RESTART handler, else EINTR
constexpr long kErestartNoIntr = 513;  // always restart
constexpr long kErestartNoHand = 514;  // restart when no handler runs

}  // namespace sandtrace::kabi
