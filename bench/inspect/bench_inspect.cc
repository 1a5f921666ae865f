// Per-event costs of `trace dump`, `dump --json`, `stats`, `export` and
// `diff` on the synthetic build-like stream (formats/synthetic_trace.h),
// each over an in-memory trace of 20,000 events so reading is included.
// Debian's libbenchmark is a debug build: compare the figures as ratios.
#include <benchmark/benchmark.h>

#include <sstream>
#include <string>

#include "formats/synthetic_trace.h"
#include "formats/trace_reader.h"
#include "formats/trace_writer.h"
#include "replay/inspect/chrome_export.h"
#include "replay/inspect/diff.h"
#include "replay/inspect/dump.h"
#include "replay/inspect/stats.h"

namespace {

using namespace sandtrace;

constexpr uint64_t kEvents = 20'000;

// The trace's bytes, written once through a pipe-free memfd-less path: a
// temporary file read back into memory.
const std::string& TraceBytes() {
  static const std::string bytes = [] {
    char path[] = "/tmp/bench_inspect_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) std::abort();
    close(fd);
    trace::WriterOptions options;
    options.fsync_on_close = false;
    auto writer = trace::TraceWriter::Open(path, options);
    if (!writer.ok() || !trace::WriteSyntheticTrace(**writer, kEvents, 1).ok() ||
        !(*writer)->Close().ok()) {
      std::abort();
    }
    std::string data;
    FILE* f = std::fopen(path, "rb");
    char buf[65536];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) data.append(buf, n);
    std::fclose(f);
    unlink(path);
    return data;
  }();
  return bytes;
}

std::unique_ptr<trace::TraceReader> Reader() {
  const std::string& b = TraceBytes();
  auto r = trace::TraceReader::FromBuffer(
      std::span(reinterpret_cast<const std::byte*>(b.data()), b.size()), "bench");
  if (!r.ok()) std::abort();
  return std::move(*r);
}

void BM_ReadOnly(benchmark::State& state) {
  for (auto _ : state) {
    auto reader = Reader();
    trace::Record record;
    while (*reader->Next(record)) benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_ReadOnly)->Unit(benchmark::kMillisecond);

void BM_DumpText(benchmark::State& state) {
  for (auto _ : state) {
    auto reader = Reader();
    std::ostringstream out;
    benchmark::DoNotOptimize(inspect::Dump(*reader, {}, out));
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_DumpText)->Unit(benchmark::kMillisecond);

void BM_DumpJson(benchmark::State& state) {
  inspect::DumpOptions options;
  options.json = true;
  for (auto _ : state) {
    auto reader = Reader();
    std::ostringstream out;
    benchmark::DoNotOptimize(inspect::Dump(*reader, options, out));
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_DumpJson)->Unit(benchmark::kMillisecond);

void BM_Stats(benchmark::State& state) {
  for (auto _ : state) {
    auto reader = Reader();
    benchmark::DoNotOptimize(inspect::CollectStats(*reader, {}, inspect::StatsSort::kTime));
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_Stats)->Unit(benchmark::kMillisecond);

void BM_ExportChrome(benchmark::State& state) {
  for (auto _ : state) {
    auto reader = Reader();
    std::ostringstream out;
    benchmark::DoNotOptimize(inspect::ExportChrome(*reader, out));
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_ExportChrome)->Unit(benchmark::kMillisecond);

void BM_DiffSelf(benchmark::State& state) {
  for (auto _ : state) {
    auto a = Reader();
    auto b = Reader();
    benchmark::DoNotOptimize(inspect::DiffTraces(*a, *b, {}));
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_DiffSelf)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
