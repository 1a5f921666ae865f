// Per-notification cost of recording: the RecordingTracee log, the event
// record and the TraceWriter (encode, frame, zstd, write to a tmpfs file),
// against the same handler calls without a recorder. Counters: bytes of
// trace per event (compressed, on disk) and the calls logged per event.
//
// The events imitate what the COW handlers do for a read-only open or stat
// of a file in a build tree: read the path (ReadString + IdValid), CONTINUE;
// one in four also writes a 144-byte stat buffer into the child (an
// emulated stat) and returns 0.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "tracer/record/recorder.h"

namespace sandtrace::record {
namespace {

// Serves paths from a fixed set, like a build reading its headers.
class PathTracee final : public Tracee {
 public:
  PathTracee() {
    for (int d = 0; d < 16; ++d) {
      for (int f = 0; f < 16; ++f) {
        paths_.push_back("src/module" + std::to_string(d) + "/include/header_" + std::to_string(f) +
                         ".h");
      }
    }
  }
  void Select(uint64_t i) { current_ = &paths_[(i * 7919) % paths_.size()]; }
  Result<size_t> ReadMemory(uint64_t, std::span<std::byte> out) override {
    std::memset(out.data(), 0, out.size());
    return out.size();
  }
  Result<std::string> ReadString(uint64_t, size_t) override { return *current_; }
  Result<std::string> ReadProcLink(ProcLink, int) override { return std::string("/work"); }
  Result<mode_t> ReadUmask() override { return mode_t{022}; }
  bool IdValid() override { return true; }
  Result<size_t> WriteMemory(uint64_t, std::span<const std::byte> d) override { return d.size(); }

 private:
  std::vector<std::string> paths_;
  const std::string* current_ = nullptr;
};

Notification Note(uint64_t i) {
  Notification n;
  n.seq = i;
  n.id = 0x8000000000000000ULL + i * 3;
  n.tid = 4000 + static_cast<uint32_t>(i % 3);
  n.arch = NativeSyscalls().audit_arch();
  const bool stat = i % 4 == 3;
  n.nr = stat ? __NR_newfstatat : __NR_openat;
  n.ip = stat ? 0x7f12345a1b2c : 0x7f12345a0f10;
  n.args = {static_cast<uint64_t>(AT_FDCWD),
            0x55d0c0de0000 + (i % 5) * 64,
            stat ? 0x7ffc0000a000ULL : static_cast<uint64_t>(O_RDONLY | O_CLOEXEC),
            0,
            0,
            0};
  return n;
}

// One handler's worth of seam calls and its decision.
DispatchResult Handle(const Notification& n, Tracee& t) {
  DispatchResult d;
  auto p = t.ReadString(n.args[1], 4096);
  (void)t.IdValid();
  benchmark::DoNotOptimize(p);
  if (n.nr == __NR_newfstatat) {
    static const std::byte stat_buf[144] = {};
    (void)t.WriteMemory(n.args[2], stat_buf);
    d.decision = Decision::Return(0);
  }
  return d;
}

void BM_HandlerCallsWithoutRecorder(benchmark::State& state) {
  PathTracee live;
  uint64_t i = 0;
  for (auto _ : state) {
    Notification n = Note(i);
    live.Select(i);
    DispatchResult d = Handle(n, live);
    benchmark::DoNotOptimize(d);
    ++i;
  }
}
BENCHMARK(BM_HandlerCallsWithoutRecorder);

// state.range(0): 0 = encode, compress and write on the loop (`--writer
// inline`); 1 = all on the recorder's writer thread (`--writer thread`);
// 2 = encode on the loop, compress and write on the trace writer's
// compressor thread (`--writer split`, the default).
void BM_HandlerCallsRecorded(benchmark::State& state) {
  const std::string path = "/dev/shm/bench-record-" + std::to_string(getpid()) + ".capnp";
  trace::WriterOptions wo;
  wo.compress_thread = state.range(0) == 2;
  auto writer = trace::TraceWriter::Open(path, wo);
  if (!writer.ok()) {
    state.SkipWithError(writer.error().Message().c_str());
    return;
  }
  RecorderOptions ro;
  ro.process_monitor = false;
  ro.writer_thread = state.range(0) == 1;
  ro.writer_thread_after = 0;
  Recorder rec(**writer, ro);
  (void)rec.Begin(trace::HeaderRecord{});
  PathTracee live;
  uint64_t i = 0;
  uint64_t t = 1'000'000'000;
  for (auto _ : state) {
    Notification n = Note(i);
    live.Select(i);
    Tracee& tracee = rec.WrapTracee(n, live);
    DispatchResult d = Handle(n, tracee);
    t += 3000 + (i * 37) % 1000;
    NotificationTimes times{t, t + 40, t + 900 + (i * 13) % 300, t + 1500 + (i * 7) % 200};
    rec.OnNotification(n, d, Response{}, times);
    ++i;
  }
  (void)rec.Finish(0, 0, true);
  const auto ws = (*writer)->stats();
  state.counters["bytes_per_event"] =
      benchmark::Counter(static_cast<double>(ws.file_bytes) / static_cast<double>(i));
  state.counters["raw_bytes_per_event"] =
      benchmark::Counter(static_cast<double>(ws.totals.record_bytes) / static_cast<double>(i));
  unlink(path.c_str());
}
BENCHMARK(BM_HandlerCallsRecorded)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace sandtrace::record

BENCHMARK_MAIN();
