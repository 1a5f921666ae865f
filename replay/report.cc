// FormatText and FormatJson (replay/replay.h).
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "formats/json.h"
#include "replay/inspect/event_text.h"
#include "replay/inspect/json_out.h"
#include "replay/replay.h"

namespace sandtrace::replay {

namespace {

std::string Line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Line(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

std::string Dur(uint64_t ns) { return inspect::FormatDuration(ns); }

void TimingRows(std::string& out, const char* title, const std::vector<TimingRow>& rows,
                size_t limit) {
  out += Line("%-22s %8s %9s %9s %9s %9s   %9s %9s %9s\n", title, "count", "p50", "p90", "p99",
              "max", "live p50", "live p99", "live max");
  size_t n = 0;
  for (const TimingRow& r : rows) {
    if (++n > limit) {
      out += Line("  ... %zu more\n", rows.size() - limit);
      break;
    }
    out += Line("  %-20s %8" PRIu64 " %9s %9s %9s %9s   %9s %9s %9s\n", r.name.c_str(),
                r.replay.count, Dur(r.replay.p50_ns).c_str(), Dur(r.replay.p90_ns).c_str(),
                Dur(r.replay.p99_ns).c_str(), Dur(r.replay.max_ns).c_str(),
                r.live.count ? Dur(r.live.p50_ns).c_str() : "-",
                r.live.count ? Dur(r.live.p99_ns).c_str() : "-",
                r.live.count ? Dur(r.live.max_ns).c_str() : "-");
  }
}

void Summary(inspect::JsonOut& j, const LatencySummary& s) {
  j.BeginObject();
  j.Key("count").Uint(s.count);
  j.Key("p50_ns").Uint(s.p50_ns);
  j.Key("p90_ns").Uint(s.p90_ns);
  j.Key("p99_ns").Uint(s.p99_ns);
  j.Key("max_ns").Uint(s.max_ns);
  j.EndObject();
}

void Row(inspect::JsonOut& j, const TimingRow& r) {
  j.BeginObject();
  j.Key("name").String(r.name);
  j.Key("replay");
  Summary(j, r.replay);
  j.Key("live");
  Summary(j, r.live);
  j.EndObject();
}

void Diffs(inspect::JsonOut& j, const std::vector<Difference>& diffs) {
  j.BeginArray();
  for (const Difference& d : diffs) {
    j.BeginObject();
    j.Key("what").String(d.what);
    j.Key("expected").String(d.expected);
    j.Key("got").String(d.got);
    j.EndObject();
  }
  j.EndArray();
}

}  // namespace

std::string FormatText(const ReplayReport& r, bool with_timing) {
  std::string out;
  for (const std::string& w : r.warnings) out += "warning: " + w + "\n";
  bool first = true;
  for (const Divergence& d : r.divergences) {
    out += Line("event #%" PRIu64 " [tid %u] %s\n", d.seq, d.tid, d.call.c_str());
    for (const Difference& x : d.differences) {
      out += "  " + x.what + "\n    expected: " + x.expected + "\n    got:      " + x.got + "\n";
    }
    if (first && r.diverged > 1) {
      out +=
          "  (the replay went on from here; later divergences may be consequences of this one)\n";
    }
    first = false;
  }
  if (r.diverged > r.divergences.size()) {
    out += Line("... %" PRIu64 " more diverged events not shown\n",
                r.diverged - static_cast<uint64_t>(r.divergences.size()));
  }
  for (const Difference& x : r.change_differences) {
    out += "end of run: " + x.what + "\n    expected: " + x.expected + "\n    got:      " + x.got +
           "\n";
  }

  out += Line("replay: %" PRIu64 " events, %" PRIu64 " identical, %" PRIu64 " diverged", r.events,
              r.identical, r.diverged);
  if (r.outside) out += Line(", %" PRIu64 " outside the workdir (not compared)", r.outside);
  if (r.warmed_up) out += Line(", %" PRIu64 " re-driven before the range", r.warmed_up);
  out += "\n";
  if (r.diverged) {
    out += "diverged by syscall:";
    for (const SyscallTally& t : r.by_syscall) {
      if (t.diverged) out += Line(" %s %" PRIu64 "/%" PRIu64, t.name.c_str(), t.diverged, t.events);
    }
    out += "\n";
  }
  if (r.changes_compared) {
    out += Line("change list: %" PRIu64 " recorded, %" PRIu64 " replayed, %s\n", r.changes_recorded,
                r.changes_replayed, r.change_differences.empty() ? "matching" : "different");
  }
  if (r.stopped_early) out += "stopped early: --max-divergences reached\n";
  if (!r.read_error.empty()) out += "trace unreadable from here: " + r.read_error + "\n";

  if (with_timing && r.timing) {
    const TimingReport& t = *r.timing;
    out += Line(
        "\ntiming (%d run%s; replay = Dispatch with recorded Tracee answers, live = the "
        "recorded handler time)\n",
        t.repeat, t.repeat == 1 ? "" : "s");
    TimingRows(out, "by handler", t.by_handler, 20);
    TimingRows(out, "by syscall", t.by_syscall, 25);
    TimingRows(out, "all", {t.all}, 1);
    out += Line(
        "snapshot rebuild %.3f s; replay loop %.3f s: %.0f events/s (cpu %.3f s: %.0f "
        "events/s)",
        t.rebuild_seconds, t.replay_seconds, t.replay_events_per_s, t.replay_cpu_seconds,
        t.replay_cpu_events_per_s);
    if (t.live_events_per_s > 0) {
      out += Line("; live %.3f s: %.0f events/s; replay/live rate %.1fx", t.live_seconds,
                  t.live_events_per_s, t.speedup);
    }
    out += "\n";
  }
  if (r.baseline) {
    out += Line("baseline: %" PRIu64 " rows compared, %zu regressed\n", r.baseline->rows_compared,
                r.baseline->regressions.size());
    for (const Regression& g : r.baseline->regressions) {
      out += "  regressed: " + g.row + ": " + Dur(g.baseline_ns) + " -> " + Dur(g.now_ns) + "\n";
    }
  }
  out += r.ExitStatus() == 0   ? "verdict: identical\n"
         : r.ExitStatus() == 1 ? "verdict: diverged\n"
                               : "verdict: unreadable trace\n";
  return out;
}

std::string FormatJson(const ReplayReport& r) {
  trace::JsonEncoder enc;
  std::string out;
  inspect::JsonOut j(enc, out);
  j.BeginObject();
  j.Key("trace").String(r.trace);
  j.Key("command").String(r.command);
  j.Key("handler_sets").BeginArray();
  for (const std::string& s : r.handler_sets) j.String(s);
  j.EndArray();
  j.Key("verdict").String(r.ExitStatus() == 0   ? "identical"
                          : r.ExitStatus() == 1 ? "diverged"
                                                : "unreadable");
  j.Key("exit_status").Int(r.ExitStatus());
  j.Key("events").Uint(r.events);
  j.Key("identical").Uint(r.identical);
  j.Key("diverged").Uint(r.diverged);
  j.Key("outside").Uint(r.outside);
  j.Key("warmed_up").Uint(r.warmed_up);
  j.Key("stopped_early").Bool(r.stopped_early);
  j.Key("divergences").BeginArray();
  for (const Divergence& d : r.divergences) {
    j.BeginObject();
    j.Key("seq").Uint(d.seq);
    j.Key("tid").Uint(d.tid);
    j.Key("syscall").String(d.syscall);
    j.Key("call").String(d.call);
    j.Key("differences");
    Diffs(j, d.differences);
    j.EndObject();
  }
  j.EndArray();
  j.Key("by_syscall").BeginArray();
  for (const SyscallTally& t : r.by_syscall) {
    j.BeginObject();
    j.Key("name").String(t.name);
    j.Key("events").Uint(t.events);
    j.Key("identical").Uint(t.identical);
    j.Key("diverged").Uint(t.diverged);
    j.Key("outside").Uint(t.outside);
    j.EndObject();
  }
  j.EndArray();
  j.Key("changes_compared").Bool(r.changes_compared);
  j.Key("changes_recorded").Uint(r.changes_recorded);
  j.Key("changes_replayed").Uint(r.changes_replayed);
  j.Key("change_differences");
  Diffs(j, r.change_differences);
  j.Key("read_error").String(r.read_error);
  j.Key("warnings").BeginArray();
  for (const std::string& w : r.warnings) j.String(w);
  j.EndArray();
  if (r.timing) {
    const TimingReport& t = *r.timing;
    j.Key("timing").BeginObject();
    j.Key("repeat").Int(t.repeat);
    j.Key("events").Uint(t.events);
    j.Key("rebuild_s").Double(t.rebuild_seconds, 6);
    j.Key("replay_s").Double(t.replay_seconds, 6);
    j.Key("replay_events_per_s").Double(t.replay_events_per_s, 1);
    j.Key("replay_cpu_s").Double(t.replay_cpu_seconds, 6);
    j.Key("replay_cpu_events_per_s").Double(t.replay_cpu_events_per_s, 1);
    j.Key("live_s").Double(t.live_seconds, 6);
    j.Key("live_events_per_s").Double(t.live_events_per_s, 1);
    j.Key("speedup").Double(t.speedup, 2);
    j.Key("all");
    Row(j, t.all);
    j.Key("by_handler").BeginArray();
    for (const TimingRow& row : t.by_handler) Row(j, row);
    j.EndArray();
    j.Key("by_syscall").BeginArray();
    for (const TimingRow& row : t.by_syscall) Row(j, row);
    j.EndArray();
    j.EndObject();
  }
  if (r.baseline) {
    j.Key("baseline").BeginObject();
    j.Key("rows_compared").Uint(r.baseline->rows_compared);
    j.Key("regressions").BeginArray();
    for (const Regression& g : r.baseline->regressions) {
      j.BeginObject();
      j.Key("row").String(g.row);
      j.Key("baseline_ns").Uint(g.baseline_ns);
      j.Key("now_ns").Uint(g.now_ns);
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
  }
  j.EndObject();
  out += "\n";
  return out;
}

}  // namespace sandtrace::replay
