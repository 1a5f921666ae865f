// The scratch directories of one replay, and the rebuilt lower layer.
//
// Layout (root = <base>/rp-XXXXXX, mkdtemp; base = ScratchOptions::base,
// $TMPDIR or /tmp):
//   <root>/l___...   the lower layer rebuilt from the trace's snapshot
//   <root>/s___...   the storage area of the replayed overlay (upper, work...)
//   <root>/b         snapshot blobs while the snapshot is read
// The lower and storage directories are padded ("l" then underscores, split
// into components of at most 255 bytes) so that their absolute paths have
// exactly the recorded workdir's and storage area's lengths whenever the
// root is short enough: path lengths the child saw (getcwd and readlink
// results, symlink sizes) then replay unchanged. When it is not, *_matched
// is false and the replay says so.
//
// Rebuilding (LowerBuilder): every snapshot entry becomes an object of its
// type with its mode, size and mtime; directories first, metadata last
// (deepest first, so directory times stick). Regular files get their
// recorded bytes when the snapshot has them (SnapshotMode::kFull), else
// zero bytes of the recorded size (sparse). Symlink targets into the
// recorded workdir are mapped to the scratch lower. Owners are restored
// when the process may chown (root); otherwise owners_restored is false and
// comparisons ignore owners. Devices are never created (an empty regular
// file stands in, with a warning); FIFOs and sockets are. Entry paths are
// checked (relative, no "." / ".." / empty components) and every object is
// created with *at() calls beneath an O_PATH fd of the lower, resolving
// with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: a hostile snapshot cannot
// make replay write outside the scratch directory.
//
// Ownership: Scratch owns its directories and removes them (making
// read-only directories writable first) unless keep is set.
// Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "formats/records.h"
#include "replay/path_map.h"
#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace::replay {

struct ScratchOptions {
  std::string base;   // "" = $TMPDIR, else /tmp
  bool keep = false;  // leave the directories (their path is printed)
};

class Scratch {
 public:
  // `lower_len` / `storage_len`: the recorded paths' lengths (0 = any).
  static Result<std::unique_ptr<Scratch>> Create(const ScratchOptions& options, size_t lower_len,
                                                 size_t storage_len);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::string& root() const { return root_; }
  const std::string& lower() const { return lower_; }
  // Exists and is empty until the overlay is created in it.
  const std::string& storage() const { return storage_; }
  const std::string& blobs() const { return blobs_; }
  bool lower_matched() const { return lower_matched_; }
  bool storage_matched() const { return storage_matched_; }

 private:
  Scratch() = default;
  std::string root_, lower_, storage_, blobs_;
  bool lower_matched_ = false;
  bool storage_matched_ = false;
  bool keep_ = false;
};

// `root` + "/" + a padded name starting with `tag` such that the result is
// exactly `length` bytes long, or root + "/" + tag (matched = false) when
// `length` is too short. Exposed for tests.
std::string PaddedPath(const std::string& root, char tag, size_t length, bool* matched);

// Removes `path` and everything beneath it without following symlinks,
// making directories writable as needed.
Status RemoveScratchTree(const std::string& path);

struct LowerStats {
  uint64_t entries = 0;
  uint64_t with_content = 0;  // regular files with their recorded bytes
  uint64_t placeholders = 0;  // regular files of zeros of the recorded size
  uint64_t skipped = 0;       // entries with a bad path or that could not be made
  bool owners_restored = true;
  std::vector<std::string> warnings;  // one line each, at most a few
};

class LowerBuilder {
 public:
  // `map` maps absolute symlink targets into the scratch lower;
  // `restore_owners`: try to chown (root only).
  LowerBuilder(const Scratch& scratch, const PathMap& map, bool restore_owners);
  ~LowerBuilder();

  // Keeps the chunk's entries and stores its blob bytes under scratch.blobs().
  Status Add(const trace::SnapshotChunk& chunk);
  // Creates the lower. Errors are for the scratch directory itself (the
  // entries' own problems are counted and warned about).
  Result<LowerStats> Finish();

 private:
  Status CreateEntry(int lower_fd, const trace::SnapshotEntry& e);
  void ApplyMetadata(int lower_fd, const trace::SnapshotEntry& e);
  void Warn(std::string line);

  const Scratch& scratch_;
  const PathMap& map_;
  bool restore_owners_;
  std::map<std::string, trace::SnapshotEntry> entries_;  // by path: sorted, parents first
  UniqueFd blob_dir_;
  LowerStats stats_;
  uint64_t warned_ = 0;
};

}  // namespace sandtrace::replay
