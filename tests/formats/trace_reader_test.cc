// TraceReader: header checks and version refusal, truncated tails, random
// corruption, hostile sizes, seeking with and without the index, and
// bounded memory over a million events.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <random>

#include "formats/synthetic_trace.h"
#include "tests/formats/trace_craft.h"
#include "tests/formats/trace_test_util.h"

namespace sandtrace::trace {
namespace {

using testing::Bytes;
using testing::ReadTrace;
using testing::WriteTrace;

std::string SyntheticTrace(uint64_t events, size_t frame_bytes, uint64_t seed = 9) {
  WriterOptions options;
  options.frame_bytes = frame_bytes;
  return WriteTrace([&](TraceWriter& w) { ASSERT_TRUE(WriteSyntheticTrace(w, events, seed).ok()); },
                    options);
}

// True when `got` is the first got.size() records of `want`.
bool IsPrefix(const std::vector<Record>& got, const std::vector<Record>& want) {
  if (got.size() > want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(got[i] == want[i])) return false;
  }
  return true;
}

std::optional<uint64_t> LastSeq(const std::vector<Record>& records) {
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (const auto* e = std::get_if<EventRecord>(&*it)) return e->seq;
  }
  return std::nullopt;
}

TEST(TraceReader, RefusesATraceThatNeedsANewerReader) {
  HeaderRecord header;
  header.format_version = kReaderVersion + 1;
  header.min_reader_version = kReaderVersion + 1;
  std::string bytes = WriteTrace([&](TraceWriter& w) { ASSERT_TRUE(w.Write(header).ok()); });
  auto reader = TraceReader::FromBuffer(Bytes(bytes), "new.trace");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code, EPROTONOSUPPORT);
  std::string message = reader.error().Message();
  EXPECT_NE(message.find("new.trace: this trace needs a reader of format version " +
                         std::to_string(kReaderVersion + 1) + " or newer"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line";

  // A newer format that older readers can still read is accepted.
  header.min_reader_version = kReaderVersion;
  bytes = WriteTrace([&](TraceWriter& w) { ASSERT_TRUE(w.Write(header).ok()); });
  reader = TraceReader::FromBuffer(Bytes(bytes), "newer-compatible.trace");
  ASSERT_TRUE(reader.ok()) << reader.error().Message();
  EXPECT_EQ((*reader)->header().format_version, kReaderVersion + 1);
}

TEST(TraceReader, RefusesFilesThatAreNotTraces) {
  auto open = [](const std::string& bytes) {
    auto reader = TraceReader::FromBuffer(Bytes(bytes), "x");
    return reader.ok() ? std::string("opened") : reader.error().Message();
  };
  EXPECT_NE(open("").find("not a sandtrace trace"), std::string::npos);
  EXPECT_NE(open("hello, world\n").find("not a zstd frame"), std::string::npos);
  EXPECT_NE(open("hello, world\n").find("byte 0"), std::string::npos);
  // A zstd file whose first record is not a header, or has the wrong magic.
  capnp::MallocMessageBuilder event;
  event.initRoot<schema::Record>().initEvent().setSeq(1);
  EXPECT_NE(open(testing::ZstdFrame(testing::MessageBytes(event))).find("not a sandtrace trace"),
            std::string::npos);
  EXPECT_NE(open(testing::ZstdFrame(testing::HeaderMessage(0x1234))).find("not a sandtrace trace"),
            std::string::npos);
  EXPECT_NE(open(testing::ZstdFrame("not capnp")).find("corrupt"), std::string::npos);
}

TEST(TraceReader, RefusesHostileFramesAndRecordsWithTheirOffset) {
  const std::string header = testing::ZstdFrame(testing::HeaderMessage());
  auto read = [](const std::string& bytes, ReaderOptions options = {}) {
    return ReadTrace(bytes, options);
  };
  // No content checksum.
  auto out = read(header + testing::ZstdFrame(testing::HeaderMessage(), /*checksum=*/false));
  EXPECT_NE(out.error.find("without a content checksum"), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("byte " + std::to_string(header.size())), std::string::npos);
  // A frame bigger than the reader accepts (zeros compress to almost nothing).
  ReaderOptions small;
  small.max_frame_bytes = 1 << 20;
  out = read(header + testing::ZstdFrame(std::string(2 << 20, '\0')), small);
  EXPECT_NE(out.error.find("implausible content size"), std::string::npos) << out.error;
  // A record claiming 2^32 segments.
  out = read(header + testing::ZstdFrame(std::string("\xff\xff\xff\xff\0\0\0\0", 8)));
  EXPECT_NE(out.error.find("segments"), std::string::npos) << out.error;
  // A record whose segment runs past the frame.
  out = read(header + testing::ZstdFrame(std::string("\0\0\0\0\xff\0\0\0", 8)));
  EXPECT_NE(out.error.find("cut short"), std::string::npos) << out.error;
  // A root pointer far outside its segment.
  out = read(header +
             testing::ZstdFrame(std::string("\0\0\0\0\1\0\0\0\xfc\xff\xff\x7f\1\0\0\0", 16)));
  EXPECT_EQ(out.error_code, EBADMSG) << out.error;
  EXPECT_NE(out.error.find("corrupt trace at byte " + std::to_string(header.size())),
            std::string::npos)
      << out.error;
  // Bytes that are no frame at all after a good one.
  out = read(header + "garbage!");
  EXPECT_NE(out.error.find("byte " + std::to_string(header.size()) + ": not a zstd frame"),
            std::string::npos)
      << out.error;
  EXPECT_EQ(out.records.size(), 1u) << "the good frame before it is still read";
}

TEST(TraceReader, TruncationAtEveryOffsetOfTheLastFramesKeepsTheCompletePrefix) {
  const std::string full = SyntheticTrace(300, 2048);
  auto whole = ReadTrace(full);
  ASSERT_EQ(whole.error, "");
  ASSERT_EQ(whole.warning, "");
  auto reader = TraceReader::FromBuffer(Bytes(full), "t");
  ASSERT_TRUE(reader.ok());
  const std::vector<FrameIndexEntry> index = (*reader)->index();
  ASSERT_GE(index.size(), 10u);
  const uint64_t data_end = index.back().offset + index.back().size;
  const uint64_t first_cut = index[index.size() - 2].offset;

  for (uint64_t cut = first_cut; cut < full.size(); ++cut) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut));
    auto out = ReadTrace(full.substr(0, cut));
    ASSERT_EQ(out.open_error, "");
    ASSERT_EQ(out.error, "");
    ASSERT_TRUE(IsPrefix(out.records, whole.records));
    uint64_t complete = 0;  // records in frames that end before the cut
    for (const FrameIndexEntry& e : index) {
      if (e.offset + e.size <= cut) complete += e.records;
    }
    ASSERT_GE(out.records.size(), complete);
    if (cut < data_end) {
      ASSERT_FALSE(out.warning.empty());
      std::optional<uint64_t> last = LastSeq(out.records);
      ASSERT_TRUE(last.has_value());
      ASSERT_NE(out.warning.find("last good seq " + std::to_string(*last)), std::string::npos)
          << out.warning;
    } else {
      // Only the index was cut: every record is there, and a partial index
      // frame is reported (a missing one is not: see index_problem()).
      ASSERT_EQ(out.records.size(), whole.records.size());
      ASSERT_EQ(out.warning.empty(), cut == data_end) << out.warning;
    }
  }
}

