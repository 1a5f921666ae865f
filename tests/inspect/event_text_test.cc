// strace-style decoding of events (replay/inspect/event_text.h).
#include "replay/inspect/event_text.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>

namespace sandtrace::inspect {
namespace {

using trace::DecisionKind;
using trace::EventRecord;
using trace::TraceeCall;
using trace::TraceeCallKind;

constexpr uint64_t kFdCwd = static_cast<uint64_t>(-100);
constexpr uint64_t kAddr = 0x5555000010000;

TraceeCall Call(TraceeCallKind kind, uint64_t addr, std::string bytes) {
  TraceeCall c;
  c.kind = kind;
  c.addr = addr;
  c.length = 4096;
  c.bytes = std::move(bytes);
  return c;
}

EventRecord Openat(const std::string& path, uint64_t flags, uint64_t mode = 0) {
  EventRecord e;
  e.tid = 41000;
  e.arch = AUDIT_ARCH_X86_64;
  e.nr = 257;
  e.args = {kFdCwd, kAddr, flags, mode, 0, 0};
  TraceeCall read;
  read.kind = TraceeCallKind::kReadString;
  read.addr = kAddr;
  read.bytes = path;
  e.calls.push_back(read);
  e.received_ns = 1000;
  e.handler_start_ns = 2000;
  e.handler_end_ns = 2000 + 12'400;
  e.response_sent_ns = 15'000;
  e.outcome = trace::ResponseOutcome::kSent;
  return e;
}

TEST(InspectEventText, MatchesTheIssueExample) {
  EventRecord e = Openat("src/main.c", O_RDONLY | O_CLOEXEC);
  e.decision.kind = DecisionKind::kInjectFd;
  e.decision.file = {trace::FileRoot::kLower, "src/main.c", O_RDONLY | O_CLOEXEC, O_CLOEXEC, 3};
  EXPECT_EQ(EventText().Line(e),
            "[41000] openat(AT_FDCWD, \"src/main.c\", O_RDONLY|O_CLOEXEC) = inject fd 3 (lower) "
            "<12.4µs>");
}

TEST(InspectEventText, InjectedPathShownWhenItDiffersFromTheArgument) {
  EventRecord e = Openat("obj/../a.o", O_WRONLY | O_CREAT, 0644);
  e.decision.kind = DecisionKind::kInjectFd;
  e.decision.file = {trace::FileRoot::kUpper, "a.o", O_WRONLY | O_CREAT, 0, 4};
  EXPECT_EQ(EventText().Decision(e), "inject fd 4 (upper \"a.o\")");
  // The mode is shown because O_CREAT is set.
  EXPECT_EQ(EventText().Call(e), "openat(AT_FDCWD, \"obj/../a.o\", O_WRONLY|O_CREAT, 0644)");
}

TEST(InspectEventText, ModeHiddenWithoutCreate) {
  EventRecord e = Openat("a", O_RDONLY, 0777);
  EXPECT_EQ(EventText().Call(e), "openat(AT_FDCWD, \"a\", O_RDONLY)");
}

TEST(InspectEventText, AnAarch64EventUsesItsOwnNumbersAndFlagValues) {
  // aarch64: openat is 56, and 0x4000 is O_DIRECTORY there (O_DIRECT on
  // x86_64); 0x8000 is O_NOFOLLOW there (O_LARGEFILE on x86_64).
  EventRecord e = Openat("d", 0x4000 | 0x8000);
  e.arch = AUDIT_ARCH_AARCH64;
  e.nr = 56;
  EXPECT_EQ(EventText().Call(e), "openat(AT_FDCWD, \"d\", O_RDONLY|O_DIRECTORY|O_NOFOLLOW)");
}

TEST(InspectEventText, DecisionsAndOutcomes) {
  EventRecord e = Openat("a", O_RDONLY);
  e.decision.kind = DecisionKind::kErrno;
  e.decision.error = ENOENT;
  EXPECT_EQ(EventText().Decision(e), "-1 ENOENT (No such file or directory)");
  e.decision.error = 4095;
  EXPECT_EQ(EventText().Decision(e), "-1 errno 4095");
  e.decision.kind = DecisionKind::kReturn;
  e.decision.value = 7;
  e.outcome = trace::ResponseOutcome::kTargetGone;
  EXPECT_EQ(EventText().Decision(e), "7 (target gone)");
  e.decision.kind = DecisionKind::kContinue;
  e.outcome = trace::ResponseOutcome::kInterrupted;
  e.restart_of_seq = 12;
  EXPECT_EQ(EventText().Decision(e), "continue (interrupted) (restart of #12)");
  e.decision.kind = DecisionKind::kRestart;
  e.decision.arg = 0;
  e.decision.value = 0x7ffd1000;
  e.decision.error = ENOEXEC;
  e.outcome = trace::ResponseOutcome::kSent;
  e.restart_of_seq.reset();
  EXPECT_EQ(EventText().Decision(e),
            "restart with arg0=0x7ffd1000 (else -1 ENOEXEC (Exec format error))");
  e.decision.arg2 = 2;
  e.decision.value2 = 0x2f;
  e.decision.error = ECONNREFUSED;
  EXPECT_EQ(EventText().Decision(e),
            "restart with arg0=0x7ffd1000, arg2=0x2f (else -1 ECONNREFUSED (Connection refused))");
  e.decision.kind = DecisionKind::kUnknown;
  EXPECT_EQ(EventText().Decision(e), "?");
}

TEST(InspectEventText, PathsAreEscapedButNeverCut) {
  const std::string long_path(100, 'p');
  TextOptions options;
  options.string_limit = 8;
  EXPECT_EQ(EventText(options).Call(Openat(long_path, O_RDONLY)),
            "openat(AT_FDCWD, \"" + long_path + "\", O_RDONLY)");
  EXPECT_EQ(EventText().Call(Openat("a\"b\\c\n\t\x01\xff", O_RDONLY)),
            "openat(AT_FDCWD, \"a\\\"b\\\\c\\n\\t\\x01\\xff\", O_RDONLY)");
}

TEST(InspectEventText, StringsAndBuffersAreCutLikeStraceS) {
  // symlinkat(target: a string, newdirfd, linkpath: a path)
  EventRecord e;
  e.tid = 1;
  e.arch = AUDIT_ARCH_X86_64;
  e.nr = 266;
  e.args = {0x1000, kFdCwd, 0x2000, 0, 0, 0};
  e.calls = {Call(TraceeCallKind::kReadString, 0x1000, "0123456789abcdef"),
             Call(TraceeCallKind::kReadString, 0x2000, "a-long-link-name")};
  TextOptions options;
  options.string_limit = 4;
  EXPECT_EQ(EventText(options).Call(e), "symlinkat(\"0123\"..., AT_FDCWD, \"a-long-link-name\")");

  EventRecord w;
  w.tid = 1;
  w.arch = AUDIT_ARCH_X86_64;
  w.nr = 1;  // write(fd, buf, count)
  w.args = {1, 0x3000, 11, 0, 0, 0};
  w.calls = {Call(TraceeCallKind::kReadMemory, 0x3000, "hello\nworld")};
  EXPECT_EQ(EventText(options).Call(w), "write(1, \"hell\"..., 11)");
  options.string_limit = 32;
  EXPECT_EQ(EventText(options).Call(w), "write(1, \"hello\\nworld\", 11)");
}

TEST(InspectEventText, InstalledFilesAreShown) {
  EventRecord e;
  e.tid = 1;
  e.arch = AUDIT_ARCH_X86_64;
  e.nr = 293;  // pipe2
  e.args = {0x5000, O_CLOEXEC, 0, 0, 0, 0};
  TraceeCall install;
  install.kind = TraceeCallKind::kInstallFd;
  install.file = {trace::FileRoot::kOutside, "/tmp/p", O_RDONLY, O_CLOEXEC, 7};
  e.calls.push_back(install);
  install.error = EMFILE;  // a failed one is not shown
  e.calls.push_back(install);
  e.decision.kind = DecisionKind::kReturn;
  EXPECT_EQ(EventText().Decision(e), "0 (installed fd 7 (outside \"/tmp/p\"))");
}

TEST(InspectEventText, OutputBuffersShowWhatTheHandlerWrote) {
  EventRecord e;
  e.tid = 1;
  e.arch = AUDIT_ARCH_X86_64;
  e.nr = 318;  // getrandom(buf, count, flags)
  e.args = {0x4000, 4, 0, 0, 0, 0};
  e.calls = {Call(TraceeCallKind::kWriteMemory, 0x4000, std::string("\x00\x01\xfe\xff", 4))};
  e.decision.kind = DecisionKind::kReturn;
  e.decision.value = 4;
  EXPECT_EQ(EventText().Call(e), "getrandom(\"\\x00\\x01\\xfe\\xff\", 4, 0)");
}

TEST(InspectEventText, UnreadOrFailedReadsShowTheAddress) {
  EventRecord e = Openat("x", O_RDONLY);
  e.calls[0].error = EFAULT;
  EXPECT_EQ(EventText().Call(e), "openat(AT_FDCWD, 0x5555000010000, O_RDONLY)");
  e.calls.clear();
  EXPECT_EQ(EventText().Call(e), "openat(AT_FDCWD, 0x5555000010000, O_RDONLY)");
  EXPECT_FALSE(EventPath(e).has_value());
}

TEST(InspectEventText, UnknownSyscallsAndArches) {
  EventRecord e;
  e.arch = AUDIT_ARCH_X86_64;
  e.nr = 999;
  e.args = {1, 0xff, 0, 0, 0, 0};
  EXPECT_EQ(EventText().Call(e), "syscall_999(0x1, 0xff, 0, 0, 0, 0)");
  EXPECT_EQ(SyscallName(AUDIT_ARCH_X86_64, 257), "openat");
  EXPECT_EQ(SyscallName(0x40000003, 5), "0x40000003:syscall_5");
}

TEST(InspectEventText, PrefixesAndProcessLines) {
  EventRecord e = Openat("a", O_RDONLY);
  e.seq = 17;
  e.received_ns = 3'500'000'000;
  e.decision.kind = DecisionKind::kContinue;
  TextOptions options;
  options.show_seq = true;
  options.show_time = true;
  options.time_base_ns = 1'000'000'000;
  EXPECT_EQ(EventText(options).Line(e),
            "#17 2.500000 [41000] openat(AT_FDCWD, \"a\", O_RDONLY) = continue <12.4µs>");

  trace::ProcessRecord p;
  p.kind = trace::ProcessEventKind::kExit;
  p.pid = 7;
  p.signal = 9;
  EXPECT_EQ(EventText().Line(p), "[7] +++ killed by SIGKILL +++");
  p.signal = 0;
  p.exit_status = 3;
  EXPECT_EQ(EventText().Line(p), "[7] +++ exited with 3 +++");
  p.kind = trace::ProcessEventKind::kExec;
  p.exec_path = "/bin/sh";
  p.argv = {"sh", "-c", "echo hi"};
  EXPECT_EQ(EventText().Line(p), "[7] +++ exec \"/bin/sh\" [\"sh\", \"-c\", \"echo hi\"] +++");

  trace::CowRecord c;
  c.kind = trace::CowEventKind::kRename;
  c.path = "a";
  c.detail = "b";
  c.event_seq = 4;
  EXPECT_EQ(EventText().Line(c), "--- cow rename \"a\" \"b\" (event #4) ---");
}

TEST(InspectEventText, Durations) {
  EXPECT_EQ(FormatDuration(0), "0ns");
  EXPECT_EQ(FormatDuration(999), "999ns");
  EXPECT_EQ(FormatDuration(12'400), "12.4µs");
  EXPECT_EQ(FormatDuration(1'250'000), "1.25ms");
  EXPECT_EQ(FormatDuration(3'200'000'000), "3.20s");
  EventRecord e;
  e.handler_start_ns = 10;
  e.handler_end_ns = 5;  // out of order: no latency rather than a huge one
  EXPECT_EQ(HandlerNs(e), 0u);
}

}  // namespace
}  // namespace sandtrace::inspect
