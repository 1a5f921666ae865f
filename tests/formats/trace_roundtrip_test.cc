// Round trips through TraceWriter and TraceReader: every record kind and
// field, reuse of output records, enum names, and how records this reader
// does not know (from a newer writer) are read.
#include <gtest/gtest.h>

#include <set>

#include "tests/formats/trace_craft.h"
#include "tests/formats/trace_test_util.h"

namespace sandtrace::trace {
namespace {

using testing::ReadTrace;
using testing::SampleRecords;
using testing::WriteTrace;

TEST(TraceRoundTrip, EveryRecordKindAndFieldSurvives) {
  std::vector<Record> records = SampleRecords();
  std::set<size_t> kinds;
  for (const Record& r : records) kinds.insert(r.index());
  ASSERT_EQ(kinds.size(), std::variant_size_v<Record>) << "the sample must cover every kind";

  WriterOptions options;
  options.fill_footer_totals = false;  // compare the footer as given
  std::string bytes = WriteTrace(
      [&](TraceWriter& w) {
        for (const Record& r : records) ASSERT_TRUE(w.Write(r).ok());
      },
      options);
  auto out = ReadTrace(bytes);
  ASSERT_EQ(out.open_error, "");
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.warning, "");
  ASSERT_EQ(out.records.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_TRUE(out.records[i] == records[i])
        << "record " << i << " (kind " << records[i].index() << ") differs after the round trip";
  }
}

TEST(TraceRoundTrip, HeaderAccessorAndAbsentEnv) {
  HeaderRecord header = testing::SampleHeader();
  header.env.reset();
  std::string bytes = WriteTrace([&](TraceWriter& w) { ASSERT_TRUE(w.Write(header).ok()); });
  auto reader = TraceReader::FromBuffer(testing::Bytes(bytes), "t");
  ASSERT_TRUE(reader.ok()) << reader.error().Message();
  EXPECT_EQ((*reader)->header(), header);
  EXPECT_FALSE((*reader)->header().env.has_value());
  header.env = std::vector<std::string>{};
  bytes = WriteTrace([&](TraceWriter& w) { ASSERT_TRUE(w.Write(header).ok()); });
  reader = TraceReader::FromBuffer(testing::Bytes(bytes), "t");
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->header().env.has_value()) << "an empty recorded env is not 'absent'";
}

TEST(TraceRoundTrip, WriterFillsFooterTotals) {
  std::vector<Record> records = SampleRecords();
  std::string bytes = WriteTrace([&](TraceWriter& w) {
    for (const Record& r : records) ASSERT_TRUE(w.Write(r).ok());
  });
  auto out = ReadTrace(bytes);
  ASSERT_EQ(out.error, "");
  const auto& footer = std::get<FooterRecord>(out.records.back());
  const Totals& t = footer.totals;
  EXPECT_EQ(t.records, records.size() - 1);
  EXPECT_EQ(t.events, 8u);
  EXPECT_EQ(t.process_events, 5u);
  EXPECT_EQ(t.cow_events, 9u);
  EXPECT_EQ(t.snapshot_chunks, 1u);
  EXPECT_EQ(t.decisions_continue, 1u);
  EXPECT_EQ(t.decisions_return, 1u);
  EXPECT_EQ(t.decisions_errno, 1u);
  EXPECT_EQ(t.decisions_inject_fd, 4u);
  EXPECT_EQ(t.decisions_unknown, 1u);
  EXPECT_GT(t.record_bytes, 1000u);
  // The caller's other footer fields are kept.
  EXPECT_EQ(footer.signal, 15);
  EXPECT_EQ(footer.changes.size(), 4u);
}

TEST(TraceRoundTrip, RestartDecisionAndItsTotal) {
  // Decision.restartWith (added in format 2 without a version change: an
  // older reader sees an unknown decision).
  std::vector<EventRecord> events = testing::SampleEvents();
  ASSERT_GE(events.size(), 2u);
  EventRecord restart = events[0];
  restart.decision = DecisionRecord{};
  restart.decision.kind = DecisionKind::kRestart;
  restart.decision.arg = 1;
  restart.decision.value = static_cast<int64_t>(0x7ffd22fbf4c0);
  restart.decision.error = 8;  // ENOEXEC
  restart.decision.arg2 = 2;   // a sockaddr's length with its address
  restart.decision.value2 = 47;
  std::string bytes = WriteTrace([&](TraceWriter& w) {
    ASSERT_TRUE(w.Write(testing::SampleHeader()).ok());
    ASSERT_TRUE(w.Write(restart).ok());
    ASSERT_TRUE(w.Write(events[1]).ok());
    ASSERT_TRUE(w.Write(FooterRecord{}).ok());
  });
  auto out = ReadTrace(bytes);
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.records.size(), 4u);
  EXPECT_EQ(std::get<EventRecord>(out.records[1]), restart);
  EXPECT_EQ(std::get<EventRecord>(out.records[2]), events[1]);  // nothing leaks into the next
  EXPECT_EQ(std::get<FooterRecord>(out.records[3]).totals.decisions_restart, 1u);
  EXPECT_EQ(Name(DecisionKind::kRestart), "restart");
}

