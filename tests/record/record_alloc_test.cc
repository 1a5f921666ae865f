// The recorder allocates nothing per notification once warmed up: every
// operator new in this binary is counted while events are recorded through
// the RecordingTracee and written by the TraceWriter.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tests/record/record_test_util.h"
#include "tracer/record/async_writer.h"
#include "tracer/record/recorder.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// GCC cannot tell that these deletes pair with the new above.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace sandtrace::record {
namespace {

// Results short enough for std::string's small buffer, so that the fake
// itself does not allocate: whatever is counted is the recorder's.
class QuietTracee final : public Tracee {
 public:
  Result<size_t> ReadMemory(uint64_t, std::span<std::byte> out) override {
    std::memset(out.data(), 0x5a, out.size());
    return out.size();
  }
  Result<std::string> ReadString(uint64_t, size_t) override { return std::string("a/b/c.h"); }
  Result<std::string> ReadProcLink(ProcLink, int) override { return std::string("/w"); }
  Result<mode_t> ReadUmask() override { return mode_t{022}; }
  bool IdValid() override { return true; }
  Result<size_t> WriteMemory(uint64_t, std::span<const std::byte> d) override { return d.size(); }
};

class RecordAlloc : public ::testing::TestWithParam<bool> {};

// Inline, and with the writer thread (the loop thread's copies into the
// ring must not allocate either; the writer thread's own work is counted
// too).
TEST_P(RecordAlloc, NoAllocationPerNotificationInSteadyState) {
  rtest::TempDir dir;
  trace::WriterOptions wo;
  wo.flush_interval_ns = UINT64_MAX;  // frames cut by size only, to be deterministic
  auto writer = trace::TraceWriter::Open(dir.path() + "/t.capnp", wo);
  ASSERT_TRUE(writer.ok());
  RecorderOptions ro;
  ro.process_monitor = false;
  ro.writer_thread = GetParam();
  ro.writer_thread_after = 0;
  Recorder rec(**writer, ro);
  ASSERT_TRUE(rec.Begin(trace::HeaderRecord{}).ok());
  QuietTracee live;
  UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  std::byte buf[48];
  const std::byte payload[256] = {};

  auto one = [&](uint64_t seq) {
    Notification n;
    n.seq = seq;
    n.id = seq * 3 + 1;
    n.tid = 1000 + static_cast<uint32_t>(seq % 4);
    n.nr = seq % 3 == 0 ? __NR_openat : __NR_newfstatat;
    n.args = {seq, 2, 3, 4, 5, 6};
    Tracee& t = rec.WrapTracee(n, live);
    (void)t.ReadString(0x1000, 4096);
    (void)t.IdValid();
    (void)t.ReadProcLink(ProcLink::kCwd, 0);
    (void)t.ReadMemory(0x2000, buf);
    (void)t.WriteMemory(0x3000, payload);
    DispatchResult d;
    if (seq % 3 == 0) {
      // The decision's fd is borrowed from the test; release it before the
      // Decision goes away.
      d.decision.kind = DecisionKind::kInjectFd;
      d.decision.fd.reset(devnull.get());
      d.decision.file.root = FileRoot::kLower;
      d.decision.file.path = "x";  // short: no allocation by the test itself
    } else {
      d.decision.kind = DecisionKind::kErrno;
      d.decision.error = ENOENT;
    }
    Response resp;
    resp.child_fd = 4;
    NotificationTimes times{seq * 1000, seq * 1000 + 5, seq * 1000 + 90, seq * 1000 + 120};
    rec.OnNotification(n, d, resp, times);
    (void)d.decision.fd.release();
  };

  // Warm-up, frames included. With the writer thread, events are swapped
  // into its ring, so a record's buffers come back in another event's
  // roles: every buffer has held every kind of call after a few laps.
  const uint64_t warm = 4 * AsyncTraceWriter::kSlots;
  for (uint64_t i = 0; i < warm; ++i) one(i);
  // (With the writer thread, its stats can only be read once it is done.)
  const uint64_t frames_before = GetParam() ? 0 : (*writer)->stats().frames;
  g_allocations = 0;
  g_counting = true;
  for (uint64_t i = warm; i < warm + 2000; ++i) one(i);
  g_counting = false;
  uint64_t frames = 0;
  if (!GetParam()) frames = (*writer)->stats().frames - frames_before;
  ASSERT_TRUE(rec.Finish(0, 0, true).ok());
  // With the thread, every frame of the trace: an upper bound for the window.
  if (GetParam()) frames = (*writer)->stats().frames;
  // A frame cut during the window may grow the writer's seek index (one
  // amortised push_back per frame); the 2,000 events themselves allocate
  // nothing.
  EXPECT_GE(frames, 1u) << "the window should cross a frame boundary";
  EXPECT_LE(g_allocations.load(), frames);
  EXPECT_EQ(rec.stats().events, warm + 2000);
}

INSTANTIATE_TEST_SUITE_P(RecordAllocModes, RecordAlloc, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "WriterThread" : "Inline"; });

}  // namespace
}  // namespace sandtrace::record
