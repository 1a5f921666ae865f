// The aarch64 syscall table (AUDIT_ARCH_AARCH64, the 64-bit ABI; AArch32
// compat tasks report AUDIT_ARCH_ARM and are killed by the filter). arm64
// uses the kernel's generic table: the numbers are those of
// include/uapi/asm-generic/unistd.h with __ARCH_WANT_RENAMEAT, NEW_STAT,
// SET_GET_RLIMIT, SYS_CLONE3 and MEMFD_SECRET, so none of the legacy calls
// (open, stat, rename, mkdir, fork, ...) exist here. Argument roles and
// policies are those of the x86_64 entries of the same names (a filter built
// for aarch64 denies what x86_64 denies), except where the ABI differs: see
// clone. Sorted by number; checked at compile time below, and against the
// asm-generic header by tests/tracer/syscall_table_aarch64_test.cc (this file
// is built on every host, where <sys/syscall.h> has the host's numbers).
#include <linux/audit.h>
#include <linux/seccomp.h>

#include <algorithm>
#include <array>

#include "tracer/core/kernel_abi.h"
#include "tracer/core/syscall_defs.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace {
namespace {

using enum ArgRole;
using syscall_defs::Concat;
using syscall_defs::Deny;
using syscall_defs::DenyIf;
using syscall_defs::Index;
using syscall_defs::kCommonDefs;
using syscall_defs::NrOf;
using syscall_defs::RolesWellFormed;
using syscall_defs::S;
using syscall_defs::SortedAndUniqueByNr;

// Up to 423: this architecture's own numbers (kCommonDefs has the rest).
constexpr auto kOwnDefs = std::to_array<SyscallDef>({
    S(0, "io_setup", {kUint, kPtr}),
    S(1, "io_destroy", {kHex}),
    S(2, "io_submit", {kHex, kInt, kPtr}),
    S(3, "io_cancel", {kHex, kPtr, kPtr}),
    S(4, "io_getevents", {kHex, kInt, kInt, kPtr, kPtr}),
    S(5, "setxattr", {kPath, kString, kBufIn, kSize, kHex}),
    S(6, "lsetxattr", {kPath, kString, kBufIn, kSize, kHex}),
    S(7, "fsetxattr", {kFd, kString, kBufIn, kSize, kHex}),
    S(8, "getxattr", {kPath, kString, kBufOut, kSize}),
    S(9, "lgetxattr", {kPath, kString, kBufOut, kSize}),
    S(10, "fgetxattr", {kFd, kString, kBufOut, kSize}),
    S(11, "listxattr", {kPath, kBufOut, kSize}),
    S(12, "llistxattr", {kPath, kBufOut, kSize}),
    S(13, "flistxattr", {kFd, kBufOut, kSize}),
    S(14, "removexattr", {kPath, kString}),
    S(15, "lremovexattr", {kPath, kString}),
    S(16, "fremovexattr", {kFd, kString}),
    S(17, "getcwd", {kBufOut, kSize}),
    S(18, "lookup_dcookie", {kHex, kBufOut, kSize}),
    S(19, "eventfd2", {kUint, kHex}),
    S(20, "epoll_create1", {kHex}),
    S(21, "epoll_ctl", {kFd, kInt, kFd, kPtr}),
    S(22, "epoll_pwait", {kFd, kPtr, kInt, kInt, kStructIn, kSize}),
    S(23, "dup", {kFd}),
    S(24, "dup3", {kFd, kFd, kOpenFlags}),
    S(25, "fcntl", {kFd, kFcntlCmd, kHex}),
    S(26, "inotify_init1", {kHex}),
    S(27, "inotify_add_watch", {kFd, kPath, kHex}),
    S(28, "inotify_rm_watch", {kFd, kInt}),
    S(29, "ioctl", {kFd, kHex, kHex}),
    S(30, "ioprio_set", {kInt, kInt, kInt}),
    S(31, "ioprio_get", {kInt, kInt}),
    S(32, "flock", {kFd, kInt}),
    S(33, "mknodat", {kDirFd, kPath, kMode, kHex}),
    S(34, "mkdirat", {kDirFd, kPath, kMode}),
    S(35, "unlinkat", {kDirFd, kPath, kAtFlags}),
    S(36, "symlinkat", {kString, kDirFd, kPath}),
    S(37, "linkat", {kDirFd, kPath, kDirFd, kPath, kAtFlags}),
    S(38, "renameat", {kDirFd, kPath, kDirFd, kPath}),
    Deny(39, "umount2", {kPath, kHex}),
    Deny(40, "mount", {kString, kPath, kString, kHex, kPtr}),
    Deny(41, "pivot_root", {kPath, kPath}),
    // Removed from the kernel; the number stays reserved (sys_ni_syscall).
    S(42, "nfsservctl"),
    S(43, "statfs", {kPath, kStructOut}),
    S(44, "fstatfs", {kFd, kStructOut}),
    S(45, "truncate", {kPath, kInt}),
    S(46, "ftruncate", {kFd, kInt}),
    S(47, "fallocate", {kFd, kInt, kInt, kInt}),
    S(48, "faccessat", {kDirFd, kPath, kInt}),
    S(49, "chdir", {kPath}),
    S(50, "fchdir", {kFd}),
    Deny(51, "chroot", {kPath}),
    S(52, "fchmod", {kFd, kMode}),
    S(53, "fchmodat", {kDirFd, kPath, kMode}),
    S(54, "fchownat", {kDirFd, kPath, kInt, kInt, kAtFlags}),
    S(55, "fchown", {kFd, kInt, kInt}),
    S(56, "openat", {kDirFd, kPath, kOpenFlags, kMode}),
    S(57, "close", {kFd}),
    S(58, "vhangup"),
    S(59, "pipe2", {kStructOut, kOpenFlags}),
    S(60, "quotactl", {kHex, kPath, kInt, kPtr}),
    S(61, "getdents64", {kFd, kBufOut, kSize}),
    S(62, "lseek", {kFd, kInt, kInt}),
    S(63, "read", {kFd, kBufOut, kSize}),
    S(64, "write", {kFd, kBufIn, kSize}),
    S(65, "readv", {kFd, kPtr, kInt}),
    S(66, "writev", {kFd, kPtr, kInt}),
    S(67, "pread64", {kFd, kBufOut, kSize, kInt}),
    S(68, "pwrite64", {kFd, kBufIn, kSize, kInt}),
    S(69, "preadv", {kFd, kPtr, kInt, kInt, kInt}),
    S(70, "pwritev", {kFd, kPtr, kInt, kInt, kInt}),
    S(71, "sendfile", {kFd, kFd, kPtr, kSize}),
    S(72, "pselect6", {kInt, kPtr, kPtr, kPtr, kStructIn, kPtr}),
    S(73, "ppoll", {kPtr, kUint, kStructIn, kStructIn, kSize}),
    S(74, "signalfd4", {kFd, kStructIn, kSize, kHex}),
    S(75, "vmsplice", {kFd, kPtr, kSize, kHex}),
    S(76, "splice", {kFd, kPtr, kFd, kPtr, kSize, kHex}),
    S(77, "tee", {kFd, kFd, kSize, kHex}),
    S(78, "readlinkat", {kDirFd, kPath, kBufOut, kSize}),
    S(79, "newfstatat", {kDirFd, kPath, kStructOut, kAtFlags}),
    S(80, "fstat", {kFd, kStructOut}),
    S(81, "sync"),
    S(82, "fsync", {kFd}),
    S(83, "fdatasync", {kFd}),
    S(84, "sync_file_range", {kFd, kInt, kInt, kHex}),
    S(85, "timerfd_create", {kInt, kHex}),
    S(86, "timerfd_settime", {kFd, kHex, kStructIn, kStructOut}),
    S(87, "timerfd_gettime", {kFd, kStructOut}),
    S(88, "utimensat", {kDirFd, kPath, kStructIn, kAtFlags}),
    S(89, "acct", {kPath}),
    S(90, "capget", {kPtr, kPtr}),
    S(91, "capset", {kPtr, kPtr}),
    S(92, "personality", {kHex}),
    S(93, "exit", {kInt}),
    S(94, "exit_group", {kInt}),
    S(95, "waitid", {kInt, kPid, kStructOut, kHex, kStructOut}),
    S(96, "set_tid_address", {kPtr}),
    DenyIf(97, "unshare", {kCloneFlags}, 0, kabi::kUnshareNamespaceFlags),
    S(98, "futex", {kPtr, kInt, kInt, kPtr, kPtr, kInt}),
    S(99, "set_robust_list", {kPtr, kSize}),
    S(100, "get_robust_list", {kPid, kPtr, kPtr}),
    S(101, "nanosleep", {kStructIn, kStructOut}),
    S(102, "getitimer", {kInt, kStructOut}),
    S(103, "setitimer", {kInt, kStructIn, kStructOut}),
    Deny(104, "kexec_load", {kHex, kUint, kPtr, kHex}),
    Deny(105, "init_module", {kPtr, kSize, kString}),
    Deny(106, "delete_module", {kString, kHex}),
    S(107, "timer_create", {kInt, kPtr, kPtr}),
    S(108, "timer_gettime", {kInt, kStructOut}),
    S(109, "timer_getoverrun", {kInt}),
    S(110, "timer_settime", {kInt, kHex, kStructIn, kStructOut}),
    S(111, "timer_delete", {kInt}),
    S(112, "clock_settime", {kInt, kStructIn}),
    S(113, "clock_gettime", {kInt, kStructOut}),
    S(114, "clock_getres", {kInt, kStructOut}),
    S(115, "clock_nanosleep", {kInt, kHex, kStructIn, kStructOut}),
    S(116, "syslog", {kInt, kBufOut, kInt}),
    Deny(117, "ptrace", {kInt, kPid, kPtr, kPtr}),
    S(118, "sched_setparam", {kPid, kStructIn}),
    S(119, "sched_setscheduler", {kPid, kInt, kStructIn}),
    S(120, "sched_getscheduler", {kPid}),
    S(121, "sched_getparam", {kPid, kStructOut}),
    S(122, "sched_setaffinity", {kPid, kSize, kPtr}),
    S(123, "sched_getaffinity", {kPid, kSize, kPtr}),
    S(124, "sched_yield"),
    S(125, "sched_get_priority_max", {kInt}),
    S(126, "sched_get_priority_min", {kInt}),
    S(127, "sched_rr_get_interval", {kPid, kStructOut}),
    S(128, "restart_syscall"),
    S(129, "kill", {kPid, kSignal}),
    S(130, "tkill", {kPid, kSignal}),
    S(131, "tgkill", {kPid, kPid, kSignal}),
    S(132, "sigaltstack", {kStructIn, kStructOut}),
    S(133, "rt_sigsuspend", {kStructIn, kSize}),
    S(134, "rt_sigaction", {kSignal, kStructIn, kStructOut, kSize}),
    S(135, "rt_sigprocmask", {kInt, kStructIn, kStructOut, kSize}),
    S(136, "rt_sigpending", {kStructOut, kSize}),
    S(137, "rt_sigtimedwait", {kStructIn, kStructOut, kStructIn, kSize}),
    S(138, "rt_sigqueueinfo", {kPid, kSignal, kStructIn}),
    S(139, "rt_sigreturn"),
    S(140, "setpriority", {kInt, kInt, kInt}),
    S(141, "getpriority", {kInt, kInt}),
    Deny(142, "reboot", {kHex, kHex, kHex, kPtr}),
    S(143, "setregid", {kInt, kInt}),
    S(144, "setgid", {kInt}),
    S(145, "setreuid", {kInt, kInt}),
    S(146, "setuid", {kInt}),
    S(147, "setresuid", {kInt, kInt, kInt}),
    S(148, "getresuid", {kPtr, kPtr, kPtr}),
    S(149, "setresgid", {kInt, kInt, kInt}),
    S(150, "getresgid", {kPtr, kPtr, kPtr}),
    S(151, "setfsuid", {kInt}),
    S(152, "setfsgid", {kInt}),
    S(153, "times", {kStructOut}),
    S(154, "setpgid", {kPid, kPid}),
    S(155, "getpgid", {kPid}),
    S(156, "getsid", {kPid}),
    S(157, "setsid"),
    S(158, "getgroups", {kInt, kPtr}),
    S(159, "setgroups", {kInt, kPtr}),
    S(160, "uname", {kStructOut}),
    S(161, "sethostname", {kString, kSize}),
    S(162, "setdomainname", {kString, kSize}),
    S(163, "getrlimit", {kInt, kStructOut}),
    S(164, "setrlimit", {kInt, kStructIn}),
    S(165, "getrusage", {kInt, kStructOut}),
    S(166, "umask", {kMode}),
    S(167, "prctl", {kInt, kHex, kHex, kHex, kHex}),
    S(168, "getcpu", {kPtr, kPtr, kPtr}),
    S(169, "gettimeofday", {kStructOut, kStructOut}),
    S(170, "settimeofday", {kStructIn, kStructIn}),
    S(171, "adjtimex", {kPtr}),
    S(172, "getpid"),
    S(173, "getppid"),
    S(174, "getuid"),
    S(175, "geteuid"),
    S(176, "getgid"),
    S(177, "getegid"),
    S(178, "gettid"),
    S(179, "sysinfo", {kStructOut}),
    S(180, "mq_open", {kString, kOpenFlags, kMode, kStructIn}),
    S(181, "mq_unlink", {kString}),
    S(182, "mq_timedsend", {kFd, kBufIn, kSize, kUint, kStructIn}),
    S(183, "mq_timedreceive", {kFd, kBufOut, kSize, kPtr, kStructIn}),
    S(184, "mq_notify", {kFd, kStructIn}),
    S(185, "mq_getsetattr", {kFd, kStructIn, kStructOut}),
    S(186, "msgget", {kHex, kHex}),
    S(187, "msgctl", {kInt, kInt, kPtr}),
    S(188, "msgrcv", {kInt, kPtr, kSize, kInt, kHex}),
    S(189, "msgsnd", {kInt, kPtr, kSize, kHex}),
    S(190, "semget", {kHex, kInt, kHex}),
    S(191, "semctl", {kInt, kInt, kInt, kHex}),
    S(192, "semtimedop", {kInt, kPtr, kSize, kStructIn}),
    S(193, "semop", {kInt, kPtr, kSize}),
    S(194, "shmget", {kHex, kSize, kHex}),
    S(195, "shmctl", {kInt, kInt, kPtr}),
    S(196, "shmat", {kInt, kPtr, kHex}),
    S(197, "shmdt", {kPtr}),
    S(198, "socket", {kInt, kInt, kInt}),
    S(199, "socketpair", {kInt, kInt, kInt, kStructOut}),
    S(200, "bind", {kFd, kStructIn, kSize}),
    S(201, "listen", {kFd, kInt}),
    S(202, "accept", {kFd, kStructOut, kPtr}),
    S(203, "connect", {kFd, kStructIn, kSize}),
    S(204, "getsockname", {kFd, kStructOut, kPtr}),
    S(205, "getpeername", {kFd, kStructOut, kPtr}),
    S(206, "sendto", {kFd, kBufIn, kSize, kHex, kStructIn, kSize}),
    S(207, "recvfrom", {kFd, kBufOut, kSize, kHex, kStructOut, kPtr}),
    S(208, "setsockopt", {kFd, kInt, kInt, kBufIn, kSize}),
    S(209, "getsockopt", {kFd, kInt, kInt, kBufOut, kPtr}),
    S(210, "shutdown", {kFd, kInt}),
    S(211, "sendmsg", {kFd, kStructIn, kHex}),
    S(212, "recvmsg", {kFd, kPtr, kHex}),
    S(213, "readahead", {kFd, kInt, kSize}),
    S(214, "brk", {kPtr}),
    S(215, "munmap", {kPtr, kSize}),
    S(216, "mremap", {kPtr, kSize, kSize, kHex, kPtr}),
    Deny(217, "add_key", {kString, kString, kBufIn, kSize, kInt}),
    Deny(218, "request_key", {kString, kString, kString, kInt}),
    Deny(219, "keyctl", {kInt, kHex, kHex, kHex, kHex}),
    // clone(flags, stack, parent_tid, tls, child_tid): arm64 has the
    // CLONE_BACKWARDS order (tls before child_tid, unlike x86_64). The filter
    // can see the flags, so only namespace creation is denied.
    DenyIf(220, "clone", {kCloneFlags, kPtr, kPtr, kHex, kPtr}, 0, kabi::kCloneNamespaceFlags),
    S(221, "execve", {kPath, kStrArray, kStrArray}),
    S(222, "mmap", {kPtr, kSize, kProt, kMmapFlags, kFd, kHex}),
    S(223, "fadvise64", {kFd, kInt, kInt, kInt}),
    // System administration that a root child could otherwise do to the host.
    Deny(224, "swapon", {kPath, kHex}),
    Deny(225, "swapoff", {kPath}),
    S(226, "mprotect", {kPtr, kSize, kProt}),
    S(227, "msync", {kPtr, kSize, kHex}),
    S(228, "mlock", {kPtr, kSize}),
    S(229, "munlock", {kPtr, kSize}),
    S(230, "mlockall", {kHex}),
    S(231, "munlockall"),
    S(232, "mincore", {kPtr, kSize, kPtr}),
    S(233, "madvise", {kPtr, kSize, kInt}),
    S(234, "remap_file_pages", {kPtr, kSize, kInt, kInt, kHex}),
    S(235, "mbind", {kPtr, kSize, kInt, kPtr, kUint, kHex}),
    S(236, "get_mempolicy", {kPtr, kPtr, kUint, kPtr, kHex}),
    S(237, "set_mempolicy", {kInt, kPtr, kUint}),
    S(238, "migrate_pages", {kPid, kUint, kPtr, kPtr}),
    S(239, "move_pages", {kPid, kSize, kPtr, kPtr, kPtr, kHex}),
    S(240, "rt_tgsigqueueinfo", {kPid, kPid, kSignal, kStructIn}),
    Deny(241, "perf_event_open", {kStructIn, kPid, kInt, kFd, kHex}),
    S(242, "accept4", {kFd, kStructOut, kPtr, kHex}),
    S(243, "recvmmsg", {kFd, kPtr, kUint, kHex, kStructIn}),
    // 244-259 are reserved for arch-specific calls; arm64 defines none.
    S(260, "wait4", {kPid, kPtr, kHex, kStructOut}),
    S(261, "prlimit64", {kPid, kInt, kStructIn, kStructOut}),
    S(262, "fanotify_init", {kHex, kHex}),
    S(263, "fanotify_mark", {kFd, kHex, kHex, kDirFd, kPath}),
    S(264, "name_to_handle_at", {kDirFd, kPath, kStructOut, kPtr, kAtFlags}),
    Deny(265, "open_by_handle_at", {kFd, kStructIn, kOpenFlags}),
    S(266, "clock_adjtime", {kInt, kPtr}),
    S(267, "syncfs", {kFd}),
    Deny(268, "setns", {kFd, kCloneFlags}),
    S(269, "sendmmsg", {kFd, kPtr, kUint, kHex}),
    S(270, "process_vm_readv", {kPid, kPtr, kUint, kPtr, kUint, kHex}),
    Deny(271, "process_vm_writev", {kPid, kPtr, kUint, kPtr, kUint, kHex}),
    S(272, "kcmp", {kPid, kPid, kInt, kHex, kHex}),
    Deny(273, "finit_module", {kFd, kString, kHex}),
    S(274, "sched_setattr", {kPid, kStructIn, kHex}),
    S(275, "sched_getattr", {kPid, kStructOut, kSize, kHex}),
    S(276, "renameat2", {kDirFd, kPath, kDirFd, kPath, kHex}),
    // A filter with its own listener would take precedence over sandtrace's
    // (the newest filter's USER_NOTIF wins) and could CONTINUE anything.
    DenyIf(277, "seccomp", {kInt, kHex, kPtr}, 1, SECCOMP_FILTER_FLAG_NEW_LISTENER),
    S(278, "getrandom", {kBufOut, kSize, kHex}),
    S(279, "memfd_create", {kString, kHex}),
    Deny(280, "bpf", {kInt, kPtr, kSize}),
    S(281, "execveat", {kDirFd, kPath, kStrArray, kStrArray, kAtFlags}),
    Deny(282, "userfaultfd", {kHex}),
    S(283, "membarrier", {kInt, kHex, kInt}),
    S(284, "mlock2", {kPtr, kSize, kHex}),
    S(285, "copy_file_range", {kFd, kPtr, kFd, kPtr, kSize, kHex}),
    S(286, "preadv2", {kFd, kPtr, kInt, kInt, kInt, kHex}),
    S(287, "pwritev2", {kFd, kPtr, kInt, kInt, kInt, kHex}),
    S(288, "pkey_mprotect", {kPtr, kSize, kProt, kInt}),
    S(289, "pkey_alloc", {kHex, kHex}),
    S(290, "pkey_free", {kInt}),
    S(291, "statx", {kDirFd, kPath, kAtFlags, kHex, kStructOut}),
    S(292, "io_pgetevents", {kHex, kInt, kInt, kPtr, kPtr, kPtr}),
    S(293, "rseq", {kPtr, kUint, kHex, kHex}),
    Deny(294, "kexec_file_load", {kFd, kFd, kSize, kString, kHex}),
});

// ---- compile-time checks ---------------------------------------------------

constexpr auto kDefs = Concat(kOwnDefs, kCommonDefs);

// ---- compile-time checks ---------------------------------------------------

static_assert(SortedAndUniqueByNr(kDefs), "aarch64 table must be sorted by number, no duplicates");
static_assert(RolesWellFormed(kDefs));
using TableIndex = Index<kDefs>;
static_assert(TableIndex::names_unique, "syscall names must be unique");
// The generic table has no legacy calls: a handler set naming one of them
// must skip it on this arch (ArchTable::FindByName returns nullptr).
static_assert(NrOf(kDefs, "open") < 0 && NrOf(kDefs, "stat") < 0 && NrOf(kDefs, "fork") < 0 &&
              NrOf(kDefs, "rename") < 0);
#if defined(__aarch64__)
// Spot checks against the kernel headers of an aarch64 build machine.
static_assert(NrOf(kDefs, "openat") == __NR_openat);
static_assert(NrOf(kDefs, "getrandom") == __NR_getrandom);
static_assert(NrOf(kDefs, "clone3") == __NR_clone3);
static_assert(NrOf(kDefs, "io_uring_setup") == __NR_io_uring_setup);
static_assert(NrOf(kDefs, "seccomp") == __NR_seccomp);
static_assert(NrOf(kDefs, "execve") == __NR_execve && NrOf(kDefs, "exit_group") == __NR_exit_group);
#endif

constexpr ArchTable kTable(AUDIT_ARCH_AARCH64, "aarch64", kDefs, TableIndex::by_nr,
                           TableIndex::by_name);

}  // namespace

const ArchTable& Aarch64Syscalls() { return kTable; }

}  // namespace sandtrace
