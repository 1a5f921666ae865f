// `trace recover` end to end: an interrupted commit is finished or rolled
// back by the command, which says so in one line; bad input is a clear
// one-line error with exit status 2.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cow/commit.h"
#include "cow/overlay.h"
#include "tests/cow/cow_test_util.h"

namespace sandtrace::cow {
namespace {

struct Output {
  int status = -1;
  std::string text;
};

Output RunTrace(const std::string& args) {
  Output out;
  std::string cmd = std::string(TRACE_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (size_t n = ::fread(buf, 1, sizeof(buf), p)) out.text.append(buf, n);
  int st = ::pclose(p);
  out.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

struct Crash {};

TEST(CowRecoverCli, FinishesAnInterruptedCommit) {
  testing::TempDir root;
  const std::string work = root / "work";
  const std::string store = root / "store";
  ASSERT_EQ(::mkdir(work.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(store.c_str(), 0700), 0);
  testing::WriteFile(work + "/a", "old");
  int steps = 0;
  {
    auto ov = Overlay::Create({work, store}, {});
    ASSERT_TRUE(ov.ok());
    auto f = (*ov)->Open(Base::Root(), "a", O_WRONLY | O_TRUNC, 0);
    ASSERT_EQ(::write(f->fd.get(), "new", 3), 3);
    ASSERT_TRUE((*ov)->Mkdir(Base::Root(), "d", 0755).ok());
    CommitOptions o;
    // Stop right after the commit point: staging (2 places), journal, mark.
    o.step_hook = [&steps](int step) {
      steps = step;
      if (step == 5) throw Crash{};
    };
    EXPECT_THROW((void)(*ov)->Commit(o), Crash);
  }
  EXPECT_EQ(testing::ReadFile(work + "/a"), "old");
  Output out = RunTrace("recover " + work);
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("finished an interrupted commit"), std::string::npos) << out.text;
  EXPECT_EQ(testing::ReadFile(work + "/a"), "new");
  EXPECT_TRUE(testing::Exists(work + "/d"));
  Output again = RunTrace("recover " + work);
  EXPECT_EQ(again.status, 0);
  EXPECT_NE(again.text.find("no interrupted commit"), std::string::npos) << again.text;
}

TEST(CowRecoverCli, BadInputIsOneLineAndStatusTwo) {
  Output out = RunTrace("recover /no/such/dir");
  EXPECT_EQ(out.status, 2);
  EXPECT_EQ(out.text, "trace recover: no such directory: /no/such/dir\n");
  Output st = RunTrace("recover --storage /no/such/store");
  EXPECT_EQ(st.status, 2);
  Output extra = RunTrace("recover a b c");
  EXPECT_EQ(extra.status, 2);
}

}  // namespace
}  // namespace sandtrace::cow
