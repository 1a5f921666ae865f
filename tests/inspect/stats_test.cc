// trace stats (replay/inspect/stats.h) and its latency histogram.
#include "replay/inspect/stats.h"

#include <gtest/gtest.h>
#include <linux/audit.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "replay/inspect/dump.h"
#include "replay/inspect/trace_open.h"
#include "tests/inspect/golden_traces.h"
#include "tests/inspect/test_util.h"

namespace sandtrace::inspect {
namespace {

using inspect_test::TempDir;

TEST(StatsHistogram, ExactBelow128AndWithinOnePercentAbove) {
  LatencyHistogram small;
  for (uint64_t v : {5, 1, 127, 3}) small.Add(v);
  EXPECT_EQ(small.Percentile(50), 3u);
  EXPECT_EQ(small.Percentile(100), 127u);
  EXPECT_EQ(small.min(), 1u);

  LatencyHistogram h;
  std::vector<uint64_t> values;
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const uint64_t v = 100 + x % 5'000'000;  // 100 ns .. 5 ms
    values.push_back(v);
    h.Add(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    const size_t rank = static_cast<size_t>(std::ceil(p / 100 * values.size()));
    const double exact = static_cast<double>(values[rank - 1]);
    const double got = static_cast<double>(h.Percentile(p));
    EXPECT_LE(std::abs(got - exact) / exact, 1.0 / 128) << "p" << p;
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.count(), values.size());

  LatencyHistogram merged;
  merged.Merge(small);
  merged.Merge(h);
  EXPECT_EQ(merged.count(), h.count() + small.count());
  EXPECT_EQ(merged.total(), h.total() + small.total());
  EXPECT_EQ(merged.min(), 1u);
  EXPECT_EQ(LatencyHistogram().Percentile(50), 0u);
}

trace::EventRecord Ev(int nr, trace::DecisionKind kind, uint64_t handler_ns) {
  trace::EventRecord e;
  e.arch = AUDIT_ARCH_X86_64;
  e.nr = nr;
  e.decision.kind = kind;
  if (kind == trace::DecisionKind::kErrno) e.decision.error = ENOENT;
  e.handler_start_ns = 1000;
  e.handler_end_ns = 1000 + handler_ns;
  return e;
}

TEST(StatsCollector, CountsDecisionsErrorsAndSortsByTime) {
  using K = trace::DecisionKind;
  StatsCollector c;
  c.Add(Ev(257, K::kInjectFd, 1000));
  c.Add(Ev(257, K::kErrno, 3000));
  c.Add(Ev(257, K::kContinue, 2000));
  c.Add(Ev(83, K::kReturn, 10'000));
  c.Add(Ev(3, K::kContinue, 10));
  StatsReport r = c.Finish(StatsSort::kTime);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].syscall, "mkdir");
  EXPECT_EQ(r.rows[1].syscall, "openat");
  EXPECT_EQ(r.rows[2].syscall, "close");
  const StatsRow& openat = r.rows[1];
  EXPECT_EQ(openat.calls, 3u);
  EXPECT_EQ(openat.errors, 1u);
  EXPECT_EQ(openat.decisions[static_cast<size_t>(K::kInjectFd)], 1u);
  EXPECT_EQ(openat.decisions[static_cast<size_t>(K::kErrno)], 1u);
  EXPECT_EQ(openat.decisions[static_cast<size_t>(K::kContinue)], 1u);
  EXPECT_EQ(openat.total_ns, 6000u);
  EXPECT_EQ(openat.avg_ns, 2000u);
  EXPECT_EQ(openat.max_ns, 3000u);
  EXPECT_EQ(r.total.calls, 5u);
  EXPECT_EQ(r.total.errors, 1u);
  EXPECT_EQ(r.total.total_ns, 16'010u);

  StatsReport by_calls = c.Finish(StatsSort::kCalls);
  EXPECT_EQ(by_calls.rows[0].syscall, "openat");
  StatsReport by_name = c.Finish(StatsSort::kName);
  EXPECT_EQ(by_name.rows[0].syscall, "close");
  EXPECT_FALSE(ParseStatsSort("bogus").ok());
}

// The number of event lines a text dump prints (process lines are
// "+++ ... +++", cow lines "--- cow ... ---").
uint64_t EventLines(const std::string& dump) {
  uint64_t n = 0;
  for (const auto& line : inspect_test::Lines(dump)) {
    if (line.find(" +++") == std::string::npos && line.rfind("--- cow", 0) != 0) ++n;
  }
  return n;
}

TEST(StatsCollector, TotalsEqualDumpLineCounts) {
  TempDir dir;
  ASSERT_TRUE(inspect_test::WriteSynthetic(dir.File("t.capnp"), 3000, 11).ok());
  ASSERT_TRUE(
      inspect_test::WriteRecords(dir.File("b.capnp"), inspect_test::BuildTraceRecords()).ok());
  std::vector<FilterOptions> filters(5);
  filters[1].expressions = {"trace=%stat"};
  filters[2].decisions = {"errno", "inject"};
  filters[3].tids = {41001, 5001};
  filters[4].from = "100";
  filters[4].to = "1999";
  filters[4].paths = {"src/*"};
  for (const auto& [file, all_events] : {std::pair{"t.capnp", 3000}, std::pair{"b.capnp", 14}}) {
    for (const FilterOptions& f : filters) {
      auto r1 = OpenTrace(dir.File(file));
      auto r2 = OpenTrace(dir.File(file));
      ASSERT_TRUE(r1.ok() && r2.ok());
      DumpOptions options;
      options.filter = f;
      std::ostringstream out;
      ASSERT_TRUE(Dump(**r1, options, out).ok());
      auto stats = CollectStats(**r2, f, StatsSort::kTime);
      ASSERT_TRUE(stats.ok());
      EXPECT_EQ(stats->total.calls, EventLines(out.str())) << file;
      if (&f == &filters[0]) {
        EXPECT_EQ(stats->total.calls, static_cast<uint64_t>(all_events));
      } else {
        EXPECT_LT(stats->total.calls, static_cast<uint64_t>(all_events));
      }
      uint64_t sum = 0;
      for (const auto& row : stats->rows) sum += row.calls;
      EXPECT_EQ(sum, stats->total.calls);
    }
  }
}

}  // namespace
}  // namespace sandtrace::inspect
