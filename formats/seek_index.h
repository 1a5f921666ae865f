// The seek index at the end of a trace file: one entry per data frame (or
// per run of consecutive frames), stored in a zstd skippable frame. The
// byte layout is documented at the end of formats/trace.capnp; this is its
// only encoder and decoder.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tracer/base/result.h"

namespace sandtrace::trace {

struct FrameIndexEntry {
  uint64_t offset = 0;         // file offset of the (first) frame
  uint64_t size = 0;           // compressed bytes of the frame(s)
  uint64_t first_seq = 0;      // valid when has_events
  uint64_t last_seq = 0;       // valid when has_events
  uint64_t first_time_ns = 0;  // 0 when no record in it carries a time
  uint32_t records = 0;
  uint16_t frames = 1;  // consecutive frames covered
  bool has_events = false;
  bool operator==(const FrameIndexEntry&) const = default;
};

inline constexpr uint32_t kSkippableIndexMagic = 0x184D2A5E;
inline constexpr uint64_t kIndexMagic = 0x3158444954444e53ULL;  // "SNDTIDX1"
inline constexpr uint32_t kIndexVersion = 1;
inline constexpr size_t kIndexEntryBytes = 48;
inline constexpr size_t kIndexTrailerBytes = 24;

// Appends `b` (the run that directly follows `a` in the file) to `a`.
void MergeIndexEntries(FrameIndexEntry& a, const FrameIndexEntry& b);

// The whole skippable frame (8-byte zstd skippable header + payload).
std::string EncodeIndexFrame(const std::vector<FrameIndexEntry>& entries);

// The most entries a reader accepts (48 MiB); writers coarsen well before.
inline constexpr uint32_t kMaxIndexEntries = 1u << 20;

// Reads the index from the last bytes of a file of `file_size` bytes.
// `read_at(offset, length)` returns those bytes (fewer only at EOF).
// Returns ENOENT when the file does not end with an index (an unfinished
// trace) and EBADMSG when one is there but damaged or inconsistent with the
// file; the context says which.
using ReadAtFn = std::function<std::string(uint64_t offset, size_t length)>;
Result<std::vector<FrameIndexEntry>> ReadIndex(uint64_t file_size, const ReadAtFn& read_at);

// Decodes a skippable-frame payload that starts at file offset `data_end`
// (so every entry must lie before it). Exposed for tests.
Result<std::vector<FrameIndexEntry>> DecodeIndexPayload(std::span<const std::byte> payload,
                                                        uint64_t data_end);

}  // namespace sandtrace::trace
