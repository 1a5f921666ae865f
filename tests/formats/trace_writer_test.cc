// TraceWriter: frame cutting by size and by time, what a killed writer
// leaves behind, I/O errors as values, bounded index memory, and no heap
// allocation per record in the steady state.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "formats/synthetic_trace.h"
#include "tests/formats/trace_test_util.h"
#include "tracer/base/errors.h"

// Counts operator new calls, to check the steady-state write path. Test
// binary only; the counter is all this replacement adds.
namespace {
std::atomic<uint64_t> g_news{0};
}  // namespace
// g++ cannot see that these new and delete are a matching malloc/free pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace sandtrace::trace {
namespace {

using testing::MemFd;
using testing::ReadAll;
using testing::ReadTrace;
using testing::WriteTrace;

constexpr uint64_t kMs = 1'000'000;

// A writer over a memfd whose bytes the test can look at while it is open.
struct OpenWriter {
  std::unique_ptr<TraceWriter> writer;
  UniqueFd view;
  std::string Bytes() const { return ReadAll(view.get()); }
};

OpenWriter NewWriter(WriterOptions options) {
  UniqueFd fd = MemFd();
  OpenWriter w;
  w.view.reset(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
  auto writer = TraceWriter::Adopt(std::move(fd), "memfd", std::move(options));
  EXPECT_TRUE(writer.ok());
  w.writer = std::move(*writer);
  return w;
}

// The frame-cutting and error behaviour holds both with the frames written
// on the owner's thread and with them handed to the compressor thread.
class TraceWriterModes : public ::testing::TestWithParam<bool> {
 protected:
  WriterOptions Options() const {
    WriterOptions options;
    options.compress_thread = GetParam();
    options.hand_over_bytes = 0;  // every frame goes to the thread
    return options;
  }
};
INSTANTIATE_TEST_SUITE_P(Writers, TraceWriterModes, ::testing::Bool(), [](const auto& info) {
  return info.param ? "CompressThread" : "OwnerThread";
});

TEST(TraceWriter, HeaderMustComeFirstAndWritesAfterCloseThrow) {
  OpenWriter w = NewWriter({});
  EXPECT_THROW((void)w.writer->Write(EventRecord{}), Fatal);
  ASSERT_TRUE(w.writer->Write(HeaderRecord{}).ok());
  EXPECT_THROW((void)w.writer->Write(HeaderRecord{}), Fatal);
  ASSERT_TRUE(w.writer->Close().ok());
  EXPECT_TRUE(w.writer->Close().ok()) << "Close is idempotent";
  EXPECT_THROW((void)w.writer->Write(EventRecord{}), Fatal);
}

TEST_P(TraceWriterModes, CutsFramesAtTheSizeThreshold) {
  WriterOptions options = Options();
  options.frame_bytes = 4096;
  options.clock = [] { return uint64_t{0}; };  // time never triggers a cut
  std::string bytes = WriteTrace(
      [](TraceWriter& w) { ASSERT_TRUE(WriteSyntheticTrace(w, 1000, 3).ok()); }, options);
  auto reader = TraceReader::FromBuffer(testing::Bytes(bytes), "t");
  ASSERT_TRUE(reader.ok());
  const auto& index = (*reader)->index();
  ASSERT_TRUE((*reader)->has_index()) << (*reader)->index_problem();
  ASSERT_GT(index.size(), 50u);
  uint64_t records = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    const FrameIndexEntry& e = index[i];
    unsigned long long content = ZSTD_getFrameContentSize(bytes.data() + e.offset, e.size);
    EXPECT_LE(content, 4096u) << "frame at " << e.offset;
    // Frames are filled before being cut; only the last one may be short.
    if (i + 1 < index.size()) {
      EXPECT_GT(content, 4096u - 1024u) << "frame at " << e.offset;
    }
    records += e.records;
  }
  EXPECT_EQ(records, 1000u + 4u);
}

TEST_P(TraceWriterModes, CutsAFrameEvery100msWhileEventsFlowAndOnTick) {
  uint64_t now = 0;
  WriterOptions options = Options();
  options.clock = [&] { return now; };
  OpenWriter w = NewWriter(options);
  SyntheticStream stream(1);
  ASSERT_TRUE(w.writer->Write(stream.Header()).ok());
  EventRecord event;
  // Events every 10 ms: a frame goes out once 100 ms have passed since the
  // first buffered record, not earlier.
  for (int i = 1; i <= 9; ++i) {
    now = i * 10 * kMs;
    stream.NextEvent(event);
    ASSERT_TRUE(w.writer->Write(event).ok());
  }
  EXPECT_EQ(w.writer->stats().frames, 0u);
  now = 100 * kMs;
  stream.NextEvent(event);
  ASSERT_TRUE(w.writer->Write(event).ok());
  EXPECT_EQ(w.writer->stats().frames, 1u);
  EXPECT_EQ(w.writer->stats().buffered_bytes, 0u);

  // A quiet period: one event, then only Tick() from the owner's loop.
  now = 1000 * kMs;
  stream.NextEvent(event);
  ASSERT_TRUE(w.writer->Write(event).ok());
  now = 1099 * kMs;
  ASSERT_TRUE(w.writer->Tick().ok());
  EXPECT_EQ(w.writer->stats().frames, 1u);
  now = 1100 * kMs;
  ASSERT_TRUE(w.writer->Tick().ok());
  EXPECT_EQ(w.writer->stats().frames, 2u);
  EXPECT_EQ(w.writer->stats().buffered_bytes, 0u);
  ASSERT_TRUE(w.writer->Tick().ok()) << "Tick with nothing buffered is a no-op";
  EXPECT_EQ(w.writer->stats().frames, 2u);
}

TEST_P(TraceWriterModes, AKilledWriterLosesAtMostTheBufferedFrame) {
  uint64_t now = 0;
  WriterOptions options = Options();
  options.clock = [&] { return now; };
  OpenWriter w = NewWriter(options);
  SyntheticStream stream(2);
  ASSERT_TRUE(w.writer->Write(stream.Header()).ok());
  EventRecord event;
  for (int i = 0; i < 50; ++i) {  // seqs 0..49, the last one at 100 ms: flushed
    now = (i + 1) * 2 * kMs;
    stream.NextEvent(event);
    ASSERT_TRUE(w.writer->Write(event).ok());
  }
  ASSERT_EQ(w.writer->stats().buffered_bytes, 0u);
  for (int i = 0; i < 20; ++i) {  // seqs 50..69 stay in memory
    now += kMs;
    stream.NextEvent(event);
    ASSERT_TRUE(w.writer->Write(event).ok());
  }
  // What is on disk if the process dies now (SIGKILL runs no destructor).
  std::string on_disk = w.Bytes();
  auto out = ReadTrace(on_disk);
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.records.size(), 51u);  // header + 50 events
  EXPECT_EQ(std::get<EventRecord>(out.records.back()).seq, 49u);
  EXPECT_NE(out.warning.find("without a footer"), std::string::npos) << out.warning;
  EXPECT_NE(out.warning.find("last good seq 49"), std::string::npos) << out.warning;
}

