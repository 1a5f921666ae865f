// The workdir snapshot: enough of the lower layer for a hermetic replay.
//
// Why it is built at the end of the run: the lower layer (the workdir) does
// not change until commit, so what the handlers' decisions depended on can
// be read after the command exits, before commit, from the set of lower
// paths the overlay engine consulted (cow::OverlayObserver::OnLowerAccess):
// names looked up, directories listed in full, files read or copied up.
// The snapshot then scales with what the command touched, not with the
// size of the workdir.
//
// What an entry set covers:
//   - every looked-up path, with its type, mode, owner, size, mtime, rdev
//     and symlink target, and every ancestor directory of it (replay must
//     be able to create it);
//   - every entry of each fully listed directory (names and metadata);
//   - with SnapshotMode::kFull, the bytes of every regular file read or
//     copied up, deduplicated by SHA-256: an entry names its content by
//     hash, and the bytes appear once, as Blobs of at most `chunk_bytes`.
// Names absent from the lower stay absent in a replayed lower, so negative
// lookups need no entry. Not covered: extended attributes, hard-link
// identity between lower names, and contents of files the child read
// through fds it got from the kernel directly (CONTINUE).
//
// Confinement: every access goes through an O_PATH fd of the lower root and
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
// files are opened O_NOFOLLOW | O_NONBLOCK and checked to be regular, so no
// FIFO or device is ever read.
//
// Thread-safety: LowerAccessSet is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "formats/records.h"
#include "tracer/base/result.h"

namespace sandtrace::record {

// Bits of what the engine did with a lower path.
enum AccessBits : uint8_t {
  kAccessLookup = 1,  // its metadata (it exists; its type, mode, size...)
  kAccessList = 2,    // the full list of its entries (a directory)
  kAccessRead = 4,    // its contents (a regular file opened or copied up)
};

// The set of lower paths (relative to the lower root, "" = the root) with
// the union of their access bits. Adding a path already present does not
// allocate.
class LowerAccessSet {
 public:
  void Add(std::string_view layer_path, uint8_t bits);
  size_t size() const { return paths_.size(); }
  // The bits of `layer_path`, 0 if absent.
  uint8_t Get(std::string_view layer_path) const;
  void Clear() { paths_.clear(); }
  template <class F>
  void ForEach(F&& f) const {
    for (const auto& [path, bits] : paths_) f(path, bits);
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint8_t, Hash, std::equal_to<>> paths_;
};

struct SnapshotOptions {
  trace::SnapshotMode mode = trace::SnapshotMode::kMetadata;  // kMetadata or kFull
  // Lower-relative paths left out (with everything beneath them).
  std::vector<std::string> exclude;
  // Lower-relative paths recorded by name only, when consulted: an empty
  // regular file (mode and owner kept, size and mtime 0, no contents). The
  // trace itself, when written inside the workdir: the child sees its name
  // in listings, so a replayed listing must have it too, but its bytes are
  // not the workdir's.
  std::vector<std::string> placeholders;
  // Target size of one chunk (entries + blob bytes), and the largest blob.
  size_t chunk_bytes = 1 << 20;
};

struct SnapshotStats {
  uint64_t entries = 0;
  uint64_t chunks = 0;
  uint64_t blobs = 0;
  uint64_t files_with_content = 0;
  uint64_t content_bytes = 0;  // of all files with content
  uint64_t stored_bytes = 0;   // after deduplication
};

using SnapshotSink = std::function<Status(const trace::SnapshotChunk&)>;

// Reads the lower layer at `lower_root` (absolute) for the paths in
// `accessed` and hands the snapshot to `sink` chunk by chunk, entries
// sorted by path (parents first). A path that has vanished is skipped; an
// error from `sink` or from the lower root itself stops and is returned.
Result<SnapshotStats> BuildSnapshot(const std::string& lower_root, const LowerAccessSet& accessed,
                                    const SnapshotOptions& options, const SnapshotSink& sink);

}  // namespace sandtrace::record
