// Overlay engine benchmarks, each beside the plain-tool baseline it is
// compared with (bench/cow/compare.sh prints the ratios):
//   CopyUp/<MiB>       vs Cp/<MiB>           copy-up of one large file vs `cp`
//   MergedListing      vs DirectListing      a 10,000-entry directory
//   Commit10k[/fsync]  vs CpA10k             10,000 changed files vs `cp -a`
// Scratch directories (workdirs, baselines) live under $COW_BENCH_DIR
// (default /tmp). Copy-up uses a storage area on that same filesystem, as
// `cp` does; the commit benchmark keeps its storage area under
// $COW_BENCH_STORAGE (default /dev/shm: like $XDG_RUNTIME_DIR, a tmpfs), and
// its `cp -a` baseline copies the same files from there to a new directory.
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "cow/overlay.h"
#include "cow/storage.h"

namespace sandtrace::cow {
namespace {

std::string ScratchDir(const char* tag, const char* env = "COW_BENCH_DIR",
                       const char* fallback = "/tmp") {
  const char* base = ::getenv(env);
  std::string tmpl = std::string(base ? base : fallback) + "/cowbench-" + tag + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) std::abort();
  return tmpl;
}

std::string StorageDir() {
  return ScratchDir("store", "COW_BENCH_STORAGE",
                    ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
}

void WriteFile(const std::string& path, size_t size, char fill) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  std::string chunk(1 << 20, fill);
  size_t done = 0;
  while (done < size) {
    size_t n = std::min(chunk.size(), size - done);
    if (::write(fd, chunk.data(), n) != static_cast<ssize_t>(n)) std::abort();
    done += n;
  }
  ::close(fd);
}

void Run(const std::string& cmd) {
  if (::system(cmd.c_str()) != 0) std::abort();
}

// ---- copy-up of one large file ------------------------------------------------------

void BM_CopyUp(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0)) << 20;
  std::string lower = ScratchDir("lower");
  WriteFile(lower + "/big", size, 'x');
  for (auto _ : state) {
    state.PauseTiming();
    std::string storage = ScratchDir("store");
    auto ov = Overlay::Create({lower, storage}, {});
    if (!ov) std::abort();
    state.ResumeTiming();
    auto f = (*ov)->Open(Base::Root(), "big", O_WRONLY, 0);
    if (!f) state.SkipWithError(f.error().Message().c_str());
    state.PauseTiming();
    f = Err(0);
    (void)(*ov)->Abort();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  (void)RemoveTree(lower);
}
BENCHMARK(BM_CopyUp)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Cp(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0)) << 20;
  std::string dir = ScratchDir("cp");
  WriteFile(dir + "/big", size, 'x');
  for (auto _ : state) {
    Run("cp " + dir + "/big " + dir + "/copy");
    state.PauseTiming();
    ::unlink((dir + "/copy").c_str());
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  (void)RemoveTree(dir);
}
BENCHMARK(BM_Cp)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- listing a 10,000-entry directory ------------------------------------------------------

constexpr int kEntries = 10000;

std::string MakeBigDir() {
  std::string lower = ScratchDir("list");
  ::mkdir((lower + "/d").c_str(), 0755);
  for (int i = 0; i < kEntries; ++i) {
    int fd =
        ::open((lower + "/d/f" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ::close(fd);
  }
  return lower;
}

void BM_MergedListing(benchmark::State& state) {
  std::string lower = MakeBigDir();
  std::string storage = ScratchDir("store");
  auto ov = Overlay::Create({lower, storage}, {});
  if (!ov) std::abort();
  // A merged directory: some names deleted, some added, so both layers and
  // the whiteouts are read.
  for (int i = 0; i < 100; ++i) {
    (void)(*ov)->Unlink(Base::Root(), "d/f" + std::to_string(i));
    (void)(*ov)->Open(Base::Root(), "d/new" + std::to_string(i), O_CREAT | O_WRONLY, 0644);
  }
  size_t n = 0;
  for (auto _ : state) {
    auto l = (*ov)->ListDir(Base::Root(), "d");
    if (!l) state.SkipWithError("list");
    n = l->size();
    benchmark::DoNotOptimize(n);
  }
  // A label, not a counter: the CSV reporter wants the same counters in every row.
  state.SetLabel(std::to_string(n) + " entries");
  (void)(*ov)->Abort();
  (void)RemoveTree(lower);
}
BENCHMARK(BM_MergedListing)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_DirectListing(benchmark::State& state) {
  std::string lower = MakeBigDir();
  size_t n = 0;
  for (auto _ : state) {
    DIR* d = ::opendir((lower + "/d").c_str());
    n = 0;
    while (auto* e = ::readdir(d)) {
      benchmark::DoNotOptimize(e->d_type);
      ++n;
    }
    ::closedir(d);
  }
  // A label, not a counter: the CSV reporter wants the same counters in every row.
  state.SetLabel(std::to_string(n) + " entries");
  (void)RemoveTree(lower);
}
BENCHMARK(BM_DirectListing)->Unit(benchmark::kMicrosecond)->UseRealTime();

// ---- commit of 10,000 changed files ----------------------------------------------------------

constexpr size_t kFileSize = 1024;

void BM_Commit10k(benchmark::State& state) {
  const bool sync = state.range(0) != 0;
  std::string content(kFileSize, 'n');
  for (auto _ : state) {
    state.PauseTiming();
    std::string lower = MakeBigDir();
    std::string storage = StorageDir();
    auto ov = Overlay::Create({lower, storage}, {});
    if (!ov) std::abort();
    for (int i = 0; i < kEntries; ++i) {
      auto f = (*ov)->Open(Base::Root(), "d/f" + std::to_string(i), O_WRONLY | O_TRUNC, 0);
      if (!f || ::write(f->fd.get(), content.data(), content.size()) != kFileSize) std::abort();
    }
    CommitOptions o;
    o.fsync = sync;
    state.ResumeTiming();
    auto r = (*ov)->Commit(o);
    if (!r) state.SkipWithError(r.error().Message().c_str());
    state.PauseTiming();
    (void)RemoveTree(lower);
    state.ResumeTiming();
  }
  state.SetLabel(std::to_string(kEntries) + " files");
}
BENCHMARK(BM_Commit10k)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(2);

void BM_CpA10k(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    std::string src = StorageDir();
    ::mkdir((src + "/d").c_str(), 0755);
    for (int i = 0; i < kEntries; ++i) {
      WriteFile(src + "/d/f" + std::to_string(i), kFileSize, 'n');
    }
    std::string dst = ScratchDir("cpa-dst");
    state.ResumeTiming();
    Run("cp -a " + src + "/d " + dst + "/d");
    state.PauseTiming();
    (void)RemoveTree(src);
    (void)RemoveTree(dst);
    state.ResumeTiming();
  }
  state.SetLabel(std::to_string(kEntries) + " files");
}
BENCHMARK(BM_CpA10k)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace
}  // namespace sandtrace::cow

BENCHMARK_MAIN();
