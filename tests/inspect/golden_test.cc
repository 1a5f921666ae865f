// Golden-output tests: dump (text and JSON), stats and info of the traces
// checked in under tests/inspect/golden/, compared byte for byte with the
// expected files beside them. After an intended change of output, refresh
// them with:  SANDTRACE_UPDATE_GOLDEN=1 ctest -R InspectGolden
// and review the diff.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <sstream>

#include "replay/inspect/chrome_export.h"
#include "replay/inspect/dump.h"
#include "replay/inspect/info.h"
#include "replay/inspect/stats.h"
#include "replay/inspect/trace_open.h"
#include "tests/inspect/test_util.h"

namespace sandtrace::inspect {
namespace {

const std::string kDir = INSPECT_GOLDEN_DIR;

// Opens a golden trace under its bare name, so outputs that print the file
// name do not depend on where the checkout lives.
std::unique_ptr<trace::TraceReader> Open(const std::string& name) {
  UniqueFd fd(::open((kDir + "/" + name).c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(fd.valid()) << name;
  auto reader = trace::TraceReader::FromFd(std::move(fd), name);
  EXPECT_TRUE(reader.ok()) << (reader.ok() ? "" : ErrorLine(reader.error()));
  return reader.ok() ? std::move(*reader) : nullptr;
}

void ExpectGolden(const std::string& expected_file, const std::string& actual) {
  const std::string path = kDir + "/" + expected_file;
  const char* update = std::getenv("SANDTRACE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    inspect_test::WriteFile(path, actual);
    return;
  }
  std::string expected;
  try {
    expected = inspect_test::ReadFile(path);
  } catch (const std::exception&) {
    ADD_FAILURE() << "missing golden file " << path << " (SANDTRACE_UPDATE_GOLDEN=1 writes it)";
    return;
  }
  EXPECT_EQ(expected, actual) << "output differs from " << path;
}

std::string DumpOf(const std::string& trace, const DumpOptions& options) {
  auto reader = Open(trace);
  if (!reader) return "";
  std::ostringstream out;
  auto summary = Dump(*reader, options, out);
  EXPECT_TRUE(summary.ok());
  return out.str();
}

std::string StatsOf(const std::string& trace, bool json) {
  auto reader = Open(trace);
  if (!reader) return "";
  auto report = CollectStats(*reader, {}, StatsSort::kTime);
  EXPECT_TRUE(report.ok());
  return json ? StatsJson(*report) : StatsText(*report);
}

std::string InfoOf(const std::string& trace, bool json) {
  auto reader = Open(trace);
  if (!reader) return "";
  InfoReport report = CollectInfo(*reader);
  return json ? InfoJson(report) : InfoText(report);
}

TEST(InspectGolden, BuildDump) {
  ExpectGolden("build.dump.txt", DumpOf("build.capnp", {}));
  DumpOptions decorated;
  decorated.text.show_seq = true;
  decorated.text.show_time = true;
  decorated.text.string_limit = 16;
  ExpectGolden("build.dump-n-t-s16.txt", DumpOf("build.capnp", decorated));
  DumpOptions filtered;
  filtered.filter.expressions = {"trace=%file"};
  filtered.filter.decisions = {"inject", "errno"};
  ExpectGolden("build.dump-file-inject-errno.txt", DumpOf("build.capnp", filtered));
}

TEST(InspectGolden, BuildDumpJson) {
  DumpOptions json;
  json.json = true;
  ExpectGolden("build.dump.jsonl", DumpOf("build.capnp", json));
}

TEST(InspectGolden, BuildStats) {
  ExpectGolden("build.stats.txt", StatsOf("build.capnp", false));
  ExpectGolden("build.stats.json", StatsOf("build.capnp", true));
}

TEST(InspectGolden, BuildInfo) {
  ExpectGolden("build.info.txt", InfoOf("build.capnp", false));
  ExpectGolden("build.info.json", InfoOf("build.capnp", true));
}

TEST(InspectGolden, BuildChromeExport) {
  auto reader = Open("build.capnp");
  ASSERT_TRUE(reader);
  std::ostringstream out;
  ASSERT_TRUE(ExportChrome(*reader, out).ok());
  ExpectGolden("build.chrome.json", out.str());
}

TEST(InspectGolden, Synthetic) {
  ExpectGolden("synthetic.dump.txt", DumpOf("synthetic.capnp", {}));
  ExpectGolden("synthetic.stats.txt", StatsOf("synthetic.capnp", false));
  ExpectGolden("synthetic.info.txt", InfoOf("synthetic.capnp", false));
}

}  // namespace
}  // namespace sandtrace::inspect
