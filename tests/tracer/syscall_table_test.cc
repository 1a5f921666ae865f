#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <set>

#include "tracer/core/syscall_table.h"

namespace sandtrace {
namespace {

TEST(SyscallTable, LookupsByNumberAndNameAgree) {
  const ArchTable& t = X86_64Syscalls();
  EXPECT_EQ(t.audit_arch(), AUDIT_ARCH_X86_64);
  ASSERT_NE(t.FindByNr(__NR_openat), nullptr);
  EXPECT_EQ(t.FindByNr(__NR_openat)->name, "openat");
  EXPECT_EQ(t.FindByName("openat")->nr, __NR_openat);
  EXPECT_EQ(t.FindByName("getrandom")->nr, __NR_getrandom);
  EXPECT_EQ(t.FindByName("fchmodat2")->nr, 452);
  EXPECT_EQ(t.FindByName("no_such_syscall"), nullptr);
  EXPECT_EQ(t.FindByNr(-1), nullptr);
  EXPECT_EQ(t.FindByNr(400), nullptr);  // the gap between rseq and pidfd_send_signal
  EXPECT_EQ(t.FindByNr(100000), nullptr);
  EXPECT_EQ(t.NameOf(400), "syscall_400");
  for (const SyscallDef& d : t.defs()) {
    ASSERT_EQ(t.FindByNr(d.nr), &d) << d.name;
    ASSERT_EQ(t.FindByName(d.name), &d) << d.name;
  }
  EXPECT_EQ(&NativeSyscalls(), &t);
  EXPECT_EQ(ArchTableFor(AUDIT_ARCH_X86_64), &t);
  EXPECT_EQ(ArchTableFor(AUDIT_ARCH_I386), nullptr);
}

TEST(SyscallTable, DenyListHasTheBypasses) {
  const ArchTable& t = X86_64Syscalls();
  for (const char* name : {"io_uring_setup",
                           "io_uring_enter",
                           "io_uring_register",
                           "ptrace",
                           "process_vm_writev",
                           "mount",
                           "umount2",
                           "fsopen",
                           "fsconfig",
                           "fsmount",
                           "fspick",
                           "move_mount",
                           "open_tree",
                           "mount_setattr",
                           "pivot_root",
                           "chroot",
                           "setns",
                           "open_by_handle_at",
                           "bpf",
                           "perf_event_open",
                           "userfaultfd",
                           "keyctl",
                           "add_key",
                           "request_key",
                           "init_module",
                           "finit_module",
                           "delete_module",
                           "kexec_load",
                           "kexec_file_load"}) {
    const SyscallDef* d = t.FindByName(name);
    ASSERT_NE(d, nullptr) << name;
    EXPECT_EQ(d->policy, SyscallPolicy::kDeny) << name;
  }
  EXPECT_EQ(t.FindByName("clone3")->policy, SyscallPolicy::kDenyEnosys);
  const SyscallDef* clone = t.FindByName("clone");
  EXPECT_EQ(clone->policy, SyscallPolicy::kDenyIfFlags);
  EXPECT_TRUE(clone->deny_mask & CLONE_NEWUSER);
  EXPECT_FALSE(clone->deny_mask & CLONE_THREAD);
  EXPECT_FALSE(clone->deny_mask & CSIGNAL);  // clone's low byte is the exit signal
  EXPECT_TRUE(t.FindByName("unshare")->deny_mask & CLONE_NEWNS);
  EXPECT_FALSE(t.FindByName("unshare")->deny_mask & CLONE_FILES);
  EXPECT_EQ(t.FindByName("seccomp")->deny_arg, 1);
  EXPECT_FALSE(t.FindByName("openat")->denied());
  EXPECT_FALSE(t.FindByName("process_vm_readv")->denied());
}

TEST(SyscallTable, ArgumentRoles) {
  const ArchTable& t = X86_64Syscalls();
  const SyscallDef* o = t.FindByName("openat");
  EXPECT_EQ(o->nargs(), 4);
  EXPECT_EQ(o->args[0], ArgRole::kDirFd);
  EXPECT_EQ(o->args[1], ArgRole::kPath);
  EXPECT_EQ(o->args[2], ArgRole::kOpenFlags);
  EXPECT_EQ(o->args[3], ArgRole::kMode);
  EXPECT_EQ(t.FindByName("renameat2")->args[3], ArgRole::kPath);
  EXPECT_EQ(t.FindByName("getpid")->nargs(), 0);
  EXPECT_EQ(t.FindByName("mmap")->nargs(), 6);
}

TEST(SyscallTable, FormatsLikeStrace) {
  const ArchTable& t = X86_64Syscalls();
  std::array<uint64_t, 6> a{static_cast<uint64_t>(AT_FDCWD), 0x1000, O_RDONLY | O_CLOEXEC, 0};
  std::optional<std::string> strings[6];
  strings[1] = "a/b";
  EXPECT_EQ(FormatSyscall(t, __NR_openat, a, strings),
            "openat(AT_FDCWD, \"a/b\", O_RDONLY|O_CLOEXEC)");
  // Without the string, the address; with O_CREAT, the mode.
  a[2] = O_WRONLY | O_CREAT | O_TRUNC;
  a[3] = 0644;
  EXPECT_EQ(FormatSyscall(t, __NR_openat, a),
            "openat(AT_FDCWD, 0x1000, O_WRONLY|O_CREAT|O_TRUNC, 0644)");
  std::array<uint64_t, 6> r{3, 0x7ff0, 4096};
  EXPECT_EQ(FormatSyscall(t, __NR_read, r), "read(3, 0x7ff0, 4096)");
  std::array<uint64_t, 6> k{static_cast<uint64_t>(-1), 9};
  EXPECT_EQ(FormatSyscall(t, __NR_kill, k), "kill(-1, SIGKILL)");
  std::array<uint64_t, 6> m{
      0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, static_cast<uint64_t>(-1), 0};
  EXPECT_EQ(FormatSyscall(t, __NR_mmap, m),
            "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  std::array<uint64_t, 6> c{CLONE_VM | CLONE_NEWUSER | SIGCHLD};
  EXPECT_EQ(FormatSyscall(t, __NR_clone, c).substr(0, 36), "clone(CLONE_VM|CLONE_NEWUSER|SIGCHLD");
  std::array<uint64_t, 6> u{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(FormatSyscall(t, 400, u), "syscall_400(0x1, 0x2, 0x3, 0x4, 0x5, 0x6)");
  std::optional<std::string> esc[6];
  esc[0] = "a\"b\n";
  std::array<uint64_t, 6> ch{0x10};
  EXPECT_EQ(FormatSyscall(t, __NR_chdir, ch, esc), "chdir(\"a\\\"b\\n\")");
}

}  // namespace
}  // namespace sandtrace
