// The seccomp filter, installed only in forked children which then exec
// helper programs from tests/testcases.
#include "tracer/seccomp_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "tests/tracer/test_util.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace {
namespace {

// Forks; the child installs `prog` (no listener) and execs argv. Returns the
// wait status and stdout.
testing::ProcResult RunFiltered(const std::vector<sock_filter>& prog,
                                const std::vector<std::string>& argv) {
  int out[2];
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(120);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) _exit(121);
    execv(args[0], args.data());
    _exit(122);
  }
  close(out[1]);
  testing::ProcResult r;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) r.out.append(buf, n);
  close(out[0]);
  waitpid(pid, &r.status, 0);
  return r;
}

std::map<std::string, int> ParseErrnos(const std::string& out) {
  std::map<std::string, int> m;
  std::istringstream in(out);
  std::string name;
  int err;
  while (in >> name >> err) m[name] = err;
  return m;
}

TEST(Filter, EveryDenyListEntryFails) {
  auto prog = FilterBuilder(NativeSyscalls()).DenyList().Build();
  ASSERT_TRUE(prog.ok()) << prog.error().Message();
  testing::ProcResult r = RunFiltered(*prog, {TC_DENY});
  ASSERT_TRUE(WIFEXITED(r.status)) << r.status;
  ASSERT_EQ(WEXITSTATUS(r.status), 0);
  auto errnos = ParseErrnos(r.out);
  // The helper must try every entry of the table's deny list.
  for (const SyscallDef& d : NativeSyscalls().defs()) {
    if (!d.denied()) continue;
    ASSERT_TRUE(errnos.count(std::string(d.name))) << d.name << " not tried by tc_deny";
    int want = d.policy == SyscallPolicy::kDenyEnosys ? ENOSYS : EPERM;
    EXPECT_EQ(errnos[std::string(d.name)], want) << d.name;
  }
}

TEST(Filter, WithoutTheFilterTheHelperSeesOtherErrors) {
  // Guards the test above against a helper whose calls fail with EPERM anyway.
  auto prog = FilterBuilder(NativeSyscalls()).Build();  // no deny list
  ASSERT_TRUE(prog.ok());
  testing::ProcResult r = RunFiltered(*prog, {TC_DENY});
  auto errnos = ParseErrnos(r.out);
  for (const char* name : {"io_uring_setup", "mount", "bpf", "setns", "open_by_handle_at", "clone3",
                           "seccomp", "chroot"}) {
    EXPECT_NE(errnos[name], EPERM) << name;
    EXPECT_NE(errnos[name], ENOSYS) << name;
  }
}

TEST(Filter, AllowedFlagsStillWork) {
  auto prog = FilterBuilder(NativeSyscalls()).DenyList().Build();
  ASSERT_TRUE(prog.ok());
  // fork() is clone without namespace flags; unshare(CLONE_FILES) has none.
  testing::ProcResult r =
      RunFiltered(*prog, {"/bin/sh", "-c", "(exit 4); echo $?; unshare --help >/dev/null; true"});
  ASSERT_TRUE(WIFEXITED(r.status));
  EXPECT_EQ(WEXITSTATUS(r.status), 0);
  EXPECT_EQ(r.out, "4\n");
}

TEST(Filter, X32SyscallsKillTheProcess) {
  auto prog = FilterBuilder(NativeSyscalls()).DenyList().Build();
  ASSERT_TRUE(prog.ok());
  testing::ProcResult r = RunFiltered(*prog, {TC_X32});
  ASSERT_TRUE(WIFSIGNALED(r.status)) << r.out;
  EXPECT_EQ(WTERMSIG(r.status), SIGSYS);
  EXPECT_EQ(r.out, "before\n");
}

TEST(Filter, OtherArchitecturesKillTheProcess) {
  testing::ProcResult native = testing::RunProcess({TC_I386}, 30);
  if (native.out.find("survived") == std::string::npos) {
    GTEST_SKIP() << "no i386 emulation in this kernel";
  }
  auto prog = FilterBuilder(NativeSyscalls()).DenyList().Build();
  ASSERT_TRUE(prog.ok());
  testing::ProcResult r = RunFiltered(*prog, {TC_I386});
  ASSERT_TRUE(WIFSIGNALED(r.status)) << r.out;
  EXPECT_EQ(WTERMSIG(r.status), SIGSYS);
  EXPECT_EQ(r.out, "before\n");
}

TEST(Filter, BuilderRejectsNotifyingDeniedSyscalls) {
  int nrs[] = {__NR_getppid, __NR_ptrace};
  auto prog = FilterBuilder(NativeSyscalls()).DenyList().Notify(nrs).Build();
  ASSERT_FALSE(prog.ok());
  EXPECT_NE(prog.error().context.find("ptrace"), std::string::npos);
  int unknown[] = {400};
  EXPECT_FALSE(FilterBuilder(NativeSyscalls()).Notify(unknown).Build().ok());
  int ok[] = {__NR_getppid, __NR_openat};
  EXPECT_TRUE(FilterBuilder(NativeSyscalls())
                  .DenyList()
                  .Notify(ok)
                  .ExemptWithCookie(__NR_openat, 5, 1)
                  .Build()
                  .ok());
}

}  // namespace
}  // namespace sandtrace