TEST(TraceReader, RandomByteFlipsGiveACleanErrorOrUnchangedRecords) {
  const std::string base = SyntheticTrace(200, 3000);
  auto whole = ReadTrace(base);
  ASSERT_EQ(whole.error, "");
  std::mt19937_64 rng(20240601);
  int errors = 0;
  for (int iteration = 0; iteration < 400; ++iteration) {
    std::string bytes = base;
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) {
      bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    auto out = ReadTrace(bytes, {}, whole.records.size() + 10);
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    if (!out.open_error.empty() || !out.error.empty()) {
      ++errors;
      ASSERT_TRUE(IsPrefix(out.records, whole.records)) << "records before the damage are intact";
      continue;
    }
    // No error: the damage hit something the reader may ignore (the index,
    // an unused header bit); what it returns must be exactly the original.
    ASSERT_TRUE(IsPrefix(out.records, whole.records));
    if (out.records.size() < whole.records.size()) {
      ASSERT_FALSE(out.warning.empty());
    }
  }
  EXPECT_GT(errors, 300) << "almost every flip lands in checksummed data";
}

TEST(TraceReader, MissingFooterIsAWarningNamingTheLastSeq) {
  std::string bytes = WriteTrace([](TraceWriter& w) {
    SyntheticStream stream(1);
    ASSERT_TRUE(w.Write(stream.Header()).ok());
    EventRecord e;
    for (int i = 0; i < 10; ++i) {
      stream.NextEvent(e);
      ASSERT_TRUE(w.Write(e).ok());
    }
  });
  auto out = ReadTrace(bytes);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.records.size(), 11u);
  EXPECT_NE(out.warning.find("without a footer"), std::string::npos) << out.warning;
  EXPECT_NE(out.warning.find("last good seq 9"), std::string::npos) << out.warning;
}