TEST(TraceRoundTrip, ReusedOutputRecordIsFullyOverwritten) {
  // Reading a call-heavy event and then a bare one into the same Record
  // must not leak calls, restart or decision fields from the first.
  std::vector<EventRecord> events = testing::SampleEvents();
  std::string bytes = WriteTrace([&](TraceWriter& w) {
    ASSERT_TRUE(w.Write(testing::SampleHeader()).ok());
    for (const EventRecord& e : events) ASSERT_TRUE(w.Write(e).ok());
    for (auto it = events.rbegin(); it != events.rend(); ++it) ASSERT_TRUE(w.Write(*it).ok());
  });
  auto reader = TraceReader::FromBuffer(testing::Bytes(bytes), "t");
  ASSERT_TRUE(reader.ok());
  Record record;
  ASSERT_TRUE(*(*reader)->Next(record));
  std::vector<EventRecord> expected = events;
  expected.insert(expected.end(), events.rbegin(), events.rend());
  for (const EventRecord& want : expected) {
    auto more = (*reader)->Next(record);
    ASSERT_TRUE(more.ok() && *more);
    EXPECT_EQ(std::get<EventRecord>(record), want) << "seq " << want.seq;
  }
}

TEST(FormatNames, EveryEnumeratorHasAName) {
  EXPECT_EQ(Name(DecisionKind::kInjectFd), "inject_fd");
  EXPECT_EQ(Name(ResponseOutcome::kTargetGone), "target_gone");
  EXPECT_EQ(Name(TraceeCallKind::kWriteMemory), "write_memory");
  EXPECT_EQ(Name(TraceeCallKind::kInstallFd), "install_fd");
  EXPECT_EQ(Name(TraceeCallKind::kReadStackPointer), "read_stack_pointer");
  EXPECT_EQ(Name(TraceeCallKind::kReadFileHead), "read_file_head");
  EXPECT_EQ(Name(TraceeCallKind::kHostCall), "host_call");
  EXPECT_EQ(Name(TraceeCallKind::kAddWatch), "add_watch");
  EXPECT_EQ(Name(HostOp::kChange), "change");
  EXPECT_EQ(Name(ResponseOutcome::kWaiting), "waiting");
  EXPECT_EQ(Name(ProcLink::kExe), "exe");
  EXPECT_EQ(Name(FileRoot::kOutside), "outside");
  EXPECT_EQ(Name(ProcessEventKind::kExit), "exit");
  EXPECT_EQ(Name(CowEventKind::kQuota), "quota");
  EXPECT_EQ(Name(Disposition::kDryRun), "dry_run");
  EXPECT_EQ(Name(SnapshotMode::kFull), "full");
  EXPECT_EQ(Name(FileType::kBlockDevice), "block_device");
  EXPECT_EQ(Name(ChangeKind::kDeleted), "deleted");
  EXPECT_EQ(Name(static_cast<ChangeKind>(200)), "?");
}

// A trace a newer writer might produce: an unknown record kind (here the
// union's `unknown` member) between known ones, and enum values past the
// ones this reader knows.
TEST(FormatEvolution, UnknownRecordsAreSkippedAndUnknownEnumsReadAsUnknown) {
  std::string content = testing::HeaderMessage();
  {
    capnp::MallocMessageBuilder m;
    m.initRoot<schema::Record>().setUnknown();
    content += testing::MessageBytes(m);
  }
  {
    capnp::MallocMessageBuilder m;
    auto event = m.initRoot<schema::Record>().initEvent();
    event.setSeq(7);
    event.setOutcome(static_cast<schema::ResponseOutcome>(77));
    auto calls = event.initCalls(1);
    calls[0].initReadProcLink().setLink(static_cast<schema::ProcLink>(99));
    content += testing::MessageBytes(m);
  }
  std::string bytes = testing::ZstdFrame(content);
  auto reader = TraceReader::FromBuffer(testing::Bytes(bytes), "t");
  ASSERT_TRUE(reader.ok()) << reader.error().Message();
  Record record;
  ASSERT_TRUE(*(*reader)->Next(record));
  EXPECT_TRUE(std::holds_alternative<HeaderRecord>(record));
  auto more = (*reader)->Next(record);
  ASSERT_TRUE(more.ok() && *more);
  const auto& event = std::get<EventRecord>(record);
  EXPECT_EQ(event.seq, 7u);
  EXPECT_EQ(event.outcome, ResponseOutcome::kUnknown);
  ASSERT_EQ(event.calls.size(), 1u);
  EXPECT_EQ(event.calls[0].kind, TraceeCallKind::kReadProcLink);
  EXPECT_EQ(event.calls[0].link, ProcLink::kUnknown);
  EXPECT_EQ(event.decision.kind, DecisionKind::kUnknown);
  EXPECT_EQ(event.args, (std::array<uint64_t, 6>{})) << "absent args read as zeros";
  more = (*reader)->Next(record);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  EXPECT_EQ((*reader)->stats().unknown_records, 1u);
  EXPECT_NE((*reader)->warning().find("without a footer"), std::string::npos);
}

}  // namespace
}  // namespace sandtrace::trace
