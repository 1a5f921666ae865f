#include "replay/timing.h"

#include <algorithm>

#include "replay/json_reader.h"

namespace sandtrace::replay {

namespace {

LatencySummary Summary(const inspect::LatencyHistogram& h) {
  LatencySummary s;
  s.count = h.count();
  s.p50_ns = h.Percentile(50);
  s.p90_ns = h.Percentile(90);
  s.p99_ns = h.Percentile(99);
  s.max_ns = h.max();
  return s;
}

template <class Map>
std::vector<TimingRow> Rows(const Map& m) {
  std::vector<TimingRow> rows;
  for (const auto& [name, pair] : m)
    rows.push_back({name, Summary(pair.replay), Summary(pair.live)});
  std::stable_sort(rows.begin(), rows.end(), [](const TimingRow& a, const TimingRow& b) {
    return a.replay.count > b.replay.count;
  });
  return rows;
}

Result<uint64_t> Pick(const LatencySummary& s, const std::string& p) {
  if (p == "p50") return s.p50_ns;
  if (p == "p90") return s.p90_ns;
  if (p == "p99") return s.p99_ns;
  if (p == "max") return s.max_ns;
  return Err(EINVAL, "--baseline-percentile must be p50, p90, p99 or max, not \"" + p + "\"");
}

// A row of a saved report: {"name": ..., "replay": {"count": ..., "p50_ns": ...}}.
bool ReadRow(const JsonValue& v, std::string& name, LatencySummary& s) {
  const JsonValue* n = v.Find("name");
  const JsonValue* r = v.Find("replay");
  if (n == nullptr || r == nullptr || !r->is_object()) return false;
  name = n->string();
  auto num = [&](const char* key) -> uint64_t {
    const JsonValue* x = r->Find(key);
    return x != nullptr && x->number() > 0 ? static_cast<uint64_t>(x->number()) : 0;
  };
  s.count = num("count");
  s.p50_ns = num("p50_ns");
  s.p90_ns = num("p90_ns");
  s.p99_ns = num("p99_ns");
  s.max_ns = num("max_ns");
  return true;
}

}  // namespace

void TimingCollector::Add(const std::string& syscall, const std::string& handler,
                          uint64_t replay_ns, uint64_t live_ns) {
  for (Pair* p : {&by_syscall_[syscall], &by_handler_[handler], &all_}) {
    p->replay.Add(replay_ns);
    if (live_ns > 0) p->live.Add(live_ns);
  }
}

TimingReport TimingCollector::Summarise() const {
  TimingReport r;
  r.by_syscall = Rows(by_syscall_);
  r.by_handler = Rows(by_handler_);
  r.all = {"all events", Summary(all_.replay), Summary(all_.live)};
  return r;
}

Result<BaselineResult> CompareBaseline(const std::string& baseline_json, const TimingReport& now,
                                       const BaselineOptions& options) {
  if (auto p = Pick(now.all.replay, options.percentile); !p.ok()) return p.error();
  auto doc = JsonValue::Parse(baseline_json);
  if (!doc.ok()) return Err(EINVAL, "baseline is not JSON (" + doc.error().context + ")");
  const JsonValue* timing = doc->Find("timing");
  if (timing == nullptr && doc->Find("by_syscall") != nullptr) timing = &*doc;
  if (timing == nullptr || !timing->is_object()) {
    return Err(EINVAL,
               "baseline has no timing report (save one with trace replay --timing --json)");
  }
  // Rows of the baseline by group and name.
  std::map<std::string, LatencySummary> base;
  for (const char* group : {"by_syscall", "by_handler"}) {
    const JsonValue* rows = timing->Find(group);
    if (rows == nullptr || !rows->is_array()) continue;
    for (const JsonValue& row : rows->items()) {
      std::string name;
      LatencySummary s;
      if (ReadRow(row, name, s)) base[std::string(group) + ":" + name] = s;
    }
  }
  if (const JsonValue* all = timing->Find("all")) {
    std::string name;
    LatencySummary s;
    if (ReadRow(*all, name, s)) base["all"] = s;
  }
  if (base.empty()) return Err(EINVAL, "baseline timing report has no rows");

  BaselineResult out;
  auto judge = [&](const std::string& key, const std::string& label, const LatencySummary& s) {
    auto it = base.find(key);
    if (it == base.end()) return;
    if (s.count < options.min_count || it->second.count < options.min_count) return;
    ++out.rows_compared;
    const uint64_t was = *Pick(it->second, options.percentile);
    const uint64_t is = *Pick(s, options.percentile);
    if (static_cast<double>(is) > static_cast<double>(was) * (1.0 + options.threshold)) {
      out.regressions.push_back({label, was, is});
    }
  };
  judge("all", "all events", now.all.replay);
  for (const TimingRow& r : now.by_handler)
    judge("by_handler:" + r.name, "handler " + r.name, r.replay);
  for (const TimingRow& r : now.by_syscall)
    judge("by_syscall:" + r.name, "syscall " + r.name, r.replay);
  return out;
}

}  // namespace sandtrace::replay
