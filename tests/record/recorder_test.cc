// Unit tests of the recorder with a fake Tracee and fake notifications: the
// call log, every record kind written and read back, restart tags, COW
// causes, write errors, and that a recorded log serves a replayed handler.
#include "tracer/record/recorder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <cstring>
#include <map>

#include "tests/record/record_test_util.h"
#include "tracer/base/errors.h"
#include "tracer/core/seed_handlers.h"
#include "tracer/record/recording_tracee.h"

namespace sandtrace::record {
namespace {

using rtest::ReadTrace;
using rtest::TempDir;

// A Tracee over a small fake address space.
class FakeTracee final : public Tracee {
 public:
  std::map<uint64_t, std::string> mem;  // region start -> bytes
  std::string cwd = "/work/dir";
  mode_t umask = 022;
  bool valid = true;
  std::string written;
  Result<size_t> ReadMemory(uint64_t addr, std::span<std::byte> out) override {
    auto it = mem.find(addr);
    if (it == mem.end()) return Err(EFAULT, "fake");
    size_t n = std::min(out.size(), it->second.size());
    std::memcpy(out.data(), it->second.data(), n);
    return n;
  }
  Result<std::string> ReadString(uint64_t addr, size_t max_len) override {
    auto it = mem.find(addr);
    if (it == mem.end()) return Err(EFAULT, "fake");
    std::string s = it->second.substr(0, it->second.find('\0'));
    if (s.size() >= max_len) return Err(ENAMETOOLONG, "fake");
    return s;
  }
  Result<std::string> ReadProcLink(ProcLink which, int fd) override {
    if (which == ProcLink::kCwd) return cwd;
    if (which == ProcLink::kFd && fd == 3) return std::string("/work/dir/file");
    return Err(ENOENT, "fake");
  }
  Result<mode_t> ReadUmask() override { return umask; }
  bool IdValid() override { return valid; }
  Result<size_t> WriteMemory(uint64_t addr, std::span<const std::byte> data) override {
    if (addr == 0) return Err(EFAULT, "fake");
    written.assign(reinterpret_cast<const char*>(data.data()), data.size());
    return data.size();
  }
  Result<ProcIds> ReadProcIds() override { return ProcIds{4000, 3999, 123456789}; }
  Result<int64_t> SeekFd(int fd, int64_t offset, int whence) override {
    if (fd != 5) return Err(EBADF, "fake");
    return whence == SEEK_CUR ? 100 + offset : offset;
  }
  Result<int> InstallFd(int srcfd, uint32_t, const InjectedFile&) override {
    if (srcfd < 0) return Err(EBADF, "fake");
    return 9;
  }
  Result<uint64_t> ReadStackPointer() override { return uint64_t{0x7ffd00001000}; }
  Result<std::string> ReadFileHead(int fd, size_t max) override {
    if (fd != 7) return Err(EBADF, "fake");
    return std::string("#!/bin/sh\n").substr(0, max);
  }
};

Notification Note(uint64_t seq, int nr, uint32_t tid = 100) {
  Notification n;
  n.seq = seq;
  n.id = 0x1000 + seq;
  n.tid = tid;
  n.arch = NativeSyscalls().audit_arch();
  n.nr = nr;
  n.ip = 0x7f0000001234;
  n.args = {1, 2, 3, 4, 5, 6};
  return n;
}

NotificationTimes Times(uint64_t base) { return {base, base + 10, base + 500, base + 700}; }

std::unique_ptr<trace::TraceWriter> OpenWriter(const std::string& path) {
  auto w = trace::TraceWriter::Open(path);
  if (!w.ok()) throw Fatal(w.error().Message());
  return std::move(*w);
}

trace::HeaderRecord SomeHeader() {
  trace::HeaderRecord h;
  h.tool_version = "test";
  h.argv = {"cmd", "arg"};
  h.cwd = "/work/dir";
  h.workdir = "/work/dir";
  h.handler_sets = {"t"};
  return h;
}

TEST(RecordTracee, LogsEveryCallWithInputsAndResultsInOrder) {
  FakeTracee live;
  live.mem[0x1000] = std::string("hello\0", 6);
  live.mem[0x2000] = "0123456789";
  RecordingTracee rt;
  std::vector<trace::TraceeCall> log;
  rt.Begin(live, log);
  std::byte buf[4];
  EXPECT_EQ(*rt.ReadMemory(0x2000, buf), 4u);
  EXPECT_EQ(*rt.ReadString(0x1000, 4096), "hello");
  EXPECT_EQ(*rt.ReadProcLink(ProcLink::kFd, 3), "/work/dir/file");
  EXPECT_EQ(*rt.ReadProcLink(ProcLink::kCwd, 99), "/work/dir");
  EXPECT_EQ(*rt.ReadUmask(), 022u);
  EXPECT_TRUE(rt.IdValid());
  const char payload[] = "xyz";
  EXPECT_EQ(*rt.WriteMemory(0x3000, std::as_bytes(std::span(payload, 3))), 3u);
  rt.End();

  ASSERT_EQ(log.size(), 7u);
  EXPECT_EQ(log[0].kind, trace::TraceeCallKind::kReadMemory);
  EXPECT_EQ(log[0].addr, 0x2000u);
  EXPECT_EQ(log[0].length, 4u);
  EXPECT_EQ(log[0].bytes, "0123");
  EXPECT_EQ(log[1].kind, trace::TraceeCallKind::kReadString);
  EXPECT_EQ(log[1].addr, 0x1000u);
  EXPECT_EQ(log[1].length, 4096u);
  EXPECT_EQ(log[1].bytes, "hello");
  EXPECT_EQ(log[2].kind, trace::TraceeCallKind::kReadProcLink);
  EXPECT_EQ(log[2].link, trace::ProcLink::kFd);
  EXPECT_EQ(log[2].fd, 3);
  EXPECT_EQ(log[2].bytes, "/work/dir/file");
  EXPECT_EQ(log[3].link, trace::ProcLink::kCwd);
  EXPECT_EQ(log[3].fd, 0);  // the fd only matters for kFd
  EXPECT_EQ(log[4].kind, trace::TraceeCallKind::kReadUmask);
  EXPECT_EQ(log[4].result, 022u);
  EXPECT_EQ(log[5].kind, trace::TraceeCallKind::kIdValid);
  EXPECT_EQ(log[5].result, 1u);
  EXPECT_EQ(log[6].kind, trace::TraceeCallKind::kWriteMemory);
  EXPECT_EQ(log[6].addr, 0x3000u);
  EXPECT_EQ(log[6].bytes, "xyz");
  EXPECT_EQ(log[6].result, 3u);
  for (const auto& c : log) EXPECT_EQ(c.error, 0);
}

TEST(RecordTracee, ErrorsAreRecordedAsErrnoWithoutResults) {
  FakeTracee live;
  live.valid = false;
  RecordingTracee rt;
  std::vector<trace::TraceeCall> log;
  rt.Begin(live, log);
  std::byte buf[8];
  EXPECT_EQ(rt.ReadMemory(0xdead, buf).code(), EFAULT);
  EXPECT_EQ(rt.ReadString(0xdead, 10).code(), EFAULT);
  EXPECT_EQ(rt.ReadProcLink(ProcLink::kExe, 0).code(), ENOENT);
  EXPECT_FALSE(rt.IdValid());
  EXPECT_EQ(rt.WriteMemory(0, std::as_bytes(std::span("ab", 2))).code(), EFAULT);
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0].error, EFAULT);
  EXPECT_TRUE(log[0].bytes.empty());
  EXPECT_EQ(log[0].length, 8u);
  EXPECT_EQ(log[1].error, EFAULT);
  EXPECT_EQ(log[2].error, ENOENT);
  EXPECT_EQ(log[2].link, trace::ProcLink::kExe);
  EXPECT_EQ(log[3].result, 0u);
  EXPECT_EQ(log[4].error, EFAULT);
  EXPECT_EQ(log[4].bytes, "ab");  // what the handler tried to write
}