// Seeks to `seq` and checks Next() returns it and then seq + 1.
void ExpectSeekLands(TraceReader& reader, uint64_t seq, uint64_t events) {
  SCOPED_TRACE("seek to " + std::to_string(seq));
  auto found = reader.SeekToSeq(seq);
  ASSERT_TRUE(found.ok()) << found.error().Message();
  Record record;
  if (seq >= events) {
    EXPECT_FALSE(*found);
    auto more = reader.Next(record);
    ASSERT_TRUE(more.ok());
    EXPECT_TRUE(!*more || !std::holds_alternative<EventRecord>(record));
    return;
  }
  ASSERT_TRUE(*found);
  ASSERT_TRUE(*reader.Next(record));
  ASSERT_EQ(std::get<EventRecord>(record).seq, seq);
  if (seq + 1 < events) {
    ASSERT_TRUE(*reader.Next(record));
    EXPECT_EQ(std::get<EventRecord>(record).seq, seq + 1);
  }
}

TEST(TraceReader, SeeksBySeqThroughTheIndex) {
  constexpr uint64_t kEvents = 5000;
  const std::string bytes = SyntheticTrace(kEvents, 4096);
  auto reader = TraceReader::FromBuffer(Bytes(bytes), "t");
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->has_index()) << (*reader)->index_problem();
  for (uint64_t seq : {uint64_t{0}, uint64_t{1}, uint64_t{777}, uint64_t{2500}, kEvents - 1,
                       kEvents, uint64_t{1} << 60}) {
    ExpectSeekLands(**reader, seq, kEvents);
  }
  // The index is what makes it cheap: a seek near the end decodes a couple
  // of frames, a scan decodes them all.
  auto indexed = TraceReader::FromBuffer(Bytes(bytes), "t");
  ReaderOptions no_index;
  no_index.use_index = false;
  auto scanned = TraceReader::FromBuffer(Bytes(bytes), "t", no_index);
  ASSERT_TRUE(*(*indexed)->SeekToSeq(kEvents - 10));
  ASSERT_TRUE(*(*scanned)->SeekToSeq(kEvents - 10));
  EXPECT_LE((*indexed)->stats().frames, 3u);
  EXPECT_GT((*scanned)->stats().frames, 50u);
  // Rewind goes back to the header.
  ASSERT_TRUE((*indexed)->Rewind().ok());
  Record record;
  ASSERT_TRUE(*(*indexed)->Next(record));
  EXPECT_TRUE(std::holds_alternative<HeaderRecord>(record));
}