TEST_P(TraceWriterModes, DiskFullIsReturnedAndLatched) {
  UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  if (!full) GTEST_SKIP() << "no /dev/full";
  WriterOptions options = Options();
  options.frame_bytes = 2048;
  auto writer = TraceWriter::Adopt(std::move(full), "/dev/full", options);
  ASSERT_TRUE(writer.ok());
  SyntheticStream stream(4);
  ASSERT_TRUE((*writer)->Write(stream.Header()).ok());  // buffered
  EventRecord event;
  Status st = OkStatus();
  int writes = 0;
  while (st.ok() && writes < 1000) {
    stream.NextEvent(event);
    st = (*writer)->Write(event);
    ++writes;
  }
  ASSERT_FALSE(st.ok()) << "a full disk must surface as an error";
  EXPECT_EQ(st.code(), ENOSPC);
  EXPECT_NE(st.error().Message().find("/dev/full"), std::string::npos);
  // The first frame write fails; with the compressor thread, the owner
  // learns it at the next frame cut at the latest.
  EXPECT_LT(writes, 50);
  // Latched: every later call reports it too.
  EXPECT_EQ((*writer)->Write(event).code(), ENOSPC);
  EXPECT_EQ((*writer)->Flush().code(), ENOSPC);
  EXPECT_EQ((*writer)->Close().code(), ENOSPC);
}

TEST(TraceWriter, OversizedRecordIsRefusedWithoutBreakingTheTrace) {
  SnapshotChunk huge;
  huge.blobs.push_back({"h", 0, std::string(TraceWriter::kMaxRecordBytes + 1, 'x')});
  std::string bytes = WriteTrace([&](TraceWriter& w) {
    ASSERT_TRUE(w.Write(HeaderRecord{}).ok());
    Status st = w.Write(huge);
    EXPECT_EQ(st.code(), E2BIG);
    EventRecord e;
    e.seq = 1;
    ASSERT_TRUE(w.Write(e).ok()) << "the refusal does not latch";
  });
  auto out = ReadTrace(bytes);
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.records.size(), 2u);
  EXPECT_EQ(std::get<EventRecord>(out.records[1]).seq, 1u);
}

