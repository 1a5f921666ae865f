// PathMap: how absolute paths of the recording machine become paths of the
// replay's scratch directories, and back.
//
// Why: a trace records what the kernel told the handlers (the child's path
// strings, /proc/<tid>/cwd and fd link targets), and those name the
// recording machine's workdir and storage area. Replay rebuilds the workdir
// in a scratch directory, so before a handler sees such a string its
// recorded prefix is replaced by the scratch one (ToReplay), and before
// what the handler wrote into the child is compared with the trace, the
// scratch prefix is replaced by the recorded one (ToRecorded). The scratch
// paths are chosen with the recorded paths' lengths when possible
// (replay/scratch.h), so lengths the child sees (getcwd, readlink return
// values) do not change.
//
// Thread-safety: immutable after setup; const methods may run concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sandtrace::replay {

class PathMap {
 public:
  // Maps `recorded` (an absolute directory path, no trailing slash) to
  // `replay`. Longer prefixes win when several match.
  void Add(std::string recorded, std::string replay);

  // Rewrites `path` if it is a recorded prefix or lies beneath one (on a
  // component boundary); returns true if it did.
  bool ToReplay(std::string& path) const;
  // Replaces every occurrence of a replay prefix in `bytes` (a path, or a
  // buffer written into the child) by its recorded prefix; true if any.
  bool ToRecorded(std::string& bytes) const;
  // True if `path` is a recorded prefix or lies beneath one.
  bool IsRecorded(std::string_view path) const;
  // Whether the replay path `replay` stands for the recorded path
  // `recorded`: mapped back it is that path, or (a path reached lexically
  // through ".." from a mapped directory, which names the scratch's parent
  // in replay) it lies beneath the same ancestor of a mapped directory
  // (k levels up on both sides) by the same rest.
  bool Corresponds(std::string_view recorded, std::string_view replay) const;

  struct Entry {
    std::string recorded;
    std::string replay;
  };
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;  // longest recorded prefix first
};

// True if `path` equals `dir` or lies beneath it ("/a/b" is beneath "/a",
// "/ab" is not).
bool PathWithin(std::string_view path, std::string_view dir);

}  // namespace sandtrace::replay