TEST(TraceReader, DeltaCodedEventsComeBackExactAcrossFramesAndSeeks) {
  // Format 2 stores seq, id and receivedNs relative to the frame's previous
  // event: with frames of 4 KiB, thousands of frame starts, reads and seeks
  // must all give back the values written.
  constexpr uint64_t kEvents = 3000;
  std::vector<EventRecord> want(kEvents);
  SyntheticStream stream(9);
  for (auto& e : want) stream.NextEvent(e);
  const std::string bytes = SyntheticTrace(kEvents, 4096);
  auto out = ReadTrace(bytes);
  ASSERT_EQ(out.error, "");
  std::vector<EventRecord> got;
  for (const Record& r : out.records) {
    if (const auto* e = std::get_if<EventRecord>(&r)) got.push_back(*e);
  }
  ASSERT_EQ(got.size(), kEvents);
  for (uint64_t i = 0; i < kEvents; ++i) ASSERT_TRUE(got[i] == want[i]) << "event " << i;

  for (bool use_index : {true, false}) {
    ReaderOptions options;
    options.use_index = use_index;
    auto reader = TraceReader::FromBuffer(Bytes(bytes), "t", options);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ((*reader)->header().format_version, kFormatVersion);
    for (uint64_t seq :
         {uint64_t{2999}, uint64_t{5}, uint64_t{1234}, uint64_t{1235}, uint64_t{0}}) {
      SCOPED_TRACE("seek to " + std::to_string(seq) + (use_index ? " (index)" : " (scan)"));
      ASSERT_TRUE(*(*reader)->SeekToSeq(seq));
      Record record;
      for (uint64_t i = seq; i < std::min(seq + 3, kEvents); ++i) {
        ASSERT_TRUE(*(*reader)->Next(record));
        ASSERT_TRUE(std::get<EventRecord>(record) == want[i]) << "event " << i;
      }
    }
  }
}

TEST(TraceReader, ReadsVersion1TracesWithAbsoluteValues) {
  // A trace recorded before format 2 (tests/corpus/listing.capnp as it was):
  // seq, id and receivedNs are absolute there.
  const std::string path =
      std::string(SANDTRACE_SOURCE_DIR) + "/tests/formats/data/v1_listing.capnp";
  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().Message();
  EXPECT_EQ((*reader)->header().format_version, 1u);
  Record record;
  uint64_t events = 0;
  uint64_t last_id = 0;
  uint64_t last_received = 0;
  while (*(*reader)->Next(record)) {
    const auto* e = std::get_if<EventRecord>(&record);
    if (e == nullptr) continue;
    ASSERT_EQ(e->seq, events) << "seqs run from 0 without gaps";
    if (events > 0) {
      EXPECT_GT(e->id, last_id);
      EXPECT_GE(e->received_ns, last_received);
    }
    EXPECT_LE(e->received_ns, e->handler_start_ns);
    EXPECT_LE(e->handler_end_ns, e->response_sent_ns);
    last_id = e->id;
    last_received = e->received_ns;
    ++events;
  }
  EXPECT_GT(events, 100u);
  EXPECT_EQ((*reader)->warning(), "");
  // Seeking lands on absolute values too.
  ASSERT_TRUE(*(*reader)->SeekToSeq(events / 2));
  ASSERT_TRUE(*(*reader)->Next(record));
  EXPECT_EQ(std::get<EventRecord>(record).seq, events / 2);
}

