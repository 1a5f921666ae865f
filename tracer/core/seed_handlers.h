// The "seed" handler set: deterministic randomness for `trace run --seed N`.
//
// - getrandom(buf, count, flags) is emulated: the supervisor writes bytes
//   from a deterministic stream into the child (through Tracee::WriteMemory)
//   and returns the count (at most kMaxGetrandomBytes per call; getrandom may
//   legitimately return short).
// - open/openat/openat2 of "/dev/urandom" or "/dev/random" for reading get a
//   sealed memfd holding kRandomFileBytes deterministic bytes instead
//   (injected with ADDFD; O_CLOEXEC copied from the child's flags). Reads past
//   that size see end of file. Other opens are left to later handlers /
//   CONTINUE. Paths are matched after joining relative paths to the dirfd or
//   cwd; a symlink to /dev/urandom is not recognised, nor is an fd opened
//   before the run.
//
// The bytes are a function of N and of the order of the calls only: all
// getrandom calls of a run consume one stream (stream 0) in notification
// order, and the k-th matching open (k = 1, 2, ...) gets stream k. The state
// is that call counter, kept in the handler set itself (no globals), so
// replay, which re-drives handlers in recorded order, reproduces the bytes.
// Not cryptographically strong, by design.
//
// Thread-safety: the registered handlers share mutable state; call them from
// one thread (the supervisor's loop or replay).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tracer/base/result.h"
#include "tracer/core/handler_registry.h"

namespace sandtrace {

inline constexpr size_t kMaxGetrandomBytes = 256 * 1024;
inline constexpr size_t kRandomFileBytes = 1024 * 1024;
inline constexpr std::string_view kSeedSetName = "seed";

// Registers the seed handlers for getrandom and, with `files`, for open,
// openat and openat2, in set "seed" of `registry`.
Status AddSeedHandlers(HandlerRegistry& registry, uint64_t seed, bool files = true);

// The deterministic byte stream (splitmix64 over seed and stream index);
// exposed for tests.
class SeedStream {
 public:
  SeedStream(uint64_t seed, uint64_t stream);
  void Fill(std::span<std::byte> out);

 private:
  uint64_t state_;
  uint64_t buffered_ = 0;
  int buffered_bytes_ = 0;
};

}  // namespace sandtrace
