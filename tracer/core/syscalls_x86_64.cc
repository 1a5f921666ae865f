// The x86_64 syscall table (AUDIT_ARCH_X86_64, the 64-bit ABI; x32 and i386
// syscalls are killed by the filter). Numbers are the kernel's
// arch/x86/entry/syscalls/syscall_64.tbl; roles follow the man pages.
// Sorted by number; checked at compile time below.
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <algorithm>
#include <array>

#include "tracer/core/kernel_abi.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace {
namespace {

using enum ArgRole;
using R = std::array<ArgRole, 6>;

constexpr SyscallDef S(int nr, std::string_view name, R args = {}) {
  return SyscallDef{nr, name, args};
}
// Bypasses the supervisor or the kernel's checks: fails with EPERM.
constexpr SyscallDef Deny(int nr, std::string_view name, R args = {}) {
  return SyscallDef{nr, name, args, SyscallPolicy::kDeny};
}
// Fails with EPERM when args[arg] has any bit of mask set.
constexpr SyscallDef DenyIf(int nr, std::string_view name, R args, uint8_t arg, uint64_t mask) {
  return SyscallDef{nr, name, args, SyscallPolicy::kDenyIfFlags, arg, mask};
}

constexpr auto kDefs = std::to_array<SyscallDef>({
    S(0, "read", {kFd, kBufOut, kSize}),
    S(1, "write", {kFd, kBufIn, kSize}),
    S(2, "open", {kPath, kOpenFlags, kMode}),
    S(3, "close", {kFd}),
    S(4, "stat", {kPath, kStructOut}),
    S(5, "fstat", {kFd, kStructOut}),
    S(6, "lstat", {kPath, kStructOut}),
    S(7, "poll", {kPtr, kUint, kInt}),
    S(8, "lseek", {kFd, kInt, kInt}),
    S(9, "mmap", {kPtr, kSize, kProt, kMmapFlags, kFd, kHex}),
    S(10, "mprotect", {kPtr, kSize, kProt}),
    S(11, "munmap", {kPtr, kSize}),
    S(12, "brk", {kPtr}),
    S(13, "rt_sigaction", {kSignal, kStructIn, kStructOut, kSize}),
    S(14, "rt_sigprocmask", {kInt, kStructIn, kStructOut, kSize}),
    S(15, "rt_sigreturn"),
    S(16, "ioctl", {kFd, kHex, kHex}),
    S(17, "pread64", {kFd, kBufOut, kSize, kInt}),
    S(18, "pwrite64", {kFd, kBufIn, kSize, kInt}),
    S(19, "readv", {kFd, kPtr, kInt}),
    S(20, "writev", {kFd, kPtr, kInt}),
    S(21, "access", {kPath, kInt}),
    S(22, "pipe", {kStructOut}),
    S(23, "select", {kInt, kPtr, kPtr, kPtr, kPtr}),
    S(24, "sched_yield"),
    S(25, "mremap", {kPtr, kSize, kSize, kHex, kPtr}),
    S(26, "msync", {kPtr, kSize, kHex}),
    S(27, "mincore", {kPtr, kSize, kPtr}),
    S(28, "madvise", {kPtr, kSize, kInt}),
    S(29, "shmget", {kHex, kSize, kHex}),
    S(30, "shmat", {kInt, kPtr, kHex}),
    S(31, "shmctl", {kInt, kInt, kPtr}),
    S(32, "dup", {kFd}),
    S(33, "dup2", {kFd, kFd}),
    S(34, "pause"),
    S(35, "nanosleep", {kStructIn, kStructOut}),
    S(36, "getitimer", {kInt, kStructOut}),
    S(37, "alarm", {kUint}),
    S(38, "setitimer", {kInt, kStructIn, kStructOut}),
    S(39, "getpid"),
    S(40, "sendfile", {kFd, kFd, kPtr, kSize}),
    S(41, "socket", {kInt, kInt, kInt}),
    S(42, "connect", {kFd, kStructIn, kSize}),
    S(43, "accept", {kFd, kStructOut, kPtr}),
    S(44, "sendto", {kFd, kBufIn, kSize, kHex, kStructIn, kSize}),
    S(45, "recvfrom", {kFd, kBufOut, kSize, kHex, kStructOut, kPtr}),
    S(46, "sendmsg", {kFd, kStructIn, kHex}),
    S(47, "recvmsg", {kFd, kPtr, kHex}),
    S(48, "shutdown", {kFd, kInt}),
    S(49, "bind", {kFd, kStructIn, kSize}),
    S(50, "listen", {kFd, kInt}),
    S(51, "getsockname", {kFd, kStructOut, kPtr}),
    S(52, "getpeername", {kFd, kStructOut, kPtr}),
    S(53, "socketpair", {kInt, kInt, kInt, kStructOut}),
    S(54, "setsockopt", {kFd, kInt, kInt, kBufIn, kSize}),
    S(55, "getsockopt", {kFd, kInt, kInt, kBufOut, kPtr}),
    // clone(flags, stack, parent_tid, child_tid, tls): the filter can see the
    // flags, so only namespace creation is denied.
    DenyIf(56, "clone", {kCloneFlags, kPtr, kPtr, kPtr, kHex}, 0, kabi::kCloneNamespaceFlags),
    S(57, "fork"),
    S(58, "vfork"),
    S(59, "execve", {kPath, kStrArray, kStrArray}),
    S(60, "exit", {kInt}),
    S(61, "wait4", {kPid, kPtr, kHex, kStructOut}),
    S(62, "kill", {kPid, kSignal}),
    S(63, "uname", {kStructOut}),
    S(64, "semget", {kHex, kInt, kHex}),
    S(65, "semop", {kInt, kPtr, kSize}),
    S(66, "semctl", {kInt, kInt, kInt, kHex}),
    S(67, "shmdt", {kPtr}),
    S(68, "msgget", {kHex, kHex}),
    S(69, "msgsnd", {kInt, kPtr, kSize, kHex}),
    S(70, "msgrcv", {kInt, kPtr, kSize, kInt, kHex}),
    S(71, "msgctl", {kInt, kInt, kPtr}),
    S(72, "fcntl", {kFd, kFcntlCmd, kHex}),
    S(73, "flock", {kFd, kInt}),
    S(74, "fsync", {kFd}),
    S(75, "fdatasync", {kFd}),
    S(76, "truncate", {kPath, kInt}),
    S(77, "ftruncate", {kFd, kInt}),
    S(78, "getdents", {kFd, kBufOut, kSize}),
    S(79, "getcwd", {kBufOut, kSize}),
    S(80, "chdir", {kPath}),
    S(81, "fchdir", {kFd}),
    S(82, "rename", {kPath, kPath}),
    S(83, "mkdir", {kPath, kMode}),
    S(84, "rmdir", {kPath}),
    S(85, "creat", {kPath, kMode}),
    S(86, "link", {kPath, kPath}),
    S(87, "unlink", {kPath}),
    S(88, "symlink", {kString, kPath}),
    S(89, "readlink", {kPath, kBufOut, kSize}),
    S(90, "chmod", {kPath, kMode}),
    S(91, "fchmod", {kFd, kMode}),
    S(92, "chown", {kPath, kInt, kInt}),
    S(93, "fchown", {kFd, kInt, kInt}),
    S(94, "lchown", {kPath, kInt, kInt}),
    S(95, "umask", {kMode}),
    S(96, "gettimeofday", {kStructOut, kStructOut}),
    S(97, "getrlimit", {kInt, kStructOut}),
    S(98, "getrusage", {kInt, kStructOut}),
    S(99, "sysinfo", {kStructOut}),
    S(100, "times", {kStructOut}),
    Deny(101, "ptrace", {kInt, kPid, kPtr, kPtr}),
    S(102, "getuid"),
    S(103, "syslog", {kInt, kBufOut, kInt}),
    S(104, "getgid"),
    S(105, "setuid", {kInt}),
    S(106, "setgid", {kInt}),
    S(107, "geteuid"),
    S(108, "getegid"),
    S(109, "setpgid", {kPid, kPid}),
    S(110, "getppid"),
    S(111, "getpgrp"),
    S(112, "setsid"),
    S(113, "setreuid", {kInt, kInt}),
    S(114, "setregid", {kInt, kInt}),
    S(115, "getgroups", {kInt, kPtr}),
    S(116, "setgroups", {kInt, kPtr}),
    S(117, "setresuid", {kInt, kInt, kInt}),
    S(118, "getresuid", {kPtr, kPtr, kPtr}),
    S(119, "setresgid", {kInt, kInt, kInt}),
    S(120, "getresgid", {kPtr, kPtr, kPtr}),
    S(121, "getpgid", {kPid}),
    S(122, "setfsuid", {kInt}),
    S(123, "setfsgid", {kInt}),
    S(124, "getsid", {kPid}),
    S(125, "capget", {kPtr, kPtr}),
    S(126, "capset", {kPtr, kPtr}),
    S(127, "rt_sigpending", {kStructOut, kSize}),
    S(128, "rt_sigtimedwait", {kStructIn, kStructOut, kStructIn, kSize}),
    S(129, "rt_sigqueueinfo", {kPid, kSignal, kStructIn}),
    S(130, "rt_sigsuspend", {kStructIn, kSize}),
    S(131, "sigaltstack", {kStructIn, kStructOut}),
    S(132, "utime", {kPath, kStructIn}),
    S(133, "mknod", {kPath, kMode, kHex}),
    S(134, "uselib", {kPath}),
    S(135, "personality", {kHex}),
    S(136, "ustat", {kHex, kStructOut}),
    S(137, "statfs", {kPath, kStructOut}),
    S(138, "fstatfs", {kFd, kStructOut}),
    S(139, "sysfs", {kInt, kHex, kHex}),
    S(140, "getpriority", {kInt, kInt}),
    S(141, "setpriority", {kInt, kInt, kInt}),
    S(142, "sched_setparam", {kPid, kStructIn}),
    S(143, "sched_getparam", {kPid, kStructOut}),
    S(144, "sched_setscheduler", {kPid, kInt, kStructIn}),
    S(145, "sched_getscheduler", {kPid}),
    S(146, "sched_get_priority_max", {kInt}),
    S(147, "sched_get_priority_min", {kInt}),
    S(148, "sched_rr_get_interval", {kPid, kStructOut}),
    S(149, "mlock", {kPtr, kSize}),
    S(150, "munlock", {kPtr, kSize}),
    S(151, "mlockall", {kHex}),
    S(152, "munlockall"),
    S(153, "vhangup"),
    S(154, "modify_ldt", {kInt, kPtr, kSize}),
    Deny(155, "pivot_root", {kPath, kPath}),
    S(156, "_sysctl", {kPtr}),
    S(157, "prctl", {kInt, kHex, kHex, kHex, kHex}),
    S(158, "arch_prctl", {kInt, kHex}),
    S(159, "adjtimex", {kPtr}),
    S(160, "setrlimit", {kInt, kStructIn}),
    Deny(161, "chroot", {kPath}),
    S(162, "sync"),
    S(163, "acct", {kPath}),
    S(164, "settimeofday", {kStructIn, kStructIn}),
    Deny(165, "mount", {kString, kPath, kString, kHex, kPtr}),
    Deny(166, "umount2", {kPath, kHex}),
    // System administration that a root child could otherwise do to the host.
    Deny(167, "swapon", {kPath, kHex}),
    Deny(168, "swapoff", {kPath}),
    Deny(169, "reboot", {kHex, kHex, kHex, kPtr}),
    S(170, "sethostname", {kString, kSize}),
    S(171, "setdomainname", {kString, kSize}),
    Deny(172, "iopl", {kInt}),
    Deny(173, "ioperm", {kHex, kHex, kInt}),
    Deny(174, "create_module", {kString, kSize}),
    Deny(175, "init_module", {kPtr, kSize, kString}),
    Deny(176, "delete_module", {kString, kHex}),
    S(177, "get_kernel_syms"),
    S(178, "query_module"),
    S(179, "quotactl", {kHex, kPath, kInt, kPtr}),
    S(180, "nfsservctl"),
    S(181, "getpmsg"),
    S(182, "putpmsg"),
    S(183, "afs_syscall"),
    S(184, "tuxcall"),
    S(185, "security"),
    S(186, "gettid"),
    S(187, "readahead", {kFd, kInt, kSize}),
    S(188, "setxattr", {kPath, kString, kBufIn, kSize, kHex}),
    S(189, "lsetxattr", {kPath, kString, kBufIn, kSize, kHex}),
    S(190, "fsetxattr", {kFd, kString, kBufIn, kSize, kHex}),
    S(191, "getxattr", {kPath, kString, kBufOut, kSize}),
    S(192, "lgetxattr", {kPath, kString, kBufOut, kSize}),
    S(193, "fgetxattr", {kFd, kString, kBufOut, kSize}),
    S(194, "listxattr", {kPath, kBufOut, kSize}),
    S(195, "llistxattr", {kPath, kBufOut, kSize}),
    S(196, "flistxattr", {kFd, kBufOut, kSize}),
    S(197, "removexattr", {kPath, kString}),
    S(198, "lremovexattr", {kPath, kString}),
    S(199, "fremovexattr", {kFd, kString}),
    S(200, "tkill", {kPid, kSignal}),
    S(201, "time", {kPtr}),
    S(202, "futex", {kPtr, kInt, kInt, kPtr, kPtr, kInt}),
    S(203, "sched_setaffinity", {kPid, kSize, kPtr}),
    S(204, "sched_getaffinity", {kPid, kSize, kPtr}),
    S(205, "set_thread_area", {kPtr}),
    S(206, "io_setup", {kUint, kPtr}),
    S(207, "io_destroy", {kHex}),
    S(208, "io_getevents", {kHex, kInt, kInt, kPtr, kPtr}),
    S(209, "io_submit", {kHex, kInt, kPtr}),
    S(210, "io_cancel", {kHex, kPtr, kPtr}),
    S(211, "get_thread_area", {kPtr}),
    S(212, "lookup_dcookie", {kHex, kBufOut, kSize}),
    S(213, "epoll_create", {kInt}),
    S(214, "epoll_ctl_old"),
    S(215, "epoll_wait_old"),
    S(216, "remap_file_pages", {kPtr, kSize, kInt, kInt, kHex}),
    S(217, "getdents64", {kFd, kBufOut, kSize}),
    S(218, "set_tid_address", {kPtr}),
    S(219, "restart_syscall"),
    S(220, "semtimedop", {kInt, kPtr, kSize, kStructIn}),
    S(221, "fadvise64", {kFd, kInt, kInt, kInt}),
    S(222, "timer_create", {kInt, kPtr, kPtr}),
    S(223, "timer_settime", {kInt, kHex, kStructIn, kStructOut}),
    S(224, "timer_gettime", {kInt, kStructOut}),
    S(225, "timer_getoverrun", {kInt}),
    S(226, "timer_delete", {kInt}),
    S(227, "clock_settime", {kInt, kStructIn}),
    S(228, "clock_gettime", {kInt, kStructOut}),
    S(229, "clock_getres", {kInt, kStructOut}),
    S(230, "clock_nanosleep", {kInt, kHex, kStructIn, kStructOut}),
    S(231, "exit_group", {kInt}),
    S(232, "epoll_wait", {kFd, kPtr, kInt, kInt}),
    S(233, "epoll_ctl", {kFd, kInt, kFd, kPtr}),
    S(234, "tgkill", {kPid, kPid, kSignal}),
    S(235, "utimes", {kPath, kStructIn}),
    S(236, "vserver"),
    S(237, "mbind", {kPtr, kSize, kInt, kPtr, kUint, kHex}),
    S(238, "set_mempolicy", {kInt, kPtr, kUint}),
    S(239, "get_mempolicy", {kPtr, kPtr, kUint, kPtr, kHex}),
    S(240, "mq_open", {kString, kOpenFlags, kMode, kStructIn}),
    S(241, "mq_unlink", {kString}),
    S(242, "mq_timedsend", {kFd, kBufIn, kSize, kUint, kStructIn}),
    S(243, "mq_timedreceive", {kFd, kBufOut, kSize, kPtr, kStructIn}),
    S(244, "mq_notify", {kFd, kStructIn}),
    S(245, "mq_getsetattr", {kFd, kStructIn, kStructOut}),
    Deny(246, "kexec_load", {kHex, kUint, kPtr, kHex}),
    S(247, "waitid", {kInt, kPid, kStructOut, kHex, kStructOut}),
    Deny(248, "add_key", {kString, kString, kBufIn, kSize, kInt}),
    Deny(249, "request_key", {kString, kString, kString, kInt}),
    Deny(250, "keyctl", {kInt, kHex, kHex, kHex, kHex}),
    S(251, "ioprio_set", {kInt, kInt, kInt}),
    S(252, "ioprio_get", {kInt, kInt}),
    S(253, "inotify_init"),
    S(254, "inotify_add_watch", {kFd, kPath, kHex}),
    S(255, "inotify_rm_watch", {kFd, kInt}),
    S(256, "migrate_pages", {kPid, kUint, kPtr, kPtr}),
    S(257, "openat", {kDirFd, kPath, kOpenFlags, kMode}),
    S(258, "mkdirat", {kDirFd, kPath, kMode}),
    S(259, "mknodat", {kDirFd, kPath, kMode, kHex}),
    S(260, "fchownat", {kDirFd, kPath, kInt, kInt, kAtFlags}),
    S(261, "futimesat", {kDirFd, kPath, kStructIn}),
    S(262, "newfstatat", {kDirFd, kPath, kStructOut, kAtFlags}),
    S(263, "unlinkat", {kDirFd, kPath, kAtFlags}),
    S(264, "renameat", {kDirFd, kPath, kDirFd, kPath}),
    S(265, "linkat", {kDirFd, kPath, kDirFd, kPath, kAtFlags}),
    S(266, "symlinkat", {kString, kDirFd, kPath}),
    S(267, "readlinkat", {kDirFd, kPath, kBufOut, kSize}),
    S(268, "fchmodat", {kDirFd, kPath, kMode}),
    S(269, "faccessat", {kDirFd, kPath, kInt}),
    S(270, "pselect6", {kInt, kPtr, kPtr, kPtr, kStructIn, kPtr}),
    S(271, "ppoll", {kPtr, kUint, kStructIn, kStructIn, kSize}),
    DenyIf(272, "unshare", {kCloneFlags}, 0, kabi::kUnshareNamespaceFlags),
    S(273, "set_robust_list", {kPtr, kSize}),
    S(274, "get_robust_list", {kPid, kPtr, kPtr}),
    S(275, "splice", {kFd, kPtr, kFd, kPtr, kSize, kHex}),
    S(276, "tee", {kFd, kFd, kSize, kHex}),
    S(277, "sync_file_range", {kFd, kInt, kInt, kHex}),
    S(278, "vmsplice", {kFd, kPtr, kSize, kHex}),
    S(279, "move_pages", {kPid, kSize, kPtr, kPtr, kPtr, kHex}),
    S(280, "utimensat", {kDirFd, kPath, kStructIn, kAtFlags}),
    S(281, "epoll_pwait", {kFd, kPtr, kInt, kInt, kStructIn, kSize}),
    S(282, "signalfd", {kFd, kStructIn, kSize}),
    S(283, "timerfd_create", {kInt, kHex}),
    S(284, "eventfd", {kUint}),
    S(285, "fallocate", {kFd, kInt, kInt, kInt}),
    S(286, "timerfd_settime", {kFd, kHex, kStructIn, kStructOut}),
    S(287, "timerfd_gettime", {kFd, kStructOut}),
    S(288, "accept4", {kFd, kStructOut, kPtr, kHex}),
    S(289, "signalfd4", {kFd, kStructIn, kSize, kHex}),
    S(290, "eventfd2", {kUint, kHex}),
    S(291, "epoll_create1", {kHex}),
    S(292, "dup3", {kFd, kFd, kOpenFlags}),
    S(293, "pipe2", {kStructOut, kOpenFlags}),
    S(294, "inotify_init1", {kHex}),
    S(295, "preadv", {kFd, kPtr, kInt, kInt, kInt}),
    S(296, "pwritev", {kFd, kPtr, kInt, kInt, kInt}),
    S(297, "rt_tgsigqueueinfo", {kPid, kPid, kSignal, kStructIn}),
    Deny(298, "perf_event_open", {kStructIn, kPid, kInt, kFd, kHex}),
    S(299, "recvmmsg", {kFd, kPtr, kUint, kHex, kStructIn}),
    S(300, "fanotify_init", {kHex, kHex}),
    S(301, "fanotify_mark", {kFd, kHex, kHex, kDirFd, kPath}),
    S(302, "prlimit64", {kPid, kInt, kStructIn, kStructOut}),
    S(303, "name_to_handle_at", {kDirFd, kPath, kStructOut, kPtr, kAtFlags}),
    Deny(304, "open_by_handle_at", {kFd, kStructIn, kOpenFlags}),
    S(305, "clock_adjtime", {kInt, kPtr}),
    S(306, "syncfs", {kFd}),
    S(307, "sendmmsg", {kFd, kPtr, kUint, kHex}),
    Deny(308, "setns", {kFd, kCloneFlags}),
    S(309, "getcpu", {kPtr, kPtr, kPtr}),
    S(310, "process_vm_readv", {kPid, kPtr, kUint, kPtr, kUint, kHex}),
    Deny(311, "process_vm_writev", {kPid, kPtr, kUint, kPtr, kUint, kHex}),
    S(312, "kcmp", {kPid, kPid, kInt, kHex, kHex}),
    Deny(313, "finit_module", {kFd, kString, kHex}),
    S(314, "sched_setattr", {kPid, kStructIn, kHex}),
    S(315, "sched_getattr", {kPid, kStructOut, kSize, kHex}),
    S(316, "renameat2", {kDirFd, kPath, kDirFd, kPath, kHex}),
    // A filter with its own listener would take precedence over sandtrace's
    // (the newest filter's USER_NOTIF wins) and could CONTINUE anything.
    DenyIf(317, "seccomp", {kInt, kHex, kPtr}, 1, SECCOMP_FILTER_FLAG_NEW_LISTENER),
    S(318, "getrandom", {kBufOut, kSize, kHex}),
    S(319, "memfd_create", {kString, kHex}),
    Deny(320, "kexec_file_load", {kFd, kFd, kSize, kString, kHex}),
    Deny(321, "bpf", {kInt, kPtr, kSize}),
    S(322, "execveat", {kDirFd, kPath, kStrArray, kStrArray, kAtFlags}),
    Deny(323, "userfaultfd", {kHex}),
    S(324, "membarrier", {kInt, kHex, kInt}),
    S(325, "mlock2", {kPtr, kSize, kHex}),
    S(326, "copy_file_range", {kFd, kPtr, kFd, kPtr, kSize, kHex}),
    S(327, "preadv2", {kFd, kPtr, kInt, kInt, kInt, kHex}),
    S(328, "pwritev2", {kFd, kPtr, kInt, kInt, kInt, kHex}),
    S(329, "pkey_mprotect", {kPtr, kSize, kProt, kInt}),
    S(330, "pkey_alloc", {kHex, kHex}),
    S(331, "pkey_free", {kInt}),
    S(332, "statx", {kDirFd, kPath, kAtFlags, kHex, kStructOut}),
    S(333, "io_pgetevents", {kHex, kInt, kInt, kPtr, kPtr, kPtr}),
    S(334, "rseq", {kPtr, kUint, kHex, kHex}),
    S(424, "pidfd_send_signal", {kFd, kSignal, kStructIn, kHex}),
    // io_uring performs file operations without syscalls the filter sees.
    Deny(425, "io_uring_setup", {kUint, kPtr}),
    Deny(426, "io_uring_enter", {kFd, kUint, kUint, kHex, kPtr, kSize}),
    Deny(427, "io_uring_register", {kFd, kUint, kPtr, kUint}),
    Deny(428, "open_tree", {kDirFd, kPath, kHex}),
    Deny(429, "move_mount", {kDirFd, kPath, kDirFd, kPath, kHex}),
    Deny(430, "fsopen", {kString, kHex}),
    Deny(431, "fsconfig", {kFd, kUint, kString, kPtr, kInt}),
    Deny(432, "fsmount", {kFd, kHex, kHex}),
    Deny(433, "fspick", {kDirFd, kPath, kHex}),
    S(434, "pidfd_open", {kPid, kHex}),
    // clone3's flags are in memory the filter cannot read; ENOSYS makes
    // glibc fall back to clone, whose flags it can check.
    SyscallDef{435, "clone3", {kStructIn, kSize}, SyscallPolicy::kDenyEnosys},
    S(436, "close_range", {kFd, kFd, kHex}),
    S(437, "openat2", {kDirFd, kPath, kStructIn, kSize}),
    S(438, "pidfd_getfd", {kFd, kFd, kHex}),
    S(439, "faccessat2", {kDirFd, kPath, kInt, kAtFlags}),
    S(440, "process_madvise", {kFd, kPtr, kSize, kInt, kHex}),
    S(441, "epoll_pwait2", {kFd, kPtr, kInt, kStructIn, kStructIn, kSize}),
    Deny(442, "mount_setattr", {kDirFd, kPath, kAtFlags, kStructIn, kSize}),
    S(443, "quotactl_fd", {kFd, kHex, kInt, kPtr}),
    S(444, "landlock_create_ruleset", {kStructIn, kSize, kHex}),
    S(445, "landlock_add_rule", {kFd, kInt, kStructIn, kHex}),
    S(446, "landlock_restrict_self", {kFd, kHex}),
    S(447, "memfd_secret", {kHex}),
    S(448, "process_mrelease", {kFd, kHex}),
    S(449, "futex_waitv", {kPtr, kUint, kHex, kStructIn, kInt}),
    S(450, "set_mempolicy_home_node", {kPtr, kSize, kInt, kHex}),
    S(451, "cachestat", {kFd, kStructIn, kStructOut, kHex}),
    S(452, "fchmodat2", {kDirFd, kPath, kMode, kAtFlags}),
    S(453, "map_shadow_stack", {kPtr, kSize, kHex}),
    S(454, "futex_wake", {kPtr, kHex, kInt, kHex}),
    S(455, "futex_wait", {kPtr, kHex, kHex, kHex, kStructIn, kInt}),
    S(456, "futex_requeue", {kPtr, kHex, kInt, kInt}),
    S(457, "statmount", {kStructIn, kStructOut, kSize, kHex}),
    S(458, "listmount", {kStructIn, kPtr, kSize, kHex}),
    S(459, "lsm_get_self_attr", {kUint, kStructOut, kPtr, kHex}),
    S(460, "lsm_set_self_attr", {kUint, kStructIn, kSize, kHex}),
    S(461, "lsm_list_modules", {kPtr, kPtr, kHex}),
    S(462, "mseal", {kPtr, kSize, kHex}),
    S(463, "setxattrat", {kDirFd, kPath, kAtFlags, kString, kStructIn, kSize}),
    S(464, "getxattrat", {kDirFd, kPath, kAtFlags, kString, kStructIn, kSize}),
    S(465, "listxattrat", {kDirFd, kPath, kAtFlags, kBufOut, kSize}),
    S(466, "removexattrat", {kDirFd, kPath, kAtFlags, kString}),
    Deny(467, "open_tree_attr", {kDirFd, kPath, kHex, kStructIn, kSize}),
    S(468, "file_getattr", {kDirFd, kPath, kStructOut, kSize, kAtFlags}),
    S(469, "file_setattr", {kDirFd, kPath, kStructIn, kSize, kAtFlags}),
});

// ---- compile-time checks ---------------------------------------------------

constexpr bool SortedAndUniqueByNr() {
  for (size_t i = 1; i < kDefs.size(); ++i) {
    if (kDefs[i - 1].nr >= kDefs[i].nr) return false;
  }
  return kDefs.front().nr >= 0;
}
static_assert(SortedAndUniqueByNr(), "x86_64 table must be sorted by number, no duplicates");

constexpr bool RolesWellFormed() {
  for (const auto& d : kDefs) {
    bool ended = false;
    for (ArgRole r : d.args) {
      if (r == kNone) ended = true;
      if (ended && r != kNone) return false;  // a gap in the argument list
    }
    if (d.policy == SyscallPolicy::kDenyIfFlags && (d.deny_mask == 0 || d.deny_arg >= 6)) {
      return false;
    }
    if (d.name.empty()) return false;
  }
  return true;
}
static_assert(RolesWellFormed());

constexpr int kNrLimit = kDefs.back().nr + 1;

constexpr auto kByNr = [] {
  std::array<int16_t, kNrLimit> a{};
  for (auto& v : a) v = -1;
  for (size_t i = 0; i < kDefs.size(); ++i) a[kDefs[i].nr] = static_cast<int16_t>(i);
  return a;
}();

constexpr auto kByName = [] {
  std::array<int16_t, kDefs.size()> a{};
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<int16_t>(i);
  std::sort(a.begin(), a.end(), [](int16_t x, int16_t y) { return kDefs[x].name < kDefs[y].name; });
  return a;
}();

constexpr bool NamesUnique() {
  for (size_t i = 1; i < kByName.size(); ++i) {
    if (kDefs[kByName[i - 1]].name == kDefs[kByName[i]].name) return false;
  }
  return true;
}
static_assert(NamesUnique(), "syscall names must be unique");

constexpr int NrOf(std::string_view name) {
  for (const auto& d : kDefs) {
    if (d.name == name) return d.nr;
  }
  return -1;
}
// Spot checks against the kernel headers the build machine has.
static_assert(NrOf("openat") == __NR_openat);
static_assert(NrOf("getrandom") == __NR_getrandom);
static_assert(NrOf("clone3") == __NR_clone3);
static_assert(NrOf("io_uring_setup") == __NR_io_uring_setup);
static_assert(NrOf("seccomp") == __NR_seccomp);
static_assert(NrOf("set_mempolicy_home_node") == __NR_set_mempolicy_home_node);
static_assert(NrOf("execve") == __NR_execve && NrOf("exit_group") == __NR_exit_group);

constexpr ArchTable kTable(AUDIT_ARCH_X86_64, "x86_64", kDefs, kByNr, kByName);

}  // namespace

const ArchTable& X86_64Syscalls() { return kTable; }

}  // namespace sandtrace
