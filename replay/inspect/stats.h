// `trace stats`: a per-syscall summary like `strace -c`, from the recorded
// timestamps: calls, errors (errno decisions), decisions by kind, and the
// handler's time (handler start to end) as total, average, p50, p99 and
// max. Percentiles come from a LatencyHistogram (within 0.8%).
//
// Streams: memory is one accumulator per distinct syscall.
// Thread-safety: none; plain values and one collector per pass.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "formats/trace_reader.h"
#include "replay/inspect/filter.h"
#include "replay/inspect/latency_histogram.h"
#include "tracer/base/result.h"

namespace sandtrace::inspect {

enum class StatsSort { kTime, kCalls, kErrors, kName, kAvg, kP99 };
// "time", "calls", "errors", "name", "avg", "p99"; EINVAL otherwise.
Result<StatsSort> ParseStatsSort(std::string_view name);

struct StatsRow {
  std::string syscall;  // "openat", or "total"
  uint64_t calls = 0;
  uint64_t errors = 0;
  // Indexed by trace::DecisionKind: unknown, continue, return, errno, inject.
  std::array<uint64_t, trace::kDecisionKinds> decisions{};
  uint64_t total_ns = 0;
  uint64_t avg_ns = 0;
  uint64_t p50_ns = 0;
  uint64_t p99_ns = 0;
  uint64_t max_ns = 0;
};

struct StatsReport {
  std::vector<StatsRow> rows;  // sorted as asked
  StatsRow total;
  std::string warning;  // the reader's truncation warning, if any
};

class StatsCollector {
 public:
  void Add(const trace::EventRecord& event);
  StatsReport Finish(StatsSort sort) const;

 private:
  struct Acc {
    StatsRow row;
    LatencyHistogram latency;
  };
  std::map<std::pair<uint32_t, int32_t>, Acc> by_syscall_;  // (arch, nr)
};

// Reads `reader` to the end, counting the events that pass `filter`.
Result<StatsReport> CollectStats(trace::TraceReader& reader, const FilterOptions& filter,
                                 StatsSort sort);

// The strace -c style table (ends with a newline).
std::string StatsText(const StatsReport& report);
// One JSON object: {"syscalls": [...], "total": {...}}; times in ns.
std::string StatsJson(const StatsReport& report);

}  // namespace sandtrace::inspect
