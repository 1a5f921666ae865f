// The Chrome trace-event export (replay/inspect/chrome_export.h).
#include "replay/inspect/chrome_export.h"

#include <gtest/gtest.h>

#include <sstream>

#include "replay/inspect/trace_open.h"
#include "tests/inspect/golden_traces.h"
#include "tests/inspect/test_util.h"

namespace sandtrace::inspect {
namespace {

using inspect_test::RunCommand;
using inspect_test::RunResult;
using inspect_test::TempDir;
using inspect_test::WriteFile;

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

std::string Check(const std::string& json_file, uint64_t slices) {
  RunResult r = RunCommand({"/usr/bin/env", "python3", INSPECT_SOURCE_DIR "/check_chrome.py",
                            json_file, std::to_string(slices)});
  EXPECT_EQ(r.status, 0) << r.err;
  return r.out;
}

TEST(ExportTest, ChromeJsonHasOneSlicePerNotificationAndProcessTracks) {
  TempDir dir;
  ASSERT_TRUE(
      inspect_test::WriteRecords(dir.File("t.capnp"), inspect_test::BuildTraceRecords()).ok());
  auto reader = OpenTrace(dir.File("t.capnp"));
  ASSERT_TRUE(reader.ok());
  std::ostringstream out;
  auto summary = ExportChrome(**reader, out);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->slices, 14u);
  EXPECT_EQ(summary->processes, 2u);
  const std::string json = out.str();
  EXPECT_EQ(Count(json, "\"ph\":\"X\""), 14u);
  EXPECT_EQ(Count(json, "\"ph\":\"b\""), 2u);
  EXPECT_EQ(Count(json, "\"ph\":\"e\""), 2u);
  // Every slice is on the traced command's pid, on the track of its tid.
  EXPECT_EQ(Count(json, "\"pid\":5000,\"tid\":5001,\"args\":{\"seq\""), 7u);
  EXPECT_NE(json.find("\"decision\":\"inject fd 4 (upper)\""), std::string::npos);
  WriteFile(dir.File("t.json"), json);
  EXPECT_EQ(Check(dir.File("t.json"), 14), "ok 14 slices 2 processes 2 threads\n");
}

TEST(ExportTest, ProcessesWithoutExitEndWithTheTrace) {
  TempDir dir;
  auto records = inspect_test::BuildTraceRecords();
  // Drop the exits and the footer: a recorder killed before the end.
  records.erase(records.end() - 3, records.end());
  ASSERT_TRUE(inspect_test::WriteRecords(dir.File("t.capnp"), records).ok());
  auto reader = OpenTrace(dir.File("t.capnp"));
  ASSERT_TRUE(reader.ok());
  std::ostringstream out;
  ASSERT_TRUE(ExportChrome(**reader, out).ok());
  WriteFile(dir.File("t.json"), out.str());
  EXPECT_EQ(Check(dir.File("t.json"), 14), "ok 14 slices 2 processes 2 threads\n");
}

TEST(ExportTest, ADamagedTraceStillYieldsValidJsonAndAnError) {
  TempDir dir;
  ASSERT_TRUE(inspect_test::WriteSynthetic(dir.File("t.capnp"), 3000, 9, 8192).ok());
  std::string bytes = inspect_test::ReadFile(dir.File("t.capnp"));
  bytes[bytes.size() / 2] ^= 0x40;
  WriteFile(dir.File("bad.capnp"), bytes);
  auto reader = OpenTrace(dir.File("bad.capnp"));
  ASSERT_TRUE(reader.ok());
  std::ostringstream out;
  auto summary = ExportChrome(**reader, out);
  EXPECT_FALSE(summary.ok());
  const std::string json = out.str();
  WriteFile(dir.File("t.json"), json);
  const uint64_t slices = Count(json, "\"ph\":\"X\"");
  EXPECT_GT(slices, 0u);
  EXPECT_LT(slices, 3000u);
  EXPECT_EQ(Check(dir.File("t.json"), slices).rfind("ok ", 0), 0u);
}

}  // namespace
}  // namespace sandtrace::inspect
