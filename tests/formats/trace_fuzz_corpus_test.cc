// Feeds mutated traces through the fuzz entry point, so the reader's
// hostile-input paths run in every `make test` even without clang/libFuzzer.
// (It checks for crashes and hangs; trace_reader_test checks the outcomes.)
#include <gtest/gtest.h>

#include <random>

#include "formats/synthetic_trace.h"
#include "tests/formats/trace_fuzz_entry.h"
#include "tests/formats/trace_test_util.h"

namespace sandtrace::trace {
namespace {

TEST(FormatFuzzCorpus, MutatedTracesDoNotCrashOrHangTheReader) {
  std::vector<std::string> corpus;
  corpus.push_back(testing::WriteTrace([](TraceWriter& w) {
    for (const Record& r : testing::SampleRecords()) ASSERT_TRUE(w.Write(r).ok());
  }));
  WriterOptions small;
  small.frame_bytes = 1500;
  corpus.push_back(testing::WriteTrace(
      [](TraceWriter& w) { ASSERT_TRUE(WriteSyntheticTrace(w, 120, 3).ok()); }, small));

  std::mt19937_64 rng(77);
  auto pick = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  for (int i = 0; i < 1500; ++i) {
    std::string bytes = corpus[pick(corpus.size())];
    switch (i % 5) {
      case 0:  // flip bits
        for (int k = 0; k < 4; ++k) bytes[pick(bytes.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 1:  // truncate
        bytes.resize(pick(bytes.size()));
        break;
      case 2:  // insert random bytes
        bytes.insert(pick(bytes.size()), std::string(1 + pick(16), static_cast<char>(rng())));
        break;
      case 3: {  // duplicate a range
        size_t at = pick(bytes.size());
        bytes.insert(pick(bytes.size()), bytes.substr(at, pick(256)));
        break;
      }
      default: {  // splice two inputs
        const std::string& other = corpus[pick(corpus.size())];
        bytes = bytes.substr(0, pick(bytes.size())) + other.substr(pick(other.size()));
        break;
      }
    }
    testing::FuzzReadTrace(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  // The unmutated seeds are valid traces (else the mutations above would
  // mostly exercise the "not a trace" path).
  for (const std::string& bytes : corpus) {
    auto out = testing::ReadTrace(bytes);
    EXPECT_EQ(out.error, "");
    EXPECT_EQ(out.warning, "");
    EXPECT_GT(out.records.size(), 10u);
  }
}

}  // namespace
}  // namespace sandtrace::trace
