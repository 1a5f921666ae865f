// trace info (replay/inspect/info.h): clean, truncated and damaged traces.
#include "replay/inspect/info.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay/inspect/trace_open.h"
#include "tests/inspect/golden_traces.h"
#include "tests/inspect/test_util.h"

namespace sandtrace::inspect {
namespace {

using inspect_test::ReadFile;
using inspect_test::TempDir;
using inspect_test::WriteFile;

InfoReport InfoOf(const std::string& path) {
  auto reader = OpenTrace(path);
  if (!reader.ok()) ADD_FAILURE() << ErrorLine(reader.error());
  return reader.ok() ? CollectInfo(**reader) : InfoReport{};
}

TEST(InfoTest, CleanTraceCountsAgreeWithTheFooter) {
  TempDir dir;
  const auto records = inspect_test::BuildTraceRecords();
  ASSERT_TRUE(inspect_test::WriteRecords(dir.File("t.capnp"), records).ok());
  const InfoReport r = InfoOf(dir.File("t.capnp"));
  EXPECT_TRUE(r.clean());
  EXPECT_EQ(r.records, records.size());
  EXPECT_EQ(r.events, 14u);
  EXPECT_EQ(r.process_events, 5u);
  EXPECT_EQ(r.cow_events, 3u);
  EXPECT_EQ(r.snapshot_entries, 5u);
  EXPECT_EQ(r.threads, 2u);
  ASSERT_TRUE(r.footer.has_value());
  EXPECT_EQ(r.footer->totals.events, r.events);
  EXPECT_EQ(r.footer->totals.records + 1, r.records);  // the footer counts what precedes it
  EXPECT_EQ(r.footer->changes.size(), 2u);
  EXPECT_TRUE(r.has_index);
  EXPECT_GT(r.reader.frames, 1u);
  EXPECT_EQ(r.index_frames, r.reader.frames);
  const std::string text = InfoText(r);
  EXPECT_NE(text.find("end:         clean\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  A \"build/main.o\"\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("differs from the records read"), std::string::npos) << text;
}

TEST(InfoTest, TruncatedTraceSaysWhereItStopped) {
  TempDir dir;
  ASSERT_TRUE(inspect_test::WriteSynthetic(dir.File("t.capnp"), 2000, 3, 8192).ok());
  std::string bytes = ReadFile(dir.File("t.capnp"));
  WriteFile(dir.File("cut.capnp"), bytes.substr(0, bytes.size() * 2 / 3));
  const InfoReport r = InfoOf(dir.File("cut.capnp"));
  EXPECT_FALSE(r.clean());
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(r.warning.empty());
  EXPECT_FALSE(r.footer.has_value());
  ASSERT_TRUE(r.last_good_seq.has_value());
  EXPECT_EQ(*r.last_good_seq, *r.last_seq);
  EXPECT_LT(r.events, 2000u);
  EXPECT_GT(r.events, 0u);
  const std::string text = InfoText(r);
  EXPECT_NE(text.find("end:         stopped early: "), std::string::npos) << text;
  EXPECT_NE(text.find("(last complete event #" + std::to_string(*r.last_good_seq) + ")"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("footer:      missing"), std::string::npos) << text;
}

TEST(InfoTest, DamagedTraceKeepsWhatWasReadAndTheError) {
  TempDir dir;
  ASSERT_TRUE(inspect_test::WriteSynthetic(dir.File("t.capnp"), 2000, 3, 8192).ok());
  std::string bytes = ReadFile(dir.File("t.capnp"));
  bytes[bytes.size() / 2] ^= 0x55;  // inside a middle frame: its checksum fails
  WriteFile(dir.File("bad.capnp"), bytes);
  const InfoReport r = InfoOf(dir.File("bad.capnp"));
  EXPECT_FALSE(r.clean());
  EXPECT_FALSE(r.error.empty());
  EXPECT_GT(r.events, 0u);
  EXPECT_NE(InfoText(r).find("end:         damaged: "), std::string::npos);
  EXPECT_NE(InfoJson(r).find("\"error\":"), std::string::npos);
}

}  // namespace
}  // namespace sandtrace::inspect
