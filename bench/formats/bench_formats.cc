// Trace format benchmarks (targets: <= 1 us and <= 25 B per record written,
// >= 2M records/s read). Debian's libbenchmark is a debug build: compare
// figures as ratios. Streams come from formats/synthetic_trace.h:
//   profile 0 = kBuild (ip follows the syscall, buffers and paths reused),
//   profile 1 = kUniform (those drawn independently: higher entropy).
// Counters: B/record = bytes in the file per record, including the header,
// index and zstd framing.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "formats/synthetic_trace.h"
#include "formats/trace_reader.h"
#include "formats/trace_writer.h"

namespace sandtrace::trace {
namespace {

// An unnamed file in /tmp (page cache, like a real trace), gone on close.
UniqueFd TempFile() {
  UniqueFd fd(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd) fd.reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  return fd;
}

StreamProfile Profile(const benchmark::State& state) {
  return state.range(0) == 0 ? StreamProfile::kBuild : StreamProfile::kUniform;
}

// Steady-state cost of TraceWriter::Write(EventRecord), frame compression
// and write(2) included.
void BM_WriteEvents(benchmark::State& state) {
  auto writer = TraceWriter::Adopt(TempFile(), "bench");
  if (!writer.ok()) {
    state.SkipWithError(writer.error().Message().c_str());
    return;
  }
  SyntheticStream stream(1, Profile(state));
  (void)(*writer)->Write(stream.Header());
  EventRecord event;
  for (auto _ : state) {
    stream.NextEvent(event);
    if (!(*writer)->Write(event).ok()) state.SkipWithError("write failed");
  }
  (void)(*writer)->Flush();
  WriterStats stats = (*writer)->stats();
  state.SetItemsProcessed(state.iterations());
  state.counters["B/record"] =
      static_cast<double>(stats.file_bytes) / static_cast<double>(stats.totals.records);
  state.counters["capnp B/record"] =
      static_cast<double>(stats.totals.record_bytes) / static_cast<double>(stats.totals.records);
  (void)(*writer)->Close();
}
BENCHMARK(BM_WriteEvents)->Arg(0)->Arg(1)->ArgName("profile");

// A whole 200k-event trace written to a file and closed (index + fsync).
void BM_WriteWholeTrace(benchmark::State& state) {
  constexpr uint64_t kEvents = 200'000;
  uint64_t file_bytes = 0;
  for (auto _ : state) {
    auto writer = TraceWriter::Adopt(TempFile(), "bench");
    if (!writer.ok() || !WriteSyntheticTrace(**writer, kEvents, 2, Profile(state)).ok()) {
      state.SkipWithError("write failed");
      break;
    }
    file_bytes = (*writer)->stats().file_bytes;
    (void)(*writer)->Close();
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.counters["B/record"] = static_cast<double>(file_bytes) / (kEvents + 4);
}
BENCHMARK(BM_WriteWholeTrace)->Arg(0)->Arg(1)->ArgName("profile")->Unit(benchmark::kMillisecond);

std::string TraceBytes(uint64_t events) {
  UniqueFd fd(::memfd_create("bench", MFD_CLOEXEC));
  UniqueFd view(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
  auto writer = TraceWriter::Adopt(std::move(fd), "bench");
  if (!writer.ok() || !WriteSyntheticTrace(**writer, events, 3).ok() || !(*writer)->Close().ok()) {
    return {};
  }
  std::string bytes;
  char buf[1 << 16];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(view.get(), buf, sizeof buf, off);
    if (n <= 0) break;
    bytes.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return bytes;
}

// TraceReader::Next over a 1M-event trace in memory, decompression included,
// reusing one Record.
void BM_ReadEvents(benchmark::State& state) {
  static const std::string bytes = TraceBytes(1'000'000);
  uint64_t records = 0;
  for (auto _ : state) {
    auto reader = TraceReader::FromBuffer(std::as_bytes(std::span(bytes)), "bench");
    if (!reader.ok()) {
      state.SkipWithError(reader.error().Message().c_str());
      break;
    }
    Record record;
    for (;;) {
      auto more = (*reader)->Next(record);
      if (!more.ok() || !*more) break;
      ++records;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
}
BENCHMARK(BM_ReadEvents)->Unit(benchmark::kMillisecond);

// SeekToSeq through the index to a random seq, then one Next.
void BM_SeekToSeq(benchmark::State& state) {
  static const std::string bytes = TraceBytes(1'000'000);
  auto reader = TraceReader::FromBuffer(std::as_bytes(std::span(bytes)), "bench");
  if (!reader.ok()) {
    state.SkipWithError(reader.error().Message().c_str());
    return;
  }
  uint64_t x = 12345;
  Record record;
  for (auto _ : state) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    auto found = (*reader)->SeekToSeq((x >> 33) % 1'000'000);
    if (!found.ok() || !*found || !(*reader)->Next(record).ok()) state.SkipWithError("seek failed");
  }
}
BENCHMARK(BM_SeekToSeq)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sandtrace::trace

BENCHMARK_MAIN();
