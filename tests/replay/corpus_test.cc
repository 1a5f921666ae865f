// The golden corpus (tests/corpus/*.capnp, re-recorded by `make corpus`):
// every trace must replay with zero divergences against the handlers of
// this build, change list included.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "replay/replay.h"

namespace sandtrace::replay {
namespace {

std::vector<std::string> CorpusTraces() {
  std::vector<std::string> out;
  DIR* d = opendir(CORPUS_DIR);
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 6 && name.compare(name.size() - 6, 6, ".capnp") == 0) {
      out.push_back(std::string(CORPUS_DIR) + "/" + name);
    }
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

class CorpusTrace : public ::testing::TestWithParam<std::string> {};

TEST(CorpusFiles, AreThere) {
  // shell, listing, seed, quota, commit (+ compile where cc was present).
  EXPECT_GE(CorpusTraces().size(), 5u) << "in " << CORPUS_DIR;
}

TEST_P(CorpusTrace, ReplaysIdentically) {
  ReplayOptions o;
  o.scratch.base = "/tmp";  // short enough to stand in for the recorded workdirs
  auto r = Replay(GetParam(), o);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->ExitStatus(), 0) << FormatText(*r);
  EXPECT_EQ(r->diverged, 0u);
  EXPECT_GT(r->events, 0u);
  EXPECT_EQ(r->identical + r->outside, r->events);
  EXPECT_TRUE(r->changes_compared) << "the corpus traces end with their change list";
  EXPECT_TRUE(r->warnings.empty()) << r->warnings[0];
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusTrace, ::testing::ValuesIn(CorpusTraces()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param.substr(info.param.rfind('/') + 1);
                           n = n.substr(0, n.size() - 6);
                           for (char& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace sandtrace::replay
