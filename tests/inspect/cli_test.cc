// The `trace` subcommands dump, stats, diff, export and info, run as a
// user runs them: exit statuses, one-line errors, --help, JSON validity
// (checked by python3's json module), and the memory of a million-event
// export.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "formats/records.h"
#include "formats/synthetic_trace.h"
#include "formats/trace_reader.h"
#include "tests/inspect/golden_traces.h"
#include "tests/inspect/test_util.h"

namespace sandtrace::inspect_test {
namespace {

const std::string kTrace = TRACE_BIN;
const std::string kGolden = INSPECT_GOLDEN_DIR;
const std::string kSource = INSPECT_SOURCE_DIR;

RunResult Trace(std::vector<std::string> args, const std::string& out_file = "") {
  args.insert(args.begin(), kTrace);
  return RunCommand(args, out_file);
}

RunResult Python(const std::string& script, std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/env", "python3", kSource + "/" + script});
  return RunCommand(args);
}

// One line on stderr, nothing on stdout, status 2.
void ExpectUsageError(const RunResult& r, const std::string& needle) {
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

// Bad inputs shared by every subcommand.
class BadInputs {
 public:
  BadInputs() {
    WriteFile(dir_.File("text.txt"), "this is not a trace\n");
    WriteFile(dir_.File("empty.capnp"), "");
    auto records = BuildTraceRecords();
    auto& h = std::get<trace::HeaderRecord>(records[0]);
    h.format_version = trace::kReaderVersion + 1;
    h.min_reader_version = trace::kReaderVersion + 1;
    EXPECT_TRUE(WriteRecords(dir_.File("newer.capnp"), records).ok());
  }
  // (file, what the error line must say)
  std::vector<std::pair<std::string, std::string>> Cases() const {
    return {{dir_.File("missing.capnp"), "No such file or directory"},
            {dir_.File("text.txt"), "sandtrace trace"},
            {dir_.File("empty.capnp"), "sandtrace trace"},
            {dir_.File("newer.capnp"), "needs a reader of format version"},
            {dir_.path(), "not a regular file"}};
  }

 private:
  TempDir dir_;
};

void ExpectErrorsForSingleFileCommand(const std::string& cmd) {
  BadInputs bad;
  for (const auto& [file, needle] : bad.Cases()) {
    SCOPED_TRACE(cmd + " " + file);
    ExpectUsageError(Trace({cmd, file}), needle);
  }
  ExpectUsageError(Trace({cmd, "--bogus", kGolden + "/build.capnp"}), "--bogus");
  ExpectUsageError(Trace({cmd}), "FILE");
}

void ExpectHelp(const std::string& cmd) {
  RunResult r = Trace({cmd, "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Exit status"), std::string::npos) << r.out;
}

uint64_t EventLines(const std::string& dump) {
  uint64_t n = 0;
  for (const auto& line : Lines(dump)) {
    if (line.find(" +++") == std::string::npos && line.rfind("--- cow", 0) != 0) ++n;
  }
  return n;
}

// ------------------------------------------------------------------ dump

TEST(DumpCli, Errors) {
  ExpectErrorsForSingleFileCommand("dump");
  const std::string t = kGolden + "/build.capnp";
  ExpectUsageError(Trace({"dump", "-e", "trace=nosuch", t}), "unknown syscall 'nosuch'");
  ExpectUsageError(Trace({"dump", "--decision", "maybe", t}), "--decision");
  ExpectUsageError(Trace({"dump", "--from", "later", t}), "--from");
  ExpectUsageError(Trace({"dump", "-s", "0", t}), "string-limit");
}

TEST(DumpCli, Help) { ExpectHelp("dump"); }

TEST(DumpCli, TextMatchesTheGoldenOutput) {
  RunResult r = Trace({"dump", kGolden + "/build.capnp"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(r.out, ReadFile(kGolden + "/build.dump.txt"));
}

TEST(DumpCli, JsonLinesParse) {
  TempDir dir;
  RunResult r = Trace({"dump", "--json", kGolden + "/build.capnp"}, dir.File("out.jsonl"));
  ASSERT_EQ(r.status, 0) << r.err;
  RunResult check = Python("check_jsonl.py", {dir.File("out.jsonl")});
  EXPECT_EQ(check.status, 0) << check.err;
  EXPECT_EQ(check.out, "cow=3 event=14 footer=1 header=1 process=5 snapshot=1\n");

  ASSERT_TRUE(WriteSynthetic(dir.File("s.capnp"), 2000, 21).ok());
  r = Trace({"dump", "--json", "-e", "trace=%stat", dir.File("s.capnp")}, dir.File("s.jsonl"));
  ASSERT_EQ(r.status, 0) << r.err;
  check = Python("check_jsonl.py", {dir.File("s.jsonl")});
  EXPECT_EQ(check.status, 0) << check.err;
  EXPECT_NE(check.out.find("event="), std::string::npos);
}

TEST(DumpCli, TruncatedTraceDumpsWhatItHasAndWarns) {
  TempDir dir;
  ASSERT_TRUE(WriteSynthetic(dir.File("t.capnp"), 3000, 4, 8192).ok());
  const std::string bytes = ReadFile(dir.File("t.capnp"));
  WriteFile(dir.File("cut.capnp"), bytes.substr(0, bytes.size() / 2));
  RunResult r = Trace({"dump", dir.File("cut.capnp")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_GT(EventLines(r.out), 100u);
  EXPECT_LT(EventLines(r.out), 3000u);
  EXPECT_EQ(r.err.rfind("trace dump: warning: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

TEST(DumpCli, DamagedTraceIsStatus2AfterWhatItCouldRead) {
  TempDir dir;
  ASSERT_TRUE(WriteSynthetic(dir.File("t.capnp"), 3000, 4, 8192).ok());
  std::string bytes = ReadFile(dir.File("t.capnp"));
  bytes[bytes.size() / 2] ^= 0x21;
  WriteFile(dir.File("bad.capnp"), bytes);
  RunResult r = Trace({"dump", dir.File("bad.capnp")});
  EXPECT_EQ(r.status, 2);
  EXPECT_GT(EventLines(r.out), 0u);
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_NE(r.err.find("corrupt"), std::string::npos) << r.err;
}

// A full disk (or a closed pipe reader that does not kill us) is an error.
TEST(DumpCli, WriteErrorsAreStatus2) {
  const std::string t = kGolden + "/build.capnp";
  for (std::vector<std::string> args : {std::vector<std::string>{"dump", t},
                                        {"dump", "--json", t},
                                        {"stats", t},
                                        {"info", t},
                                        {"export", t},
                                        {"diff", t, t}}) {
    RunResult r = Trace(args, "/dev/full");
    EXPECT_EQ(r.status, 2) << args[0];
    EXPECT_NE(r.err.find("writing the output failed"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
}

// ------------------------------------------------------------------ stats

TEST(StatsCli, Errors) {
  ExpectErrorsForSingleFileCommand("stats");
  ExpectUsageError(Trace({"stats", "--sort", "bogus", kGolden + "/build.capnp"}), "--sort");
}

TEST(StatsCli, Help) { ExpectHelp("stats"); }

TEST(StatsCli, JsonTotalsEqualDumpLineCounts) {
  TempDir dir;
  ASSERT_TRUE(WriteSynthetic(dir.File("s.capnp"), 2000, 8).ok());
  for (std::vector<std::string> filter : {std::vector<std::string>{},
                                          {"-e", "trace=%stat"},
                                          {"--decision", "errno", "-p", "41002"}}) {
    std::vector<std::string> stats = {"stats", "--json"};
    stats.insert(stats.end(), filter.begin(), filter.end());
    stats.push_back(dir.File("s.capnp"));
    RunResult s = Trace(stats, dir.File("stats.json"));
    ASSERT_EQ(s.status, 0) << s.err;
    RunResult total =
        RunCommand({"/usr/bin/env", "python3", "-c",
                    "import json,sys; d=json.load(open(sys.argv[1])); "
                    "assert sum(r['calls'] for r in d['syscalls']) == d['total']['calls']; "
                    "print(d['total']['calls'])",
                    dir.File("stats.json")});
    ASSERT_EQ(total.status, 0) << total.err;
    std::vector<std::string> dump = {"dump"};
    dump.insert(dump.end(), filter.begin(), filter.end());
    dump.push_back(dir.File("s.capnp"));
    RunResult d = Trace(dump);
    ASSERT_EQ(d.status, 0) << d.err;
    EXPECT_EQ(total.out, std::to_string(EventLines(d.out)) + "\n");
    if (filter.empty()) {
      EXPECT_EQ(total.out, "2000\n");
    }
  }
}

// ------------------------------------------------------------------ diff

TEST(DiffCli, Errors) {
  BadInputs bad;
  const std::string good = kGolden + "/build.capnp";
  for (const auto& [file, needle] : bad.Cases()) {
    ExpectUsageError(Trace({"diff", good, file}), needle);
    ExpectUsageError(Trace({"diff", file, good}), needle);
  }
  ExpectUsageError(Trace({"diff", good}), "B");
  ExpectUsageError(Trace({"diff", "--window", "0", good, good}), "window");
}

TEST(DiffCli, Help) { ExpectHelp("diff"); }

TEST(DiffCli, ExitStatusSaysIdenticalOrDifferent) {
  TempDir dir;
  auto records = BuildTraceRecords();
  ASSERT_TRUE(WriteRecords(dir.File("a.capnp"), records).ok());
  for (auto& r : records) {
    if (auto* e = std::get_if<trace::EventRecord>(&r); e && e->seq == 10) {
      e->decision.error = EACCES;
    }
  }
  ASSERT_TRUE(WriteRecords(dir.File("b.capnp"), records).ok());
  RunResult same = Trace({"diff", dir.File("a.capnp"), kGolden + "/build.capnp"});
  EXPECT_EQ(same.status, 0) << same.out;
  EXPECT_NE(same.out.find("\nidentical\n"), std::string::npos);
  RunResult differ = Trace({"diff", dir.File("a.capnp"), dir.File("b.capnp")});
  EXPECT_EQ(differ.status, 1) << differ.err;
  EXPECT_EQ(differ.out.rfind("#10 [5001] statx(", 0), 0u) << differ.out;
  EXPECT_NE(differ.out.find("decision: A -1 ENOENT (No such file or directory) (restart of #9); "
                            "B -1 EACCES (Permission denied) (restart of #9)"),
            std::string::npos)
      << differ.out;
  RunResult quiet = Trace({"diff", "-q", dir.File("a.capnp"), dir.File("b.capnp")});
  EXPECT_EQ(quiet.status, 1);
  EXPECT_TRUE(quiet.out.empty());
}

// ------------------------------------------------------------------ export

TEST(ExportCli, Errors) {
  ExpectErrorsForSingleFileCommand("export");
  const std::string t = kGolden + "/build.capnp";
  ExpectUsageError(Trace({"export", "--format", "svg", t}), "svg");
  ExpectUsageError(Trace({"export", "-o", "/nonexistent-dir/x.json", t}),
                   "/nonexistent-dir/x.json");
}

TEST(ExportCli, Help) { ExpectHelp("export"); }

TEST(ExportCli, ChromeJsonIsValid) {
  TempDir dir;
  RunResult r =
      Trace({"export", kGolden + "/build.capnp", "--format", "chrome", "-o", dir.File("out.json")});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  RunResult check = Python("check_chrome.py", {dir.File("out.json"), "14"});
  EXPECT_EQ(check.status, 0) << check.err;
  EXPECT_EQ(ReadFile(dir.File("out.json")), ReadFile(kGolden + "/build.chrome.json"));

  ASSERT_TRUE(WriteSynthetic(dir.File("s.capnp"), 5000, 12).ok());
  r = Trace({"export", dir.File("s.capnp")}, dir.File("s.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  check = Python("check_chrome.py", {dir.File("s.json"), "5000"});
  EXPECT_EQ(check.status, 0) << check.err;
  // One Chrome thread per distinct tid of the stream.
  std::set<uint32_t> tids;
  trace::SyntheticStream stream(12);
  trace::EventRecord event;
  for (int i = 0; i < 5000; ++i) {
    stream.NextEvent(event);
    tids.insert(event.tid);
  }
  EXPECT_GT(tids.size(), 1u);
  EXPECT_EQ(check.out, "ok 5000 slices 1 processes " + std::to_string(tids.size()) + " threads\n");
}

// The export streams: a million events must not take memory in proportion.
// Generous bound, no timing: the JSON alone is hundreds of MiB.
TEST(ExportCli, MillionEventsInBoundedMemory) {
  TempDir dir;
  ASSERT_TRUE(WriteSynthetic(dir.File("m.capnp"), 1'000'000, 99).ok());
  RunResult r = RunCommand(
      {"/bin/bash", "-c",
       "set -o pipefail; '" + kTrace + "' export '" + dir.File("m.capnp") + "' | wc -c"});
  ASSERT_EQ(r.status, 0) << r.err;
  const uint64_t bytes = std::stoull(r.out);
  RecordProperty("export_bytes", std::to_string(bytes));
  RecordProperty("max_rss_kib", std::to_string(r.max_rss_kib));
  EXPECT_GT(bytes, 200u << 20);  // everything was written...
  EXPECT_LT(r.max_rss_kib, 96 * 1024)
      << "export RSS " << r.max_rss_kib << " KiB";  // ...in little memory
}

// ------------------------------------------------------------------ info

TEST(InfoCli, Errors) { ExpectErrorsForSingleFileCommand("info"); }

TEST(InfoCli, Help) { ExpectHelp("info"); }

TEST(InfoCli, CleanTruncatedAndDamaged) {
  RunResult clean = Trace({"info", kGolden + "/build.capnp"});
  EXPECT_EQ(clean.status, 0);
  EXPECT_NE(clean.out.find("end:         clean\n"), std::string::npos) << clean.out;

  TempDir dir;
  ASSERT_TRUE(WriteSynthetic(dir.File("t.capnp"), 3000, 4, 8192).ok());
  std::string bytes = ReadFile(dir.File("t.capnp"));
  WriteFile(dir.File("cut.capnp"), bytes.substr(0, bytes.size() / 2));
  RunResult cut = Trace({"info", dir.File("cut.capnp")});
  EXPECT_EQ(cut.status, 0) << cut.err;
  EXPECT_NE(cut.out.find("end:         stopped early: "), std::string::npos) << cut.out;

  bytes[bytes.size() / 2] ^= 0x21;
  WriteFile(dir.File("bad.capnp"), bytes);
  RunResult bad = Trace({"info", dir.File("bad.capnp")});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("end:         damaged: "), std::string::npos) << bad.out;
  EXPECT_EQ(bad.err.find('\n'), bad.err.size() - 1) << bad.err;

  RunResult json = Trace({"info", "--json", kGolden + "/build.capnp"}, dir.File("info.json"));
  ASSERT_EQ(json.status, 0);
  RunResult parse =
      RunCommand({"/usr/bin/env", "python3", "-c",
                  "import json,sys; d=json.load(open(sys.argv[1])); "
                  "print(d['clean'], d['counted']['events'], d['footer']['footer']['exitStatus'])",
                  dir.File("info.json")});
  EXPECT_EQ(parse.status, 0) << parse.err;
  EXPECT_EQ(parse.out, "True 14 0\n");
}

}  // namespace
}  // namespace sandtrace::inspect_test
