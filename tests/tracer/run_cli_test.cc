// End to end: the `trace` binary run as a subprocess, with a hard timeout.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <sstream>
#include <thread>

#include "tests/tracer/test_util.h"
#include "tracer/kernel_features.h"

namespace sandtrace {
namespace {

using testing::ProcResult;
using testing::RunProcess;

constexpr int kTimeout = 90;

std::vector<std::string> Trace(std::vector<std::string> args) {
  args.insert(args.begin(), {TRACE_BIN, "run"});
  return args;
}

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ProbeKernelFeatures().landlock_abi <= 0) GTEST_SKIP() << "no Landlock on this kernel";
  }
  ProcResult Traced(std::vector<std::string> args) {
    return RunProcess(Trace(std::move(args)), kTimeout, work_.path());
  }
  testing::TempDir work_;
};

TEST_F(RunTest, ExitStatusIsTheCommands) {
  EXPECT_EQ(Traced({"--", "true"}).code(), 0);
  EXPECT_EQ(Traced({"--", "sh", "-c", "exit 3"}).code(), 3);
  EXPECT_EQ(Traced({"--", "false"}).code(), 1);
}

TEST_F(RunTest, SignalDeathIs128PlusN) {
  EXPECT_EQ(Traced({"--", "sh", "-c", "kill -9 $$"}).code(), 128 + SIGKILL);
  EXPECT_EQ(Traced({"--", "sh", "-c", "kill -SEGV $$"}).code(), 128 + SIGSEGV);
}

TEST_F(RunTest, MissingCommandIs127WithTheReason) {
  ProcResult r = Traced({"--", "sandtrace-no-such-command"});
  EXPECT_EQ(r.code(), 127);
  EXPECT_EQ(r.err,
            "trace run: cannot execute 'sandtrace-no-such-command': No such file or directory\n");
  ProcResult noexec = Traced({"--", "/etc/passwd"});
  EXPECT_EQ(noexec.code(), 127);
  EXPECT_NE(noexec.err.find("Permission denied"), std::string::npos) << noexec.err;
}

