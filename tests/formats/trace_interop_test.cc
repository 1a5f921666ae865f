// Interop: stock Debian tools decode a trace (DESIGN.md §3):
//   zstd -dc FILE | capnp decode formats/trace.capnp Record
// yields as many records as TraceReader does.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "formats/synthetic_trace.h"
#include "tests/formats/trace_test_util.h"

namespace sandtrace::trace {
namespace {

bool HaveTool(const char* name) {
  std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Runs `command` under sh and returns its stdout; `status` gets the exit code.
std::string RunShell(const std::string& command, int* status) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "re");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

TEST(FormatInterop, ZstdAndCapnpDecodeSeeEveryRecord) {
  if (!HaveTool("zstd") || !HaveTool("capnp")) {
    GTEST_SKIP() << "zstd or capnp missing (scripts/install_deps.sh installs them)";
  }
  WriterOptions options;
  options.frame_bytes = 8192;  // several frames, then the skippable index
  std::string bytes = testing::WriteTrace(
      [](TraceWriter& w) {
        std::vector<Record> records = testing::SampleRecords();
        for (size_t i = 0; i + 1 < records.size(); ++i) ASSERT_TRUE(w.Write(records[i]).ok());
        SyntheticStream stream(5);
        EventRecord e;
        for (int i = 0; i < 500; ++i) {
          stream.NextEvent(e);
          e.seq += 100;
          ASSERT_TRUE(w.Write(e).ok());
        }
        ASSERT_TRUE(w.Write(records.back()).ok());
      },
      options);
  auto ours = testing::ReadTrace(bytes);
  ASSERT_EQ(ours.error, "");
  ASSERT_GT(ours.records.size(), 500u);

  char dir_template[] = "/tmp/sandtrace-interop-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string trace = dir + "/t.capnp";
  std::ofstream(trace, std::ios::binary) << bytes;

  // Each stage's output goes to a file so that each exit status is checked.
  const std::string schema = std::string(SANDTRACE_SOURCE_DIR) + "/formats/trace.capnp";
  int status = 0;
  RunShell("zstd -q -dc '" + trace + "' > '" + dir + "/t.raw'", &status);
  ASSERT_EQ(status, 0) << "zstd -dc failed";
  std::string text =
      RunShell("capnp decode --short '" + schema + "' Record < '" + dir + "/t.raw'", &status);
  ASSERT_EQ(status, 0) << "capnp decode failed";
  RunShell("rm -rf '" + dir + "'", &status);

  size_t lines = 0;
  std::istringstream in(text);
  std::string line, first, last;
  while (std::getline(in, line)) {
    if (lines == 0) first = line;
    last = line;
    ++lines;
  }
  EXPECT_EQ(lines, ours.records.size());
  EXPECT_EQ(first.rfind("(header = (magic = 4990904633913527891, formatVersion = " +
                            std::to_string(kFormatVersion),
                        0),
            0u)
      << first.substr(0, 200);
  EXPECT_EQ(last.rfind("(footer = (totals = (records = ", 0), 0u) << last.substr(0, 200);
  EXPECT_NE(text.find("readString = (address = "), std::string::npos);
  EXPECT_NE(text.find("injectFd = (root = upper, path = \"src/main.c\""), std::string::npos);
}

}  // namespace
}  // namespace sandtrace::trace
