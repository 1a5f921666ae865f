// Handler latency during replay, next to the latency recorded live, and the
// comparison of a timing report with a saved baseline.
//
// What is measured: for each event, the time Dispatch takes in replay (the
// handlers plus the RecordedTracee serving recorded answers, which costs a
// few tens of ns per call, against a syscall each live). The live figure is
// the recorded handler_end - handler_start of the same event. Grouped per
// syscall and per deciding handler set ("none" when no set decided).
// Throughput: events / time of the replay loop (dispatch + comparison; the
// lower rebuild is excluded and reported separately), by the wall clock and
// by the thread's CPU clock, against the live event rate (events / the
// recorded run's wall-clock duration, header start to the last response).
// `speedup` is the wall-clock ratio.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "replay/inspect/latency_histogram.h"
#include "tracer/base/result.h"

namespace sandtrace::replay {

struct LatencySummary {
  uint64_t count = 0;
  uint64_t p50_ns = 0;
  uint64_t p90_ns = 0;
  uint64_t p99_ns = 0;
  uint64_t max_ns = 0;
};

struct TimingRow {
  std::string name;
  LatencySummary replay;
  LatencySummary live;
};

struct TimingReport {
  int repeat = 1;
  uint64_t events = 0;                // per repetition
  std::vector<TimingRow> by_syscall;  // most frequent first
  std::vector<TimingRow> by_handler;  // most frequent first
  TimingRow all;                      // every event
  double rebuild_seconds = 0;         // snapshot -> scratch lower (median)
  double replay_seconds = 0;          // the event loop, wall clock (median over repetitions)
  double replay_events_per_s = 0;
  // The same on the replaying thread's CPU clock: steadier on a busy machine.
  double replay_cpu_seconds = 0;
  double replay_cpu_events_per_s = 0;
  double live_seconds = 0;  // 0 when the trace lacks the times
  double live_events_per_s = 0;
  double speedup = 0;  // replay rate / live rate (0 if unknown)
};

class TimingCollector {
 public:
  void Add(const std::string& syscall, const std::string& handler, uint64_t replay_ns,
           uint64_t live_ns);
  // Summaries; the throughput fields are filled in by the caller.
  TimingReport Summarise() const;

 private:
  struct Pair {
    inspect::LatencyHistogram replay;
    inspect::LatencyHistogram live;
  };
  std::map<std::string, Pair> by_syscall_;
  std::map<std::string, Pair> by_handler_;
  Pair all_;
};

struct BaselineOptions {
  std::string percentile = "p99";  // p50, p90, p99 or max
  double threshold = 0.25;         // a regression: now > baseline * (1 + threshold)
  uint64_t min_count = 20;         // rows with fewer events (either side) are not judged
};

struct Regression {
  std::string row;  // "syscall openat", "handler cow", "all events"
  uint64_t baseline_ns = 0;
  uint64_t now_ns = 0;
};

struct BaselineResult {
  std::vector<Regression> regressions;
  uint64_t rows_compared = 0;
};

// Compares `now` with a report saved by `trace replay --timing --json`
// (`baseline_json`). EINVAL with a one-line context for a file that is not
// such a report or a bad percentile name.
Result<BaselineResult> CompareBaseline(const std::string& baseline_json, const TimingReport& now,
                                       const BaselineOptions& options);

}  // namespace sandtrace::replay
