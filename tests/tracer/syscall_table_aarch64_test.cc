// The aarch64 table against the kernel's generic syscall header. This is the
// only translation unit that includes <asm-generic/unistd.h>: its __NR_*
// macros are aarch64's numbers and clash with the host's <asm/unistd.h>,
// which gtest pulls in through <sys/syscall.h>. The generic header is
// therefore included last, so its values win (a redefinition inside a system
// header is silent), and nothing after it may include the host's.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "tracer/core/handler_registry.h"
#include "tracer/core/syscall_table.h"

// What arm64's <asm/unistd.h> asks of the generic table.
#define __ARCH_WANT_RENAMEAT
#define __ARCH_WANT_NEW_STAT
#define __ARCH_WANT_SET_GET_RLIMIT
#define __ARCH_WANT_TIME32_SYSCALLS
#define __ARCH_WANT_SYS_CLONE3
#define __ARCH_WANT_MEMFD_SECRET
#include <asm-generic/unistd.h>

// io_setup is 206 on x86_64 and 0 in the generic table: if this fails, the
// host's numbers won and every check below would compare the wrong values.
static_assert(__NR_io_setup == 0 && __NR_openat == 56, "host syscall numbers leaked in");

namespace sandtrace {
namespace {

// Every syscall name of the generic header (bookworm's 6.1 uapi), by number.
// A name missing here is caught by HeaderWiresExactlyTheTable's count.
// clang-format off
#define SANDTRACE_GENERIC_SYSCALLS(X) \
  X(io_setup) X(io_destroy) X(io_submit) X(io_cancel) X(io_getevents) X(setxattr) X(lsetxattr) \
  X(fsetxattr) X(getxattr) X(lgetxattr) X(fgetxattr) X(listxattr) X(llistxattr) X(flistxattr) \
  X(removexattr) X(lremovexattr) X(fremovexattr) X(getcwd) X(lookup_dcookie) X(eventfd2) \
  X(epoll_create1) X(epoll_ctl) X(epoll_pwait) X(dup) X(dup3) X(fcntl) X(inotify_init1) \
  X(inotify_add_watch) X(inotify_rm_watch) X(ioctl) X(ioprio_set) X(ioprio_get) X(flock) \
  X(mknodat) X(mkdirat) X(unlinkat) X(symlinkat) X(linkat) X(renameat) X(umount2) X(mount) \
  X(pivot_root) X(nfsservctl) X(statfs) X(fstatfs) X(truncate) X(ftruncate) X(fallocate) \
  X(faccessat) X(chdir) X(fchdir) X(chroot) X(fchmod) X(fchmodat) X(fchownat) X(fchown) X(openat) \
  X(close) X(vhangup) X(pipe2) X(quotactl) X(getdents64) X(lseek) X(read) X(write) X(readv) \
  X(writev) X(pread64) X(pwrite64) X(preadv) X(pwritev) X(sendfile) X(pselect6) X(ppoll) \
  X(signalfd4) X(vmsplice) X(splice) X(tee) X(readlinkat) X(newfstatat) X(fstat) X(sync) X(fsync) \
  X(fdatasync) X(sync_file_range) X(timerfd_create) X(timerfd_settime) X(timerfd_gettime) \
  X(utimensat) X(acct) X(capget) X(capset) X(personality) X(exit) X(exit_group) X(waitid) \
  X(set_tid_address) X(unshare) X(futex) X(set_robust_list) X(get_robust_list) X(nanosleep) \
  X(getitimer) X(setitimer) X(kexec_load) X(init_module) X(delete_module) X(timer_create) \
  X(timer_gettime) X(timer_getoverrun) X(timer_settime) X(timer_delete) X(clock_settime) \
  X(clock_gettime) X(clock_getres) X(clock_nanosleep) X(syslog) X(ptrace) X(sched_setparam) \
  X(sched_setscheduler) X(sched_getscheduler) X(sched_getparam) X(sched_setaffinity) \
  X(sched_getaffinity) X(sched_yield) X(sched_get_priority_max) X(sched_get_priority_min) \
  X(sched_rr_get_interval) X(restart_syscall) X(kill) X(tkill) X(tgkill) X(sigaltstack) \
  X(rt_sigsuspend) X(rt_sigaction) X(rt_sigprocmask) X(rt_sigpending) X(rt_sigtimedwait) \
  X(rt_sigqueueinfo) X(rt_sigreturn) X(setpriority) X(getpriority) X(reboot) X(setregid) \
  X(setgid) X(setreuid) X(setuid) X(setresuid) X(getresuid) X(setresgid) X(getresgid) X(setfsuid) \
  X(setfsgid) X(times) X(setpgid) X(getpgid) X(getsid) X(setsid) X(getgroups) X(setgroups) \
  X(uname) X(sethostname) X(setdomainname) X(getrlimit) X(setrlimit) X(getrusage) X(umask) \
  X(prctl) X(getcpu) X(gettimeofday) X(settimeofday) X(adjtimex) X(getpid) X(getppid) X(getuid) \
  X(geteuid) X(getgid) X(getegid) X(gettid) X(sysinfo) X(mq_open) X(mq_unlink) X(mq_timedsend) \
  X(mq_timedreceive) X(mq_notify) X(mq_getsetattr) X(msgget) X(msgctl) X(msgrcv) X(msgsnd) \
  X(semget) X(semctl) X(semtimedop) X(semop) X(shmget) X(shmctl) X(shmat) X(shmdt) X(socket) \
  X(socketpair) X(bind) X(listen) X(accept) X(connect) X(getsockname) X(getpeername) X(sendto) \
  X(recvfrom) X(setsockopt) X(getsockopt) X(shutdown) X(sendmsg) X(recvmsg) X(readahead) X(brk) \
  X(munmap) X(mremap) X(add_key) X(request_key) X(keyctl) X(clone) X(execve) X(mmap) X(fadvise64) \
  X(swapon) X(swapoff) X(mprotect) X(msync) X(mlock) X(munlock) X(mlockall) X(munlockall) \
  X(mincore) X(madvise) X(remap_file_pages) X(mbind) X(get_mempolicy) X(set_mempolicy) \
  X(migrate_pages) X(move_pages) X(rt_tgsigqueueinfo) X(perf_event_open) X(accept4) X(recvmmsg) \
  X(wait4) X(prlimit64) X(fanotify_init) X(fanotify_mark) X(name_to_handle_at) \
  X(open_by_handle_at) X(clock_adjtime) X(syncfs) X(setns) X(sendmmsg) X(process_vm_readv) \
  X(process_vm_writev) X(kcmp) X(finit_module) X(sched_setattr) X(sched_getattr) X(renameat2) \
  X(seccomp) X(getrandom) X(memfd_create) X(bpf) X(execveat) X(userfaultfd) X(membarrier) \
  X(mlock2) X(copy_file_range) X(preadv2) X(pwritev2) X(pkey_mprotect) X(pkey_alloc) X(pkey_free) \
  X(statx) X(io_pgetevents) X(rseq) X(kexec_file_load) X(pidfd_send_signal) X(io_uring_setup) \
  X(io_uring_enter) X(io_uring_register) X(open_tree) X(move_mount) X(fsopen) X(fsconfig) \
  X(fsmount) X(fspick) X(pidfd_open) X(clone3) X(close_range) X(openat2) X(pidfd_getfd) \
  X(faccessat2) X(process_madvise) X(epoll_pwait2) X(mount_setattr) X(quotactl_fd) \
  X(landlock_create_ruleset) X(landlock_add_rule) X(landlock_restrict_self) X(memfd_secret) \
  X(process_mrelease) X(futex_waitv) X(set_mempolicy_home_node)
// clang-format on

constexpr std::pair<std::string_view, int> kHeaderNames[] = {
#define X(name) {#name, __NR_##name},
    SANDTRACE_GENERIC_SYSCALLS(X)
#undef X
};

// The numbers the header itself wires to a kernel entry point, with the
// entry point's name: the header is included again with __SYSCALL defined
// (it has no include guard, by design, for this very use).
struct Wired {
  int nr;
  const char* entry;
};
constexpr Wired kWired[] = {
#undef __SYSCALL
#define __SYSCALL(nr, entry) {nr, #entry},
#include <asm-generic/unistd.h>
#undef __SYSCALL
};

constexpr int kHeaderLimit = __NR_syscalls;

TEST(SyscallTableAarch64, LookupsByNumberAndNameAgree) {
  const ArchTable& t = Aarch64Syscalls();
  EXPECT_EQ(t.audit_arch(), AUDIT_ARCH_AARCH64);
  EXPECT_EQ(t.name(), "aarch64");
  EXPECT_EQ(ArchTableFor(AUDIT_ARCH_AARCH64), &t);
  EXPECT_EQ(ArchTableFor(AUDIT_ARCH_X86_64), &X86_64Syscalls());
  EXPECT_EQ(ArchTableFor(AUDIT_ARCH_ARM), nullptr);  // AArch32 compat tasks
  EXPECT_EQ(t.nr_limit(), t.defs().back().nr + 1);
  for (const SyscallDef& d : t.defs()) {
    ASSERT_EQ(t.FindByNr(d.nr), &d) << d.name;
    ASSERT_EQ(t.FindByName(d.name), &d) << d.name;
  }
  EXPECT_EQ(t.FindByNr(250), nullptr);  // in the arch-specific range 244-259
  EXPECT_EQ(t.NameOf(250), "syscall_250");
  EXPECT_EQ(t.FindByNr(-1), nullptr);
  EXPECT_EQ(t.FindByNr(100000), nullptr);
#if defined(__aarch64__)
  EXPECT_EQ(&NativeSyscalls(), &t);
#else
  EXPECT_NE(&NativeSyscalls(), &t);
#endif
}

TEST(SyscallTableAarch64, NumbersMatchTheGenericHeader) {
  const ArchTable& t = Aarch64Syscalls();
  std::map<std::string_view, int> header(std::begin(kHeaderNames), std::end(kHeaderNames));
  ASSERT_EQ(header.size(), std::size(kHeaderNames)) << "a name listed twice";
  for (const auto& [name, nr] : kHeaderNames) {
    const SyscallDef* d = t.FindByName(name);
    ASSERT_NE(d, nullptr) << name << " (__NR_" << name << " = " << nr << ") is missing";
    EXPECT_EQ(d->nr, nr) << name;
  }
  const ArchTable& x86 = X86_64Syscalls();
  for (const SyscallDef& d : t.defs()) {
    auto it = header.find(d.name);
    if (it != header.end()) {
      EXPECT_EQ(d.nr, it->second) << d.name;
      continue;
    }
    // Newer than the build machine's header: from 424 on, every arch shares
    // the number, so x86_64's table is the reference.
    EXPECT_GE(d.nr, kHeaderLimit) << d.name << " is neither in the header nor newer than it";
    EXPECT_GE(d.nr, 424) << d.name;
    const SyscallDef* x = x86.FindByName(d.name);
    ASSERT_NE(x, nullptr) << d.name;
    EXPECT_EQ(x->nr, d.nr) << d.name;
  }
  // And the reverse: every x86_64 syscall from 424 on exists on aarch64
  // (none of the shared range is x86-only).
  for (const SyscallDef& x : x86.defs()) {
    if (x.nr < 424) continue;
    const SyscallDef* d = t.FindByName(x.name);
    ASSERT_NE(d, nullptr) << x.name;
    EXPECT_EQ(d->nr, x.nr) << x.name;
  }
}

TEST(SyscallTableAarch64, HeaderWiresExactlyTheTable) {
  const ArchTable& t = Aarch64Syscalls();
  std::set<int> wired;
  for (const Wired& w : kWired) {
    EXPECT_TRUE(wired.insert(w.nr).second) << "number " << w.nr << " wired twice";
    EXPECT_LT(w.nr, kHeaderLimit);
    const SyscallDef* d = t.FindByNr(w.nr);
    EXPECT_NE(d, nullptr) << "the header wires " << w.nr << " to " << w.entry
                          << " but the table has no such number";
  }
  std::set<int> below_limit;
  for (const SyscallDef& d : t.defs()) {
    if (d.nr < kHeaderLimit) below_limit.insert(d.nr);
  }
  EXPECT_EQ(below_limit, wired);
  // Every wired number has a name in the list above (no forgotten __NR_).
  std::set<int> listed;
  for (const auto& [name, nr] : kHeaderNames) listed.insert(nr);
  EXPECT_EQ(listed, wired);
  // The 6.1 header: 0-243, 260-294 and 424-450, less 244-259 (reserved for
  // the arch, unused by arm64) and the 32-bit-only time64 calls 403-423.
  EXPECT_GE(wired.size(), 306u);
}

TEST(SyscallTableAarch64, NoLegacyCalls) {
  const ArchTable& t = Aarch64Syscalls();
  for (const char* name :
       {"open",     "creat",        "stat",       "lstat",        "access",  "rename",
        "mkdir",    "rmdir",        "link",       "unlink",       "symlink", "readlink",
        "chmod",    "chown",        "lchown",     "utime",        "utimes",  "futimesat",
        "mknod",    "fork",         "vfork",      "pipe",         "dup2",    "poll",
        "select",   "epoll_create", "epoll_wait", "inotify_init", "eventfd", "signalfd",
        "getdents", "time",         "alarm",      "pause",        "uselib",  "arch_prctl",
        "iopl",     "ioperm",       "modify_ldt"}) {
    EXPECT_EQ(t.FindByName(name), nullptr) << name;
  }
}

// A filter built from the aarch64 table denies exactly what the x86_64 one
// denies, for every syscall the two share.
TEST(SyscallTableAarch64, DenyListMatchesX86_64) {
  const ArchTable& t = Aarch64Syscalls();
  const ArchTable& x86 = X86_64Syscalls();
  std::set<std::string_view> denied;
  std::set<std::string_view> x86_denied;
  for (const SyscallDef& d : t.defs()) {
    const SyscallDef* x = x86.FindByName(d.name);
    ASSERT_NE(x, nullptr) << d.name << " has no x86_64 entry to compare with";
    EXPECT_EQ(d.policy, x->policy) << d.name;
    EXPECT_EQ(d.deny_arg, x->deny_arg) << d.name;
    EXPECT_EQ(d.deny_mask, x->deny_mask) << d.name;
    if (d.denied()) denied.insert(d.name);
  }
  std::set<std::string_view> x86_only;
  for (const SyscallDef& x : x86.defs()) {
    if (!x.denied()) continue;
    if (t.FindByName(x.name) != nullptr) {
      x86_denied.insert(x.name);
    } else {
      x86_only.insert(x.name);
    }
  }
  EXPECT_EQ(denied, x86_denied);
  // What x86_64 denies that aarch64 does not have at all.
  EXPECT_EQ(x86_only, (std::set<std::string_view>{"create_module", "ioperm", "iopl"}));
  EXPECT_GE(denied.size(), 30u);
  EXPECT_EQ(t.FindByName("clone3")->policy, SyscallPolicy::kDenyEnosys);
  EXPECT_EQ(t.FindByName("clone")->policy, SyscallPolicy::kDenyIfFlags);
  EXPECT_TRUE(t.FindByName("clone")->deny_mask & CLONE_NEWUSER);
  EXPECT_EQ(t.FindByName("seccomp")->deny_mask, SECCOMP_FILTER_FLAG_NEW_LISTENER);
}

// Roles are x86_64's, except clone: arm64 passes tls before child_tid.
TEST(SyscallTableAarch64, ArgumentRolesMatchX86_64) {
  const ArchTable& t = Aarch64Syscalls();
  const ArchTable& x86 = X86_64Syscalls();
  for (const SyscallDef& d : t.defs()) {
    if (d.name == "clone") continue;
    const SyscallDef* x = x86.FindByName(d.name);
    ASSERT_NE(x, nullptr) << d.name;
    EXPECT_EQ(d.args, x->args) << d.name;
  }
  using enum ArgRole;
  EXPECT_EQ(t.FindByName("clone")->args,
            (std::array<ArgRole, 6>{kCloneFlags, kPtr, kPtr, kHex, kPtr, kNone}));
  EXPECT_EQ(x86.FindByName("clone")->args,
            (std::array<ArgRole, 6>{kCloneFlags, kPtr, kPtr, kPtr, kHex, kNone}));
}

TEST(SyscallTableAarch64, FormatsWithAarch64Flags) {
  const ArchTable& t = Aarch64Syscalls();
  // arm64's O_DIRECTORY is x86_64's O_DIRECT (and the other way round).
  constexpr uint64_t kArmDirectory = 040000;
  constexpr uint64_t kArmNofollow = 0100000;
  constexpr uint64_t kArmTmpfile = 020000000 | kArmDirectory;
  std::array<uint64_t, 6> a{static_cast<uint64_t>(AT_FDCWD), 0x1000,
                            O_RDONLY | O_CLOEXEC | kArmDirectory, 0};
  std::optional<std::string> strings[6];
  strings[1] = "a/b";
  EXPECT_EQ(FormatSyscall(t, __NR_openat, a, strings),
            "openat(AT_FDCWD, \"a/b\", O_RDONLY|O_DIRECTORY|O_CLOEXEC)");
  EXPECT_EQ(FormatSyscall(X86_64Syscalls(), 257, a, strings),
            "openat(AT_FDCWD, \"a/b\", O_RDONLY|O_DIRECT|O_CLOEXEC)");
  a[2] = O_WRONLY | O_CREAT | O_TRUNC | kArmNofollow;
  a[3] = 0644;
  EXPECT_EQ(FormatSyscall(t, __NR_openat, a),
            "openat(AT_FDCWD, 0x1000, O_WRONLY|O_CREAT|O_TRUNC|O_NOFOLLOW, 0644)");
  // O_TMPFILE creates a file: the mode is shown.
  a[2] = O_RDWR | kArmTmpfile;
  a[3] = 0600;
  EXPECT_EQ(FormatSyscall(t, __NR_openat, a), "openat(AT_FDCWD, 0x1000, O_RDWR|O_TMPFILE, 0600)");
  EXPECT_TRUE(OpenCreatesFile(t, O_RDWR | kArmTmpfile));
  EXPECT_FALSE(OpenCreatesFile(t, O_RDWR | kArmDirectory));
  EXPECT_EQ(FormatArg(t, ArgRole::kOpenFlags, kArmDirectory), "O_RDONLY|O_DIRECTORY");

  std::array<uint64_t, 6> m{
      0, 8192, PROT_READ | 0x10, MAP_PRIVATE | MAP_ANONYMOUS | 0x40, static_cast<uint64_t>(-1), 0};
  // PROT_BTI exists only on arm64, MAP_32BIT only on x86_64.
  EXPECT_EQ(FormatSyscall(t, __NR_mmap, m),
            "mmap(NULL, 8192, PROT_READ|PROT_BTI, MAP_PRIVATE|MAP_ANONYMOUS|0x40, -1, 0)");
  EXPECT_EQ(FormatSyscall(X86_64Syscalls(), 9, m),
            "mmap(NULL, 8192, PROT_READ|0x10, MAP_PRIVATE|MAP_ANONYMOUS|MAP_32BIT, -1, 0)");

  std::array<uint64_t, 6> c{CLONE_VM | CLONE_SETTLS | SIGCHLD, 0x7000, 0x7100, 0x7200, 0x7300};
  EXPECT_EQ(FormatSyscall(t, __NR_clone, c),
            "clone(CLONE_VM|CLONE_SETTLS|SIGCHLD, 0x7000, 0x7100, 0x7200, 0x7300)");
  std::array<uint64_t, 6> k{static_cast<uint64_t>(-1), 9};
  EXPECT_EQ(FormatSyscall(t, __NR_kill, k), "kill(-1, SIGKILL)");
  std::array<uint64_t, 6> u{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(FormatSyscall(t, 250, u), "syscall_250(0x1, 0x2, 0x3, 0x4, 0x5, 0x6)");
  // x86_64's number for open is aarch64's io_setup: names follow the table.
  EXPECT_EQ(t.NameOf(2), "io_submit");
  EXPECT_EQ(X86_64Syscalls().NameOf(2), "open");
}

// A handler set built on the aarch64 table accepts only aarch64 names: the
// legacy calls must be skipped by the caller (ask FindByName first).
TEST(SyscallTableAarch64, HandlerRegistryUsesTheArchsNames) {
  const ArchTable& t = Aarch64Syscalls();
  HandlerRegistry r(t);
  auto none = [](const Notification&, Tracee&) { return std::optional<Decision>(); };
  EXPECT_TRUE(r.AddByName("files", {"openat"}, none).ok());
  EXPECT_TRUE(r.Handles(__NR_openat));
  Status legacy = r.AddByName("files", {"open"}, none);
  ASSERT_FALSE(legacy.ok());
  EXPECT_EQ(legacy.code(), EINVAL);
  EXPECT_EQ(r.AddByName("bad", {"ptrace"}, none).code(), EPERM);
}

}  // namespace
}  // namespace sandtrace
