// Record -> replay -> identical, on small real workloads run in the
// copy-on-write sandbox.
#include <gtest/gtest.h>
#include <unistd.h>

#include "replay/replay.h"
#include "tests/replay/replay_test_util.h"

namespace sandtrace::replay {
namespace {

using replay_test::TempDir;
using replay_test::WriteFile;

class ReplayLive : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(work_ / "data.txt", "b\na\nc\n");
    WriteFile(work_ / "old.txt", "old\n");
  }
  std::string Record(const std::vector<std::string>& argv, uint64_t quota = 0) {
    replay_test::RecordSpec spec;
    spec.argv = argv;
    spec.workdir = work_.path();
    spec.trace = out_ / "t.capnp";
    spec.quota = quota;
    auto r = replay_test::RecordCow(spec);
    EXPECT_EQ(r.error, "");
    EXPECT_GT(r.events, 0u);
    return spec.trace;
  }
  TempDir work_;
  TempDir out_;
};

TEST_F(ReplayLive, ShellEditsFiles) {
  std::string t = Record({"/bin/sh", "-c",
                          "echo new > new.txt; sed -i s/a/z/ data.txt; mkdir -p out/sub; "
                          "cp data.txt out/sub/; rm old.txt; ls -la > listing.txt; ls out > /dev/null; "
                          "cat data.txt > /dev/null; mv new.txt out/; stat out/new.txt > /dev/null"});
  auto r = Replay(t);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->ExitStatus(), 0) << FormatText(*r);
  EXPECT_GT(r->events, 10u);
}

}  // namespace
}  // namespace sandtrace::replay
