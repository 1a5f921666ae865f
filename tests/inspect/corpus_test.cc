// The real recordings of tests/corpus/ (written by `trace record`, kept by
// the replay tests) through every inspect tool: the counts agree across
// dump, stats and info, each trace diffs identical to itself, and the JSON
// outputs parse (python3's json module).
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "replay/inspect/chrome_export.h"
#include "replay/inspect/diff.h"
#include "replay/inspect/dump.h"
#include "replay/inspect/info.h"
#include "replay/inspect/stats.h"
#include "replay/inspect/trace_open.h"
#include "tests/inspect/test_util.h"

namespace sandtrace::inspect {
namespace {

std::vector<std::string> CorpusTraces() {
  std::vector<std::string> files;
  if (DIR* dir = opendir(INSPECT_CORPUS_DIR)) {
    while (dirent* e = readdir(dir)) {
      std::string name = e->d_name;
      if (name.size() > 6 && name.ends_with(".capnp")) {
        files.push_back(std::string(INSPECT_CORPUS_DIR) + "/" + name);
      }
    }
    closedir(dir);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::unique_ptr<trace::TraceReader> Open(const std::string& path) {
  auto r = OpenTrace(path);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : ErrorLine(r.error()));
  return r.ok() ? std::move(*r) : nullptr;
}

TEST(InspectCorpus, EveryToolAgreesOnEveryRecording) {
  const auto traces = CorpusTraces();
  if (traces.empty()) GTEST_SKIP() << "no traces in " << INSPECT_CORPUS_DIR;
  inspect_test::TempDir dir;
  for (const std::string& path : traces) {
    SCOPED_TRACE(path);
    auto r1 = Open(path);
    ASSERT_TRUE(r1);
    const InfoReport info = CollectInfo(*r1);
    EXPECT_TRUE(info.clean()) << InfoText(info);
    EXPECT_GT(info.events, 0u);

    auto r2 = Open(path);
    std::ostringstream text;
    auto dumped = Dump(*r2, {}, text);
    ASSERT_TRUE(dumped.ok());
    EXPECT_EQ(dumped->events, info.events);
    // One line per event, process and cow record.
    EXPECT_EQ(inspect_test::Lines(text.str()).size(),
              info.events + info.process_events + info.cow_events);

    auto r3 = Open(path);
    auto stats = CollectStats(*r3, {}, StatsSort::kTime);
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->total.calls, info.events);

    auto ra = Open(path), rb = Open(path);
    auto self = DiffTraces(*ra, *rb, {});
    ASSERT_TRUE(self.ok());
    EXPECT_TRUE(self->same()) << DiffText(*self, "a", "a");

    DumpOptions json;
    json.json = true;
    auto r4 = Open(path);
    std::ostringstream lines;
    ASSERT_TRUE(Dump(*r4, json, lines).ok());
    inspect_test::WriteFile(dir.File("t.jsonl"), lines.str());
    auto check = inspect_test::RunCommand(
        {"/usr/bin/env", "python3", INSPECT_SOURCE_DIR "/check_jsonl.py", dir.File("t.jsonl")});
    EXPECT_EQ(check.status, 0) << check.err;
    EXPECT_NE(check.out.find("event=" + std::to_string(info.events)), std::string::npos)
        << check.out;

    auto r5 = Open(path);
    std::ostringstream chrome;
    ASSERT_TRUE(ExportChrome(*r5, chrome).ok());
    inspect_test::WriteFile(dir.File("t.json"), chrome.str());
    check =
        inspect_test::RunCommand({"/usr/bin/env", "python3", INSPECT_SOURCE_DIR "/check_chrome.py",
                                  dir.File("t.json"), std::to_string(info.events)});
    EXPECT_EQ(check.status, 0) << check.err;
  }
}

}  // namespace
}  // namespace sandtrace::inspect