TEST_P(TraceWriterModes, LargeRecordsBeyondTheScratchSegmentRoundTrip) {
  SnapshotChunk chunk;
  for (int i = 0; i < 3; ++i)
    chunk.blobs.push_back({"h" + std::to_string(i), 0, std::string(300000, 'a' + i)});
  std::string bytes = WriteTrace(
      [&](TraceWriter& w) {
        ASSERT_TRUE(w.Write(HeaderRecord{}).ok());
        ASSERT_TRUE(w.Write(chunk).ok());
        // A large record between small ones: the buffers grow while a
        // frame may be with the compressor.
        for (int i = 0; i < 5; ++i) {
          EventRecord e;
          e.seq = i;
          ASSERT_TRUE(w.Write(e).ok());
          ASSERT_TRUE(w.Write(chunk).ok());
        }
      },
      Options());
  auto out = ReadTrace(bytes);
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.records.size(), 12u);
  EXPECT_EQ(std::get<SnapshotChunk>(out.records[1]), chunk);
  EXPECT_EQ(std::get<EventRecord>(out.records[10]).seq, 4u);
  EXPECT_EQ(std::get<SnapshotChunk>(out.records[11]), chunk);
}

TEST_P(TraceWriterModes, SteadyStateWritesDoNotAllocatePerRecord) {
  OpenWriter w = NewWriter(Options());
  SyntheticStream stream(5);
  ASSERT_TRUE(w.writer->Write(stream.Header()).ok());
  EventRecord event;
  for (int i = 0; i < 2000; ++i) {  // warm up: buffers reach their sizes
    stream.NextEvent(event);
    ASSERT_TRUE(w.writer->Write(event).ok());
  }
  uint64_t frames_before = w.writer->stats().frames;
  uint64_t before = g_news.load();
  constexpr int kEvents = 20000;
  for (int i = 0; i < kEvents; ++i) {
    stream.NextEvent(event);
    ASSERT_TRUE(w.writer->Write(event).ok());
  }
  uint64_t allocations = g_news.load() - before;
  uint64_t frames = w.writer->stats().frames - frames_before;
  ASSERT_GT(frames, 5u) << "the window must include frame writes";
  // At most the index vector growing now and then as frames go out.
  EXPECT_LE(allocations, frames) << allocations << " allocations for " << kEvents << " events";
}

TEST(TraceWriter, TheCompressorThreadWritesTheSameBytes) {
  auto write = [](bool thread) {
    WriterOptions options;
    options.frame_bytes = 4096;
    options.clock = [] { return uint64_t{0}; };
    options.compress_thread = thread;
    options.hand_over_bytes = 0;
    return WriteTrace([](TraceWriter& w) { ASSERT_TRUE(WriteSyntheticTrace(w, 20000, 7).ok()); },
                      options);
  };
  std::string owner = write(false);
  std::string threaded = write(true);
  ASSERT_GT(owner.size(), 100000u);
  EXPECT_TRUE(owner == threaded) << "sizes " << owner.size() << " and " << threaded.size();
  auto out = ReadTrace(threaded);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.warning, "");
  EXPECT_EQ(out.records.size(), 20000u + 4u);
}

TEST(TraceWriter, IndexMemoryStaysBoundedByCoarsening) {
  WriterOptions options;
  options.frame_bytes = 1;  // every record is a frame of its own
  constexpr uint64_t kEvents = 70000;
  std::string bytes = WriteTrace(
      [](TraceWriter& w) { ASSERT_TRUE(WriteSyntheticTrace(w, kEvents, 6).ok()); }, options);
  auto reader = TraceReader::FromBuffer(testing::Bytes(bytes), "t");
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->has_index()) << (*reader)->index_problem();
  const auto& index = (*reader)->index();
  EXPECT_LT(index.size(), 65536u);
  EXPECT_GT(index.size(), kEvents / 4);
  uint64_t frames = 0;
  for (const FrameIndexEntry& e : index) frames += e.frames;
  EXPECT_EQ(frames, kEvents + 4) << "every frame is still covered";
  // Seeks still land exactly.
  Record record;
  for (uint64_t seq : {uint64_t{0}, uint64_t{12345}, kEvents - 1}) {
    auto found = (*reader)->SeekToSeq(seq);
    ASSERT_TRUE(found.ok() && *found);
    ASSERT_TRUE(*(*reader)->Next(record));
    EXPECT_EQ(std::get<EventRecord>(record).seq, seq);
  }
}

}  // namespace
}  // namespace sandtrace::trace