TEST(RecordTracee, TheCowHandlersCallsAreLoggedAndRoundTrip) {
  FakeTracee live;
  RecordingTracee rt;
  trace::EventRecord e;
  rt.Begin(live, e.calls);
  auto ids = rt.ReadProcIds();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->tgid, 4000);
  EXPECT_EQ(*rt.SeekFd(5, 7, SEEK_CUR), 107);
  EXPECT_EQ(rt.SeekFd(6, 0, SEEK_SET).code(), EBADF);
  InjectedFile what{FileRoot::kUpper, "bin/tool", O_RDONLY | O_CLOEXEC, 0};
  EXPECT_EQ(*rt.InstallFd(3, O_CLOEXEC, what), 9);
  EXPECT_EQ(rt.InstallFd(-1, 0, what).code(), EBADF);
  EXPECT_EQ(*rt.ReadStackPointer(), 0x7ffd00001000u);
  EXPECT_EQ(*rt.ReadFileHead(7, 4), "#!/b");
  EXPECT_EQ(rt.ReadFileHead(8, 256).code(), EBADF);
  int performed = 0;
  auto host = rt.HostCall(HostOp::kReadlink, "/opt/link", 0, [&]() -> Result<std::string> {
    ++performed;
    return std::string("target");
  });
  EXPECT_EQ(*host, "target");
  auto host_fail = rt.HostCall(HostOp::kAccess, "/opt/none", 4, [&]() -> Result<std::string> {
    ++performed;
    return Err(ENOENT, "faccessat");
  });
  EXPECT_EQ(host_fail.code(), ENOENT);
  EXPECT_EQ(performed, 2) << "the live call is the handler's own";
  EXPECT_EQ(rt.AddWatch(3, "/st/upper/made", 0x2).code(), ENOSYS);  // the fake has none
  rt.End();
  ASSERT_EQ(e.calls.size(), 11u);
  EXPECT_EQ(e.calls[10].kind, trace::TraceeCallKind::kAddWatch);
  EXPECT_EQ(e.calls[10].fd, 3);
  EXPECT_EQ(e.calls[10].address, "/st/upper/made");
  EXPECT_EQ(e.calls[10].offset, 0x2);
  EXPECT_EQ(e.calls[10].error, ENOSYS);
  EXPECT_EQ(e.calls[8].kind, trace::TraceeCallKind::kHostCall);
  EXPECT_EQ(e.calls[8].host_op, trace::HostOp::kReadlink);
  EXPECT_EQ(e.calls[8].address, "/opt/link");
  EXPECT_EQ(e.calls[8].bytes, "target");
  EXPECT_EQ(e.calls[8].error, 0);
  EXPECT_EQ(e.calls[9].host_op, trace::HostOp::kAccess);
  EXPECT_EQ(e.calls[9].offset, 4);
  EXPECT_EQ(e.calls[9].error, ENOENT);
  EXPECT_EQ(e.calls[6].kind, trace::TraceeCallKind::kReadFileHead);
  EXPECT_EQ(e.calls[6].length, 4u);
  EXPECT_EQ(e.calls[6].bytes, "#!/b");
  EXPECT_EQ(e.calls[7].error, EBADF);
  EXPECT_EQ(e.calls[5].kind, trace::TraceeCallKind::kReadStackPointer);
  EXPECT_EQ(e.calls[5].result, 0x7ffd00001000u);
  EXPECT_EQ(e.calls[0].kind, trace::TraceeCallKind::kReadProcIds);
  EXPECT_EQ(e.calls[0].tgid, 4000);
  EXPECT_EQ(e.calls[0].ppid, 3999);
  EXPECT_EQ(e.calls[0].start_time, 123456789u);
  EXPECT_EQ(e.calls[1].kind, trace::TraceeCallKind::kSeekFd);
  EXPECT_EQ(e.calls[1].fd, 5);
  EXPECT_EQ(e.calls[1].offset, 7);
  EXPECT_EQ(e.calls[1].whence, SEEK_CUR);
  EXPECT_EQ(e.calls[1].result, 107u);
  EXPECT_EQ(e.calls[2].error, EBADF);
  EXPECT_EQ(e.calls[3].kind, trace::TraceeCallKind::kInstallFd);
  EXPECT_EQ(e.calls[3].file.root, trace::FileRoot::kUpper);
  EXPECT_EQ(e.calls[3].file.path, "bin/tool");
  EXPECT_EQ(e.calls[3].file.open_flags, O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(e.calls[3].file.fd_flags, static_cast<uint32_t>(O_CLOEXEC));
  EXPECT_EQ(e.calls[3].file.fd, 9);
  EXPECT_EQ(e.calls[4].error, EBADF);
  EXPECT_EQ(e.calls[4].file.fd, -1);

  // Through the file and back, field for field.
  TempDir dir;
  auto writer = OpenWriter(dir.path() + "/t.capnp");
  ASSERT_TRUE(writer->Write(SomeHeader()).ok());
  e.decision.kind = trace::DecisionKind::kContinue;
  e.outcome = trace::ResponseOutcome::kSent;
  ASSERT_TRUE(writer->Write(e).ok());
  ASSERT_TRUE(writer->Close().ok());
  auto c = ReadTrace(dir.path() + "/t.capnp");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].calls, e.calls);
  // And they serve a replay.
  rtest::RecordedTracee replay(c.events[0].calls);
  EXPECT_EQ(replay.ReadProcIds()->ppid, 3999);
  EXPECT_EQ(*replay.SeekFd(5, 7, SEEK_CUR), 107);
  EXPECT_EQ(replay.SeekFd(6, 0, SEEK_SET).code(), EBADF);
  EXPECT_EQ(*replay.InstallFd(77, O_CLOEXEC, what), 9);
  EXPECT_EQ(replay.InstallFd(-1, 0, what).code(), EBADF);
  EXPECT_EQ(*replay.ReadStackPointer(), 0x7ffd00001000u);
  EXPECT_EQ(*replay.ReadFileHead(-1, 4), "#!/b");  // the bytes come from the record
  EXPECT_EQ(replay.ReadFileHead(-1, 256).code(), EBADF);
  auto unused = []() -> Result<std::string> { return Err(EIO, "replay must not run it"); };
  EXPECT_EQ(*replay.HostCall(HostOp::kReadlink, "/opt/link", 0, unused), "target");
  EXPECT_EQ(replay.HostCall(HostOp::kAccess, "/opt/none", 4, unused).code(), ENOENT);
  EXPECT_EQ(replay.AddWatch(3, "/st/upper/made", 0x2).code(), ENOSYS);
  EXPECT_TRUE(replay.mismatches().empty());
  EXPECT_TRUE(replay.all_consumed());
}

