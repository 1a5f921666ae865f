#include "replay/inspect/stats.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "formats/json.h"
#include "replay/inspect/event_text.h"
#include "replay/inspect/json_out.h"

namespace sandtrace::inspect {
namespace {

size_t KindIndex(trace::DecisionKind kind) {
  const auto i = static_cast<size_t>(kind);
  return i < trace::kDecisionKinds ? i : 0;
}

void Finalize(StatsRow& row, const LatencyHistogram& h) {
  row.total_ns = h.total();
  row.avg_ns = h.count() ? h.total() / h.count() : 0;
  row.p50_ns = h.Percentile(50);
  row.p99_ns = h.Percentile(99);
  row.max_ns = h.max();
}

double Us(uint64_t ns) { return static_cast<double>(ns) / 1e3; }

}  // namespace

Result<StatsSort> ParseStatsSort(std::string_view name) {
  if (name == "time") return StatsSort::kTime;
  if (name == "calls") return StatsSort::kCalls;
  if (name == "errors") return StatsSort::kErrors;
  if (name == "name") return StatsSort::kName;
  if (name == "avg") return StatsSort::kAvg;
  if (name == "p99") return StatsSort::kP99;
  return Err(EINVAL, "--sort: unknown key '" + std::string(name) +
                         "' (time, calls, errors, name, avg, p99)");
}

void StatsCollector::Add(const trace::EventRecord& event) {
  Acc& acc = by_syscall_[{event.arch, event.nr}];
  if (acc.row.calls == 0) acc.row.syscall = SyscallName(event.arch, event.nr);
  ++acc.row.calls;
  if (event.decision.kind == trace::DecisionKind::kErrno ||
      (event.decision.kind == trace::DecisionKind::kReturn && event.decision.value < 0)) {
    ++acc.row.errors;
  }
  ++acc.row.decisions[KindIndex(event.decision.kind)];
  acc.latency.Add(HandlerNs(event));
}

StatsReport StatsCollector::Finish(StatsSort sort) const {
  StatsReport report;
  LatencyHistogram all;
  report.total.syscall = "total";
  for (const auto& [key, acc] : by_syscall_) {
    StatsRow row = acc.row;
    Finalize(row, acc.latency);
    all.Merge(acc.latency);
    report.total.calls += row.calls;
    report.total.errors += row.errors;
    for (size_t i = 0; i < row.decisions.size(); ++i) report.total.decisions[i] += row.decisions[i];
    report.rows.push_back(std::move(row));
  }
  Finalize(report.total, all);
  auto key = [sort](const StatsRow& r) -> uint64_t {
    switch (sort) {
      case StatsSort::kTime:
        return r.total_ns;
      case StatsSort::kCalls:
        return r.calls;
      case StatsSort::kErrors:
        return r.errors;
      case StatsSort::kAvg:
        return r.avg_ns;
      case StatsSort::kP99:
        return r.p99_ns;
      case StatsSort::kName:
        return 0;
    }
    return 0;
  };
  // Descending by the key, then by calls, then by name: a total order, so
  // the output is deterministic.
  std::sort(report.rows.begin(), report.rows.end(), [&](const StatsRow& a, const StatsRow& b) {
    if (key(a) != key(b)) return key(a) > key(b);
    if (sort != StatsSort::kName && a.calls != b.calls) return a.calls > b.calls;
    return a.syscall < b.syscall;
  });
  return report;
}

Result<StatsReport> CollectStats(trace::TraceReader& reader, const FilterOptions& options,
                                 StatsSort sort) {
  auto filter = EventFilter::Create(options, reader.header());
  if (!filter.ok()) return filter.error();
  if (filter->from_seq()) {
    auto found = reader.SeekToSeq(*filter->from_seq());
    if (!found.ok()) return found.error();
  }
  StatsCollector collector;
  trace::Record record;
  while (true) {
    auto more = reader.Next(record);
    if (!more.ok()) return more.error();
    if (!*more) break;
    const auto* event = std::get_if<trace::EventRecord>(&record);
    if (event == nullptr) continue;
    const EventFilter::Verdict verdict = filter->Next(record);
    if (verdict == EventFilter::Verdict::kStop) break;
    if (verdict == EventFilter::Verdict::kKeep) collector.Add(*event);
  }
  StatsReport report = collector.Finish(sort);
  report.warning = reader.warning();
  return report;
}

std::string StatsText(const StatsReport& report) {
  std::string out;
  char buf[256];
  out +=
      "% time    total µs     avg µs     p50 µs     p99 µs     max µs     calls   errors "
      "continue   return    errno   inject  syscall\n";
  const std::string rule =
      "------ ----------- ---------- ---------- ---------- ---------- --------- -------- "
      "-------- -------- -------- --------  ----------------\n";
  out += rule;
  const double total = static_cast<double>(report.total.total_ns);
  auto row_line = [&](const StatsRow& r) {
    const double share = total > 0 ? 100.0 * static_cast<double>(r.total_ns) / total : 0.0;
    std::snprintf(buf, sizeof buf,
                  "%6.2f %11.3f %10.3f %10.3f %10.3f %10.3f %9" PRIu64 " %8" PRIu64 " %8" PRIu64
                  " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "  %s\n",
                  share, Us(r.total_ns), Us(r.avg_ns), Us(r.p50_ns), Us(r.p99_ns), Us(r.max_ns),
                  r.calls, r.errors, r.decisions[1], r.decisions[2], r.decisions[3], r.decisions[4],
                  r.syscall.c_str());
    out += buf;
  };
  for (const StatsRow& r : report.rows) row_line(r);
  out += rule;
  row_line(report.total);
  if (report.total.decisions[5] != 0) {
    out += "(" + std::to_string(report.total.decisions[5]) +
           " events restarted their syscall with a changed argument)\n";
  }
  if (report.total.decisions[0] != 0) {
    out += "(" + std::to_string(report.total.decisions[0]) +
           " events had a decision of unknown kind)\n";
  }
  return out;
}

std::string StatsJson(const StatsReport& report) {
  trace::JsonEncoder encoder;
  std::string out;
  JsonOut j(encoder, out);
  auto row = [&](const StatsRow& r) {
    j.BeginObject();
    j.Key("syscall").String(r.syscall);
    j.Key("calls").Uint(r.calls);
    j.Key("errors").Uint(r.errors);
    j.Key("decisions").BeginObject();
    j.Key("unknown").Uint(r.decisions[0]);
    j.Key("continue").Uint(r.decisions[1]);
    j.Key("return").Uint(r.decisions[2]);
    j.Key("errno").Uint(r.decisions[3]);
    j.Key("inject").Uint(r.decisions[4]);
    j.Key("restart").Uint(r.decisions[5]);
    j.EndObject();
    j.Key("handlerNs").BeginObject();
    j.Key("total").Uint(r.total_ns);
    j.Key("avg").Uint(r.avg_ns);
    j.Key("p50").Uint(r.p50_ns);
    j.Key("p99").Uint(r.p99_ns);
    j.Key("max").Uint(r.max_ns);
    j.EndObject();
    j.EndObject();
  };
  j.BeginObject();
  j.Key("syscalls").BeginArray();
  for (const StatsRow& r : report.rows) row(r);
  j.EndArray();
  j.Key("total");
  row(report.total);
  if (!report.warning.empty()) j.Key("warning").String(report.warning);
  j.EndObject();
  out += '\n';
  return out;
}

}  // namespace sandtrace::inspect