TEST_F(RunTest, AFileWithoutAShebangRunsWithTheShellAsExecvpWould) {
  // env, timeout and xargs run such a file with /bin/sh (execvp's ENOEXEC
  // rule); so does trace run, with the arguments after it.
  const std::string script = work_.path() + "/noshebang";
  FILE* f = std::fopen(script.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("echo \"ran: $0 $*\"\nexit 4\n", f);
  std::fclose(f);
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  ProcResult r = Traced({"--", "./noshebang", "a", "b c"});
  EXPECT_EQ(r.code(), 4) << r.err;
  EXPECT_EQ(r.out, "ran: ./noshebang a b c\n") << r.err;
  ProcResult native =
      RunProcess({"/usr/bin/env", "./noshebang", "a", "b c"}, kTimeout, work_.path());
  EXPECT_EQ(native.out, r.out);
}

TEST_F(RunTest, UsageErrors) {
  ProcResult none = Traced({});
  EXPECT_EQ(none.code(), 2);
  EXPECT_NE(none.err.find("no command"), std::string::npos);
  EXPECT_EQ(Traced({"--seed", "abc", "--", "true"}).code(), 2);
  EXPECT_EQ(Traced({"--passthrough", "nosuchcall", "--", "true"}).code(), 2);
  EXPECT_EQ(Traced({"--passthrough", "ptrace", "--", "true"}).code(), 2);
  // A -w that contains the workdir: one line, usage status.
  ProcResult w = Traced({"-w", "/", "--", "true"});
  EXPECT_EQ(w.code(), 2);
  EXPECT_NE(w.err.find("contains the workdir"), std::string::npos);
  EXPECT_EQ(std::count(w.err.begin(), w.err.end(), '\n'), 1);
  EXPECT_EQ(w.err.find("Invalid argument"), std::string::npos) << w.err;  // says why once
  EXPECT_EQ(Traced({"-w", work_.path(), "--", "true"}).code(), 2);
  // A missing -w path is named with the reason.
  ProcResult missing = Traced({"-w", "/nonexistent-sandtrace", "--", "true"});
  EXPECT_EQ(missing.code(), 2);
  EXPECT_NE(missing.err.find("-w /nonexistent-sandtrace: No such file or directory"),
            std::string::npos)
      << missing.err;
}

TEST_F(RunTest, WritesOnlyWhereAllowed) {
  // Landlock: -w paths and the private TMPDIR are writable, other places are
  // not. (The workdir itself is never writable by the child; its changes,
  // if any, go through the supervisor's copy-on-write handlers.)
  testing::TempDir out, other;
  ProcResult r = Traced({"-w", out.path(), "--", "sh", "-c",
                         "echo x > " + out.path() + "/ok && echo y > " + other.path() +
                             "/no; echo t > $TMPDIR/t && cat $TMPDIR/t && echo $TMPDIR"});
  EXPECT_EQ(r.code(), 0) << r.err;
  EXPECT_EQ(testing::ReadFile(out.path() + "/ok"), "x\n");
  EXPECT_NE(access((other.path() + "/no").c_str(), F_OK), 0);
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  std::istringstream lines(r.out);
  std::string t, tmpdir;
  lines >> t >> tmpdir;
  EXPECT_EQ(t, "t");
  EXPECT_EQ(tmpdir.find(work_.path()), std::string::npos);
  EXPECT_NE(access(tmpdir.c_str(), F_OK), 0) << "private TMPDIR not removed: " << tmpdir;
  // --no-landlock lifts it.
  EXPECT_EQ(Traced({"--no-landlock", "--", "sh", "-c", "echo y > " + other.path() + "/no"}).code(),
            0);
  EXPECT_EQ(testing::ReadFile(other.path() + "/no"), "y\n");
}

TEST_F(RunTest, SeedMakesUrandomAndGetrandomDeterministic) {
  auto od = [&](const std::string& seed) {
    ProcResult r = Traced({"--seed", seed, "--", "od", "-N16", "-tx1", "/dev/urandom"});
    EXPECT_EQ(r.code(), 0) << r.err;
    return r.out;
  };
  std::string a = od("42"), b = od("42"), c = od("43");
  EXPECT_NE(a.find("0000020"), std::string::npos) << a;  // 16 bytes were read
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  auto gr = [&](const std::string& seed) {
    return Traced({"--seed", seed, "--", TC_GETRANDOM}).out;
  };
  EXPECT_EQ(gr("7"), gr("7"));
  EXPECT_NE(gr("7"), gr("8"));
  EXPECT_EQ(gr("7").size(), 33u);
  // Without --seed the bytes are the kernel's.
  EXPECT_NE(Traced({"--", TC_GETRANDOM}).out, Traced({"--", TC_GETRANDOM}).out);
}

TEST_F(RunTest, ShellPipelineAndBackgroundJobs) {
  std::string script = "seq 1 3000 | grep 7 | sort -r | head -n 3; echo $(seq 1 100 | wc -l)";
  ProcResult native = RunProcess({"/bin/sh", "-c", script}, kTimeout);
  ProcResult traced =
      Traced({"--passthrough", "openat,execve,pipe2,wait4", "--", "sh", "-c", script});
  EXPECT_EQ(traced.code(), 0) << traced.err;
  EXPECT_EQ(traced.out, native.out);
  ProcResult bg =
      Traced({"--", "sh", "-c", "(sleep 0.2; echo late) & (echo early) & wait; echo done"});
  EXPECT_EQ(bg.code(), 0);
  EXPECT_EQ(bg.out, "early\nlate\ndone\n");
}

TEST_F(RunTest, MakeWithFourJobs) {
  testing::TempDir build;
  std::string mk;
  std::string all = "all:";
  for (int i = 0; i < 12; ++i) {
    std::string t = "t" + std::to_string(i);
    all += " " + t;
    mk += t + ":\n\tsh -c 'echo " + t + " > $@.tmp && mv $@.tmp $@'\n";
  }
  mk = all + "\n\tcat t* | wc -l > count\n" + mk;
  {
    FILE* f = fopen((build.path() + "/Makefile").c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(mk.c_str(), f);
    fclose(f);
  }
  ProcResult r = Traced({"-w", build.path(), "--passthrough", "openat,execve,newfstatat", "--",
                         "make", "-s", "-j4", "-C", build.path()});
  EXPECT_EQ(r.code(), 0) << r.err;
  EXPECT_EQ(testing::ReadFile(build.path() + "/count"), "12\n");
}

TEST_F(RunTest, SixtyFourThreadsConcurrently) {
  ProcResult r =
      Traced({"--stats", "--passthrough", "getppid,openat,close", "--", TC_THREADS, "100"});
  EXPECT_EQ(r.code(), 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
  // 64 threads x 100 x 3 notified calls, at least.
  size_t at = r.err.find(" notifications (");
  ASSERT_NE(at, std::string::npos) << r.err;
  size_t start = r.err.rfind(' ', at - 1) + 1;
  EXPECT_GE(std::stoul(r.err.substr(start, at - start)), 64u * 100 * 3) << r.err;
}

TEST_F(RunTest, ThousandShortLivedProcesses) {
  ProcResult r = Traced({"--passthrough", "getppid,exit_group", "--", TC_MANY_PROCS, "1000"});
  EXPECT_EQ(r.code(), 0) << r.err;
  EXPECT_EQ(r.out, "ok 1000\n");
}

TEST_F(RunTest, DenyListUnderTrace) {
  ProcResult r = Traced({"--", TC_DENY});
  ASSERT_EQ(r.code(), 0) << r.err;
  std::map<std::string, int> errnos;
  std::istringstream in(r.out);
  std::string name;
  int err;
  while (in >> name >> err) errnos[name] = err;
  ASSERT_GE(errnos.size(), 30u);
  for (const auto& [n, e] : errnos) {
    EXPECT_EQ(e, n == "clone3" ? ENOSYS : EPERM) << n;
  }
  EXPECT_EQ(errnos["io_uring_setup"], EPERM);
}

TEST_F(RunTest, X32SyscallKillsTheCommand) {
  ProcResult r = Traced({"--", TC_X32});
  EXPECT_EQ(r.code(), 128 + SIGSYS);
  EXPECT_EQ(r.out, "before\n");
}

// Waits until `n` processes have the command line `needle` (true), or, for
// n == 0, until none has.
bool WaitForProcesses(const std::string& needle, size_t n, int seconds) {
  for (int i = 0; i < seconds * 50; ++i) {
    size_t found = testing::FindProcesses(needle).size();
    if (n == 0 ? found == 0 : found >= n) return true;
    usleep(20000);
  }
  return false;
}

void SignalEndsTheTree(int sig, const std::string& cwd) {
  // A per-test marker so concurrent runs do not see each other's sleeps.
  std::string marker = "9" + std::to_string(getpid() % 100000) + "." + std::to_string(sig);
  testing::Subprocess trace(
      Trace({"--", "sh", "-c", "sleep " + marker + " & sleep " + marker + " & wait"}), cwd);
  ASSERT_TRUE(WaitForProcesses("sleep " + marker, 2, 30)) << "tree did not start";
  kill(trace.pid(), sig);
  ProcResult r = trace.Wait(kTimeout);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.code(), 128 + sig);
  EXPECT_TRUE(WaitForProcesses("sleep " + marker, 0, 30)) << "sandboxed processes survived";
}

TEST_F(RunTest, SigintEndsTheTreeCleanly) { SignalEndsTheTree(SIGINT, work_.path()); }
TEST_F(RunTest, SigtermEndsTheTreeCleanly) { SignalEndsTheTree(SIGTERM, work_.path()); }
TEST_F(RunTest, SigkillOfTheSupervisorKillsTheTree) { SignalEndsTheTree(SIGKILL, work_.path()); }

TEST_F(RunTest, PrintFeaturesSaysWhatIsEnforced) {
  ProcResult r = Traced({"--print-features", "--seed", "1"});
  EXPECT_EQ(r.code(), 0);
  EXPECT_NE(r.out.find("landlock: ABI "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("seccomp deny: "), std::string::npos);
  EXPECT_NE(r.out.find("io_uring_setup"), std::string::npos);
  size_t notify = r.out.find("seccomp notify: ");
  ASSERT_NE(notify, std::string::npos) << r.out;
  std::string line = r.out.substr(notify, r.out.find('\n', notify) - notify) + " ";
  for (const char* name : {" open ", " openat ", " getrandom ", " openat2 "}) {
    EXPECT_NE(line.find(name), std::string::npos) << name << " not in " << line;
  }
  ProcResult v = Traced({"-v", "--", "true"});
  EXPECT_NE(v.err.find("landlock: ABI"), std::string::npos);
}

}  // namespace
}  // namespace sandtrace