TEST(RecordTracee, RecycledCallsComeBackClean) {
  FakeTracee live;
  live.mem[0x1000] = std::string("a-long-path-that-does-not-fit-sso\0", 34);
  RecordingTracee rt;
  std::vector<trace::TraceeCall> log;
  rt.Begin(live, log);
  (void)rt.ReadString(0x1000, 100);
  (void)rt.ReadUmask();
  rt.End();
  rt.Recycle(log);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(rt.pool_size(), 2u);
  rt.Begin(live, log);
  EXPECT_TRUE(rt.IdValid());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].kind, trace::TraceeCallKind::kIdValid);
  EXPECT_TRUE(log[0].bytes.empty());
  EXPECT_EQ(log[0].addr, 0u);
  EXPECT_EQ(log[0].length, 0u);
  EXPECT_EQ(rt.pool_size(), 1u);
  // Using the decorator between events is a bug.
  rt.End();
  EXPECT_THROW(rt.IdValid(), Fatal);
}

TEST(RecordRecorder, EveryRecordKindRoundTrips) {
  TempDir dir;
  std::string path = dir.path() + "/t.capnp";
  auto writer = OpenWriter(path);
  RecorderOptions ro;
  ro.process_monitor = false;
  Recorder rec(*writer, ro);
  ASSERT_TRUE(rec.Begin(SomeHeader()).ok());

  FakeTracee live;
  live.mem[0x5000] = std::string("/etc/passwd\0", 12);

  // 0: an inject decision made after reading a path.
  Notification n0 = Note(0, __NR_openat);
  Tracee& t0 = rec.WrapTracee(n0, live);
  ASSERT_TRUE(ReadPathChecked(t0, 0x5000).ok());
  rec.OnCopyUp("a/b", cow::FileType::kRegular, 42);  // during the handler
  DispatchResult d0;
  UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  d0.decision =
      Decision::Inject(std::move(fd), InjectedFile{FileRoot::kLower, "etc/x", O_RDONLY, O_CLOEXEC});
  Response r0;
  r0.child_fd = 7;
  rec.OnNotification(n0, d0, r0, Times(1000));

  // 1: errno, interrupted; 2: the same call again from the same tid = restart.
  Notification n1 = Note(1, __NR_mkdir, 200);
  (void)rec.WrapTracee(n1, live);
  DispatchResult d1;
  d1.decision = Decision::Errno(EACCES);
  Response r1;
  r1.outcome = ResponseOutcome::kInterrupted;
  rec.OnNotification(n1, d1, r1, Times(2000));
  Notification n2 = Note(2, __NR_mkdir, 200);
  (void)rec.WrapTracee(n2, live);
  DispatchResult d2;
  d2.decision = Decision::Return(0);
  rec.OnNotification(n2, d2, Response{}, Times(3000));
  // 3: continue, target gone; different tid, not a restart.
  Notification n3 = Note(3, __NR_mkdir, 300);
  (void)rec.WrapTracee(n3, live);
  Response r3;
  r3.outcome = ResponseOutcome::kTargetGone;
  rec.OnNotification(n3, DispatchResult{}, r3, Times(4000));
  // 4: inject that failed.
  Notification n4 = Note(4, __NR_openat);
  (void)rec.WrapTracee(n4, live);
  DispatchResult d4;
  d4.decision = Decision::Inject(UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC)),
                                 InjectedFile{FileRoot::kUpper, "new", O_RDWR | O_CREAT, 0});
  Response r4;
  r4.outcome = ResponseOutcome::kFailed;
  r4.error = EMFILE;
  rec.OnNotification(n4, d4, r4, Times(5000));

  ProcessEvent spawn;
  spawn.kind = ProcessEvent::Kind::kSpawn;
  spawn.pid = 100;
  spawn.root = true;
  spawn.argv = {"cmd", "arg"};
  spawn.time = 999;
  rec.OnProcessEvent(spawn);
  ProcessEvent exit;
  exit.kind = ProcessEvent::Kind::kExit;
  exit.pid = 100;
  exit.root = true;
  exit.signal = SIGKILL;
  exit.time = 6000;
  rec.OnProcessEvent(exit);
  rec.OnWhiteout("gone");  // outside any event

  ASSERT_TRUE(rec.EndRun().ok());
  cow::ChangeList changes = {{cow::ChangeKind::kAdded, "new", cow::FileType::kRegular},
                             {cow::ChangeKind::kDeleted, "gone"}};
  ASSERT_TRUE(rec.WriteChanges(changes).ok());
  rec.OnDiscard(OkStatus());
  ASSERT_TRUE(rec.Finish(0, SIGKILL, true).ok());
  EXPECT_EQ(rec.stats().events, 5u);
  EXPECT_EQ(rec.stats().restarts, 1u);

  auto c = ReadTrace(path);
  ASSERT_EQ(c.open_error, "");
  ASSERT_EQ(c.read_error, "");
  EXPECT_EQ(c.warning, "");
  ASSERT_TRUE(c.header.has_value());
  EXPECT_EQ(c.header->argv, SomeHeader().argv);
  EXPECT_EQ(c.header->snapshot_mode, trace::SnapshotMode::kMetadata);
  ASSERT_EQ(c.events.size(), 5u);

  const auto& e0 = c.events[0];
  EXPECT_EQ(e0.seq, 0u);
  EXPECT_EQ(e0.id, 0x1000u);
  EXPECT_EQ(e0.tid, 100u);
  EXPECT_EQ(e0.nr, __NR_openat);
  EXPECT_EQ(e0.ip, 0x7f0000001234u);
  EXPECT_EQ(e0.args, (std::array<uint64_t, 6>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(e0.received_ns, 1000u);
  EXPECT_EQ(e0.handler_start_ns, 1010u);
  EXPECT_EQ(e0.handler_end_ns, 1500u);
  EXPECT_EQ(e0.response_sent_ns, 1700u);
  ASSERT_EQ(e0.calls.size(), 2u);  // ReadString then IdValid
  EXPECT_EQ(e0.calls[0].bytes, "/etc/passwd");
  EXPECT_EQ(e0.calls[1].kind, trace::TraceeCallKind::kIdValid);
  EXPECT_EQ(e0.decision.kind, trace::DecisionKind::kInjectFd);
  EXPECT_EQ(e0.decision.file.root, trace::FileRoot::kLower);
  EXPECT_EQ(e0.decision.file.path, "etc/x");
  EXPECT_EQ(e0.decision.file.open_flags, O_RDONLY);
  EXPECT_EQ(e0.decision.file.fd_flags, static_cast<uint32_t>(O_CLOEXEC));
  EXPECT_EQ(e0.decision.file.fd, 7);
  EXPECT_EQ(e0.outcome, trace::ResponseOutcome::kSent);
  EXPECT_FALSE(e0.restart_of_seq.has_value());

  EXPECT_EQ(c.events[1].decision.kind, trace::DecisionKind::kErrno);
  EXPECT_EQ(c.events[1].decision.error, EACCES);
  EXPECT_EQ(c.events[1].outcome, trace::ResponseOutcome::kInterrupted);
  EXPECT_TRUE(c.events[1].calls.empty());
  EXPECT_EQ(c.events[2].decision.kind, trace::DecisionKind::kReturn);
  EXPECT_EQ(c.events[2].restart_of_seq, std::optional<uint64_t>(1));
  EXPECT_EQ(c.events[3].decision.kind, trace::DecisionKind::kContinue);
  EXPECT_EQ(c.events[3].outcome, trace::ResponseOutcome::kTargetGone);
  EXPECT_FALSE(c.events[3].restart_of_seq.has_value());
  EXPECT_EQ(c.events[4].decision.file.root, trace::FileRoot::kUpper);
  EXPECT_EQ(c.events[4].decision.file.fd, -1);
  EXPECT_EQ(c.events[4].outcome, trace::ResponseOutcome::kFailed);

  ASSERT_EQ(c.processes.size(), 2u);
  EXPECT_EQ(c.processes[0].kind, trace::ProcessEventKind::kSpawn);
  EXPECT_EQ(c.processes[0].pid, 100u);
  EXPECT_EQ(c.processes[0].argv, SomeHeader().argv);
  EXPECT_EQ(c.processes[1].kind, trace::ProcessEventKind::kExit);
  EXPECT_EQ(c.processes[1].signal, SIGKILL);

  // copy-up (caused by event 0), whiteout (no cause), 2 changes, discard.
  ASSERT_EQ(c.cows.size(), 5u);
  EXPECT_EQ(c.cows[0].kind, trace::CowEventKind::kCopyUp);
  EXPECT_EQ(c.cows[0].path, "a/b");
  EXPECT_EQ(c.cows[0].event_seq, std::optional<uint64_t>(0));
  EXPECT_EQ(c.cows[1].kind, trace::CowEventKind::kWhiteout);
  EXPECT_FALSE(c.cows[1].event_seq.has_value());
  EXPECT_EQ(c.cows[2].kind, trace::CowEventKind::kChange);
  EXPECT_EQ(c.cows[2].detail, "A");
  EXPECT_EQ(c.cows[3].detail, "D");
  EXPECT_EQ(c.cows[4].kind, trace::CowEventKind::kDiscard);

  ASSERT_TRUE(c.footer.has_value());
  EXPECT_TRUE(c.footer->clean_end);
  EXPECT_EQ(c.footer->signal, SIGKILL);
  EXPECT_EQ(c.footer->totals.events, 5u);
  EXPECT_EQ(c.footer->totals.decisions_inject_fd, 2u);
  ASSERT_EQ(c.footer->changes.size(), 2u);
  EXPECT_EQ(c.footer->changes[0].kind, trace::ChangeKind::kAdded);
  EXPECT_EQ(c.footer->changes[1].path, "gone");
}

// What a RecordedTracee needs: the seed handlers (getrandom writes a
// payload, /dev/urandom opens inject) re-driven from the recorded log make
// the same calls and the same decisions.
TEST(RecordRecorder, RecordedLogServesTheSameHandlerDecisions) {
  HandlerRegistry live_reg, replay_reg;
  ASSERT_TRUE(AddSeedHandlers(live_reg, 7).ok());
  ASSERT_TRUE(AddSeedHandlers(replay_reg, 7).ok());
  TempDir dir;
  std::string path = dir.path() + "/t.capnp";
  auto writer = OpenWriter(path);
  RecorderOptions ro;
  ro.process_monitor = false;
  Recorder rec(*writer, ro);
  ASSERT_TRUE(rec.Begin(SomeHeader()).ok());
  FakeTracee live;
  live.mem[0x9000] = std::string(64, '\0');
  live.mem[0x5000] = std::string("/dev/urandom\0", 13);
  std::vector<Notification> notes;
  for (uint64_t i = 0; i < 6; ++i) {
    Notification n = Note(i, i % 2 == 0 ? __NR_getrandom : __NR_openat);
    if (n.nr == __NR_getrandom) {
      n.args = {0x9000, 16 + i, 0, 0, 0, 0};
    } else {
      n.args = {static_cast<uint64_t>(AT_FDCWD), 0x5000, O_RDONLY, 0, 0, 0};
    }
    notes.push_back(n);
    Tracee& t = rec.WrapTracee(n, live);
    DispatchResult d = live_reg.Dispatch(n, t);
    Response resp;
    resp.child_fd = 5;
    rec.OnNotification(n, d, resp, Times(i * 1000));
  }
  ASSERT_TRUE(rec.Finish(0, 0, true).ok());

  auto c = ReadTrace(path);
  ASSERT_EQ(c.events.size(), notes.size());
  for (size_t i = 0; i < notes.size(); ++i) {
    const auto& e = c.events[i];
    rtest::RecordedTracee replay(e.calls);
    DispatchResult d = replay_reg.Dispatch(notes[i], replay);
    EXPECT_TRUE(replay.mismatches().empty()) << "event " << i << ": " << replay.mismatches()[0];
    EXPECT_TRUE(replay.all_consumed()) << "event " << i;
    EXPECT_EQ(ToTrace(d.decision.kind), e.decision.kind) << "event " << i;
    EXPECT_EQ(d.decision.value, e.decision.value);
    if (d.decision.kind == DecisionKind::kInjectFd) {
      EXPECT_EQ(d.decision.file.path, e.decision.file.path);
      EXPECT_EQ(ToTrace(d.decision.file.root), e.decision.file.root);
    }
  }
  // The getrandom payloads were recorded as the bytes written.
  ASSERT_FALSE(c.events[0].calls.empty());
  EXPECT_EQ(c.events[0].calls.back().kind, trace::TraceeCallKind::kWriteMemory);
  EXPECT_EQ(c.events[0].calls.back().bytes.size(), 16u);
}

// The writer thread hands the TraceWriter the same records, in the same
// order, as inline writing does: started at once, or mid-run (after 1,000
// events written inline).
TEST(RecordRecorder, TheWriterThreadWritesWhatInlineWritingWrites) {
  TempDir dir;
  std::vector<trace::Record> traces[3];
  for (int threaded = 0; threaded < 3; ++threaded) {
    const std::string path = dir.path() + "/t" + std::to_string(threaded) + ".capnp";
    auto writer = OpenWriter(path);
    RecorderOptions ro;
    ro.process_monitor = false;
    ro.writer_thread = threaded >= 1;
    ro.writer_thread_after = threaded == 2 ? 1000 : 0;
    Recorder rec(*writer, ro);
    ASSERT_TRUE(rec.Begin(SomeHeader()).ok());
    FakeTracee live;
    live.mem[0x5000] = std::string("/some/long/path/name/to/a/file.h\0", 33);
    for (uint64_t i = 0; i < 5000; ++i) {
      Notification n = Note(i, i % 2 ? __NR_openat : __NR_mkdir, 100 + i % 7);
      Tracee& t = rec.WrapTracee(n, live);
      for (uint64_t k = 0; k < i % 4; ++k) (void)ReadPathChecked(t, 0x5000);
      if (i % 5 == 0) rec.OnCreate("dir/f" + std::to_string(i), cow::FileType::kRegular);
      DispatchResult d;
      d.decision = Decision::Return(static_cast<int64_t>(i));
      rec.OnNotification(n, d, Response{}, Times(i * 1000));
    }
    ASSERT_TRUE(rec.Finish(0, 0, true).ok());
    EXPECT_EQ(rec.stats().events, 5000u);
    auto c = ReadTrace(path);
    ASSERT_EQ(c.read_error, "");
    traces[threaded] = std::move(c.records);
  }
  for (int other = 1; other < 3; ++other) {
    SCOPED_TRACE(other == 1 ? "thread from the start" : "thread from event 1000");
    ASSERT_EQ(traces[0].size(), traces[other].size());
    for (size_t i = 0; i < traces[0].size(); ++i) {
      if (std::holds_alternative<trace::FooterRecord>(traces[0][i])) continue;  // end_ns differs
      if (auto* c0 = std::get_if<trace::CowRecord>(&traces[0][i])) {
        auto* c1 = std::get_if<trace::CowRecord>(&traces[other][i]);
        ASSERT_NE(c1, nullptr) << i;
        EXPECT_EQ(c0->path, c1->path);
        EXPECT_EQ(c0->event_seq, c1->event_seq);
        continue;  // timestamps differ
      }
      if (std::holds_alternative<trace::HeaderRecord>(traces[0][i])) continue;
      EXPECT_EQ(traces[0][i], traces[other][i]) << "record " << i;
    }
  }
}

TEST(RecordRecorder, AWriteErrorStopsTheRunWithOneLine) {
  int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto writer = trace::TraceWriter::Adopt(UniqueFd(fd), "full.capnp");
  ASSERT_TRUE(writer.ok());
  RecorderOptions ro;
  ro.process_monitor = false;
  Recorder rec(**writer, ro);
  Status s = rec.Begin(SomeHeader());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ENOSPC);
  FakeTracee live;
  Notification n = Note(0, __NR_openat);
  (void)rec.WrapTracee(n, live);
  try {
    rec.OnNotification(n, DispatchResult{}, Response{}, Times(1));
    FAIL() << "no exception";
  } catch (const Fatal& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("full.capnp"), std::string::npos) << what;
    EXPECT_NE(what.find("No space left on device"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_THROW(rec.Tick(), Fatal);
  // Engine callbacks never throw (the engine may be mid-operation).
  EXPECT_NO_THROW(rec.OnCopyUp("x", cow::FileType::kRegular, 1));
  EXPECT_FALSE(rec.Finish(0, 0, true).ok());
}

TEST(RecordRecorder, LowerAccessesAreCollectedOnlyDuringTheRun) {
  TempDir dir;
  auto writer = OpenWriter(dir.path() + "/t.capnp");
  RecorderOptions ro;
  ro.process_monitor = false;
  Recorder rec(*writer, ro);
  ASSERT_TRUE(rec.Begin(SomeHeader()).ok());
  rec.OnLowerAccess("a/b", cow::LowerAccess::kLookup);
  rec.OnLowerAccess("a/b", cow::LowerAccess::kRead);
  rec.OnLowerAccess("a", cow::LowerAccess::kList);
  ASSERT_TRUE(rec.EndRun().ok());
  rec.OnLowerAccess("c", cow::LowerAccess::kLookup);  // e.g. the change list's diff
  EXPECT_EQ(rec.lower_accesses().size(), 2u);
  EXPECT_EQ(rec.lower_accesses().Get("a/b"), kAccessLookup | kAccessRead);
  EXPECT_EQ(rec.lower_accesses().Get("a"), kAccessLookup | kAccessList);
  EXPECT_EQ(rec.lower_accesses().Get("c"), 0);
  ASSERT_TRUE(rec.Finish(0, 0, true).ok());
}

}  // namespace
}  // namespace sandtrace::record