TEST(TraceReader, SeeksBySeqWithoutAnIndexOrWithADamagedOne) {
  constexpr uint64_t kEvents = 3000;
  const std::string bytes = SyntheticTrace(kEvents, 4096);
  auto probe = TraceReader::FromBuffer(Bytes(bytes), "t");
  ASSERT_TRUE(probe.ok());
  const uint64_t data_end = (*probe)->index().back().offset + (*probe)->index().back().size;

  const std::string stripped = bytes.substr(0, data_end);
  std::string damaged = bytes;
  damaged[data_end + 8 + 20] ^= 0x40;  // inside the first entry's firstSeq
  ReaderOptions no_index;
  no_index.use_index = false;
  struct Case {
    const std::string* bytes;
    ReaderOptions options;
    const char* problem;
  } cases[] = {
      {&stripped, {}, "no seek index"}, {&damaged, {}, "checksum"}, {&bytes, no_index, "not used"}};
  for (const Case& c : cases) {
    auto reader = TraceReader::FromBuffer(Bytes(*c.bytes), "t", c.options);
    ASSERT_TRUE(reader.ok());
    EXPECT_FALSE((*reader)->has_index());
    EXPECT_NE((*reader)->index_problem().find(c.problem), std::string::npos)
        << (*reader)->index_problem();
    for (uint64_t seq : {uint64_t{2999}, uint64_t{0}, uint64_t{1500}, kEvents}) {
      ExpectSeekLands(**reader, seq, kEvents);
    }
  }
  // The data itself is intact in all three.
  EXPECT_EQ(ReadTrace(stripped).records.size(), kEvents + 4);
  EXPECT_EQ(ReadTrace(damaged).records.size(), kEvents + 4);
  EXPECT_EQ(ReadTrace(damaged).warning, "");
}

// Resident set size in bytes, from /proc/self/statm.
int64_t Rss() {
  FILE* f = std::fopen("/proc/self/statm", "re");
  unsigned long long size = 0, resident = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%llu %llu", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<int64_t>(resident) * ::sysconf(_SC_PAGESIZE);
}

TEST(TraceReader, AMillionEventsAreWrittenAndReadInBoundedMemory) {
  constexpr uint64_t kWarmup = 50'000;
  constexpr uint64_t kEvents = 1'000'000;
  // Generous for the buffers (about 2 MiB), far below what keeping the
  // records (~300 MB as Cap'n Proto) or the compressed file (~30 MB) costs.
  constexpr int64_t kBound = 16 << 20;
  UniqueFd fd = testing::MemFd();
  UniqueFd read_fd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
  {
    auto writer = TraceWriter::Adopt(std::move(fd), "memfd");
    ASSERT_TRUE(writer.ok());
    SyntheticStream stream(11);
    ASSERT_TRUE((*writer)->Write(stream.Header()).ok());
    EventRecord event;
    int64_t rss_before = 0;
    for (uint64_t i = 0; i < kWarmup + kEvents; ++i) {
      if (i == kWarmup) rss_before = Rss();
      stream.NextEvent(event);
      ASSERT_TRUE((*writer)->Write(event).ok());
    }
    const int64_t writer_growth = Rss() - rss_before;
    RecordProperty("writer_rss_growth_bytes", std::to_string(writer_growth));
    EXPECT_LT(writer_growth, kBound) << "writer memory grew";
    ASSERT_TRUE((*writer)->Write(stream.Footer()).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  auto reader = TraceReader::FromFd(std::move(read_fd), "memfd");
  ASSERT_TRUE(reader.ok());
  Record record;
  uint64_t events = 0;
  int64_t rss_before = 0;
  for (;;) {
    if (events == kWarmup) rss_before = Rss();
    auto more = (*reader)->Next(record);
    ASSERT_TRUE(more.ok()) << more.error().Message();
    if (!*more) break;
    if (std::holds_alternative<EventRecord>(record)) ++events;
  }
  const int64_t reader_growth = Rss() - rss_before;
  RecordProperty("reader_rss_growth_bytes", std::to_string(reader_growth));
  EXPECT_LT(reader_growth, kBound) << "reader memory grew";
  EXPECT_EQ(events, kWarmup + kEvents);
  EXPECT_EQ((*reader)->warning(), "");
  EXPECT_TRUE(std::holds_alternative<FooterRecord>(record));
}

}  // namespace
}  // namespace sandtrace::trace
