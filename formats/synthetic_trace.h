// A deterministic, realistic-looking stream of trace records, for the
// formats tests, benchmarks, fuzz seeds and the demo (not for production
// traces): increasing notification ids, a few tids, paths under one tree,
// mixed decisions, and Tracee calls made of short path reads, ID_VALID
// checks and the odd /proc link read.
//
// Thread-safety: one stream per thread.
#pragma once

#include <cstdint>

#include "formats/records.h"
#include "formats/trace_writer.h"

namespace sandtrace::trace {

// kBuild imitates a build's syscall stream: per file a short sequence
// (an include probe that misses; stat, open and fstat of a source; an
// object opened for writing and fstat'ed; an unlink; a mkdir), the process
// changing now and then, the ip following from the syscall (one libc
// wrapper each), a few reused path buffers. kUniform draws syscall, tid,
// path and decision independently per event: a pessimistic stream with
// far more entropy than any recorded trace. Both draw timings at random at
// ns resolution.
enum class StreamProfile { kBuild, kUniform };

class SyntheticStream {
 public:
  explicit SyntheticStream(uint64_t seed, StreamProfile profile = StreamProfile::kBuild);

  HeaderRecord Header() const;
  // Refills `out` with the next event, reusing its buffers (no allocation
  // once `out` has been through a few events).
  void NextEvent(EventRecord& out);
  ProcessRecord Spawn() const;
  ProcessRecord Exit() const;
  FooterRecord Footer() const;

  uint64_t next_seq() const { return seq_; }

 private:
  uint64_t Rand();
  void Timestamps(EventRecord& e, uint64_t r);
  void NextUniformEvent(EventRecord& e);
  StreamProfile profile_;
  uint64_t rng_;
  uint64_t path_addr_ = 0;
  uint64_t path_pick_ = 0;
  uint64_t seq_ = 0;
  uint8_t visit_ = 0;
  uint8_t step_ = 4;  // start with a new visit
  uint32_t tid_ = 41000;
  uint64_t fd_ = 3;
  uint64_t id_;
  uint64_t now_ns_ = 1'000'000'000'000;
};

// Writes a complete trace: header, spawn, `events` events, exit, footer.
Status WriteSyntheticTrace(TraceWriter& writer, uint64_t events, uint64_t seed,
                           StreamProfile profile = StreamProfile::kBuild);

}  // namespace sandtrace::trace
