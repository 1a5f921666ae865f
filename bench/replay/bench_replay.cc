// Replay of the golden corpus (tests/corpus/*.capnp), one benchmark per
// trace (BM_Replay/<name>), plus the replay loop alone on the largest one.
//
// Counters:
//   events/s       replayed events per second of the whole Replay() call
//                  (scratch directory, snapshot rebuild, loop, change list)
//   loop_events/s  the same for the event loop alone (dispatch + comparison)
//   loop_cpu_events/s  ... by the replaying thread's CPU clock (steadier when
//                  the machine is busy)
//   live_events/s  the recorded run's event rate (events / its duration)
//   speedup        loop_events/s / live_events/s (target: at least 5)
//   speedup_cpu    loop_cpu_events/s / live_events/s
//   <set>_p50_ns, <set>_p99_ns
//                  handler latency per deciding handler set during replay
//   events         events per replay; diverged must stay 0
//
// Debian's libbenchmark is a debug build: compare figures as ratios only.
#include <benchmark/benchmark.h>
#include <dirent.h>

#include <algorithm>
#include <string>
#include <vector>

#include "replay/replay.h"

namespace {

using sandtrace::replay::ReplayOptions;

std::vector<std::string> CorpusTraces() {
  std::vector<std::string> out;
  if (DIR* d = opendir(CORPUS_DIR)) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 6 && n.compare(n.size() - 6, 6, ".capnp") == 0) out.push_back(n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void BM_Replay(benchmark::State& state, const std::string& path) {
  ReplayOptions o;
  o.scratch.base = "/tmp";
  o.timing = true;
  double loop_s = 0, loop_cpu_s = 0, live_eps = 0;
  uint64_t events = 0, diverged = 0;
  std::optional<sandtrace::replay::TimingReport> last;
  for (auto _ : state) {
    auto r = sandtrace::Replay(path, o);
    if (!r.ok()) {
      state.SkipWithError(r.error().Message().c_str());
      return;
    }
    events = r->events;
    diverged += r->diverged;
    loop_s += r->timing->replay_seconds;
    loop_cpu_s += r->timing->replay_cpu_seconds;
    live_eps = r->timing->live_events_per_s;
    last = std::move(r->timing);
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["events"] = static_cast<double>(events);
  state.counters["diverged"] = static_cast<double>(diverged);
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events) * iters, benchmark::Counter::kIsRate);
  const double loop_eps = loop_s > 0 ? static_cast<double>(events) * iters / loop_s : 0;
  state.counters["loop_events/s"] = loop_eps;
  const double loop_cpu_eps = loop_cpu_s > 0 ? static_cast<double>(events) * iters / loop_cpu_s : 0;
  state.counters["loop_cpu_events/s"] = loop_cpu_eps;
  state.counters["speedup_cpu"] = live_eps > 0 ? loop_cpu_eps / live_eps : 0;
  state.counters["live_events/s"] = live_eps;
  state.counters["speedup"] = live_eps > 0 ? loop_eps / live_eps : 0;
  if (last) {
    for (const auto& row : last->by_handler) {
      state.counters[row.name + "_p50_ns"] = static_cast<double>(row.replay.p50_ns);
      state.counters[row.name + "_p99_ns"] = static_cast<double>(row.replay.p99_ns);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (const std::string& name : CorpusTraces()) {
    const std::string path = std::string(CORPUS_DIR) + "/" + name;
    benchmark::RegisterBenchmark(("BM_Replay/" + name.substr(0, name.size() - 6)).c_str(),
                                 [path](benchmark::State& s) { BM_Replay(s, path); })
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
