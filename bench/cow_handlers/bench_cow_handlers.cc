// What the COW handlers themselves cost per decision (no child, no
// notification round trip): dispatched through the registry with a fake
// Tracee on a real overlay whose lower is a 10 x 100 tree on tmpfs when
// /dev/shm exists. Compare against the bare notification round trip of
// bench/tracer (bench_tracer_notify): the handler time is what COW adds on
// top of the pass-through set. Debian's libbenchmark is a debug build:
// compare the figures as ratios.
#include <fcntl.h>
#include <ftw.h>
#include <linux/audit.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "cow/handlers/cow_session.h"
#include "cow/handlers/view_index.h"
#include "tracer/core/handler_registry.h"
#include "tracer/core/tracee.h"

namespace {

using namespace sandtrace;
using namespace sandtrace::cow;

constexpr uint64_t kPath = 0x10000;
constexpr uint64_t kBuf = 0x20000;

// The smallest Tracee the handlers need: one string, a buffer, a cwd.
class BenchChild : public Tracee {
 public:
  std::string path;
  std::string cwd;
  std::string buf = std::string(4096, '\0');
  Result<size_t> ReadMemory(uint64_t, std::span<std::byte> out) override { return out.size(); }
  Result<std::string> ReadString(uint64_t addr, size_t) override {
    if (addr != kPath) return Err(EFAULT, "bench");
    return path;
  }
  Result<std::string> ReadProcLink(ProcLink which, int) override { return cwd; }
  Result<mode_t> ReadUmask() override { return mode_t{022}; }
  bool IdValid() override { return true; }
  Result<size_t> WriteMemory(uint64_t addr, std::span<const std::byte> data) override {
    std::memcpy(buf.data(), data.data(), std::min(data.size(), buf.size()));
    return data.size();
  }
  Result<ProcIds> ReadProcIds() override { return ProcIds{100, 1, 1}; }
};

int RemoveEntry(const char* p, const struct stat*, int, FTW*) { return remove(p); }

struct Fixture {
  std::string root, lower, storage;
  std::unique_ptr<CowSession> session;
  HandlerRegistry registry;
  BenchChild child;

  explicit Fixture(bool changed) {
    std::string tmpl =
        (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/cowh-bench-XXXXXX");
    root = mkdtemp(tmpl.data());
    lower = root + "/w";
    storage = root + "/s";
    mkdir(lower.c_str(), 0755);
    mkdir(storage.c_str(), 0700);
    for (int d = 0; d < 10; ++d) {
      std::string dir = lower + "/d" + std::to_string(d);
      mkdir(dir.c_str(), 0755);
      for (int f = 0; f < 100; ++f) std::ofstream(dir + "/f" + std::to_string(f)) << "x";
    }
    CowSessionOptions o;
    o.workdir = lower;
    o.storage = storage;
    session = CowSession::Create(o).value();
    (void)session->Register(registry);
    child.cwd = session->workdir();
    if (changed) {
      // One change elsewhere: no longer pristine.
      child.path = "other";
      Call(SYS_mkdir, {kPath, 0755});
    }
  }
  ~Fixture() {
    (void)session->overlay().Abort();
    nftw(root.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  }
  DispatchResult Call(int nr, std::array<uint64_t, 6> args) {
    Notification n;
    n.arch = AUDIT_ARCH_X86_64;
    n.nr = nr;
    n.tid = 100;
    n.args = args;
    return registry.Dispatch(n, child);
  }
};

const std::array<uint64_t, 6> kStatArgs = {static_cast<uint64_t>(AT_FDCWD), kPath, kBuf, 0};

void BM_StatPristine(benchmark::State& state) {
  Fixture fx(false);
  fx.child.path = "d3/f42";
  for (auto _ : state) benchmark::DoNotOptimize(fx.Call(SYS_newfstatat, kStatArgs));
}
BENCHMARK(BM_StatPristine);

void BM_StatUntouchedCheapWalk(benchmark::State& state) {
  Fixture fx(true);
  fx.child.path = "d3/f42";
  for (auto _ : state) benchmark::DoNotOptimize(fx.Call(SYS_newfstatat, kStatArgs));
}
BENCHMARK(BM_StatUntouchedCheapWalk);

void BM_StatThroughTheEngine(benchmark::State& state) {
  Fixture fx(true);
  fx.child.path = "d3/../d3/f42";
  for (auto _ : state) benchmark::DoNotOptimize(fx.Call(SYS_newfstatat, kStatArgs));
}
BENCHMARK(BM_StatThroughTheEngine);

void BM_EngineResolveOnly(benchmark::State& state) {
  Fixture fx(true);
  for (auto _ : state) {
    benchmark::DoNotOptimize(fx.session->overlay().Resolve(Base::Root(), "d3/f42"));
  }
}
BENCHMARK(BM_EngineResolveOnly);

void BM_CreateAndInject(benchmark::State& state) {
  Fixture fx(true);
  int i = 0;
  for (auto _ : state) {
    fx.child.path = "d5/new" + std::to_string(i++);
    auto r = fx.Call(SYS_openat,
                     {static_cast<uint64_t>(AT_FDCWD), kPath, O_WRONLY | O_CREAT | O_EXCL, 0644});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CreateAndInject)->Iterations(2000);

// rm of a file made in this run (as cp -r + rm -rf does 10,000 times).
void BM_UnlinkMadeInTheRun(benchmark::State& state) {
  Fixture fx(true);
  constexpr int kFiles = 2000;
  for (int i = 0; i < kFiles; ++i) {
    fx.child.path = "d5/new" + std::to_string(i);
    (void)fx.Call(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), kPath, O_WRONLY | O_CREAT, 0644});
  }
  int i = 0;
  for (auto _ : state) {
    fx.child.path = "d5/new" + std::to_string(i++);
    auto r = fx.Call(SYS_unlinkat, {static_cast<uint64_t>(AT_FDCWD), kPath, 0});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_UnlinkMadeInTheRun)->Iterations(2000);

// What a mkdir costs the handlers' index once the run has made
// state.range(0) directories (each one opaque, with a listing): it must not
// grow with that number (Forget takes a range of a sorted index).
void BM_IndexMkdirAfterManyDirectories(benchmark::State& state) {
  ViewIndex ix;
  for (int64_t i = 0; i < state.range(0); ++i) {
    const std::string d = "out/d" + std::to_string(i);
    ix.MarkChanged(d);
    ix.SetEmptyListing(d);
    ix.MarkOpaque(d);
  }
  int64_t i = 0;
  for (auto _ : state) {
    const std::string d = "new/d" + std::to_string(i++);
    ix.MarkChanged(d);
    ix.Forget(d);
    ix.SetEmptyListing(d);
    ix.MarkOpaque(d);
  }
}
BENCHMARK(BM_IndexMkdirAfterManyDirectories)->Arg(1000)->Arg(20000);

void BM_Passthrough(benchmark::State& state) {
  HandlerRegistry r;
  (void)AddPassthroughSet(r);
  BenchChild child;
  Notification n;
  n.arch = AUDIT_ARCH_X86_64;
  n.nr = SYS_newfstatat;
  for (auto _ : state) benchmark::DoNotOptimize(r.Dispatch(n, child));
}
BENCHMARK(BM_Passthrough);

}  // namespace

BENCHMARK_MAIN();
