// Comparison of a replayed event with its recording, and of the replayed
// change list with the recorded one.
//
// Normalisation rules (what cannot match across machines and is therefore
// not compared). Everything else must be byte-for-byte identical.
//
//  1. Paths. Strings the handlers read (path arguments, /proc link targets)
//     had the recorded workdir and storage-area prefixes replaced by the
//     scratch ones (replay/path_map.h); bytes the handler writes into the
//     child and injected outside paths have them mapped back before the
//     comparison. Relative paths under the upper or lower root (injected
//     files) need no mapping.
//  2. stat / lstat / fstat / newfstatat buffers (struct stat) and statx
//     buffers (struct statx): device and inode numbers, all four
//     timestamps, st_blksize / st_blocks, statx attributes, its mount id
//     and everything after it, and the STATX_BTIME mask bit are ignored
//     (they depend on the filesystem and the clock). For directories the
//     size and link count are ignored too (filesystem-dependent). Owners
//     are ignored when the replay could not restore the snapshot's owners
//     (it is not root). For a regular file the child wrote through an fd
//     the supervisor injected (identified by its replay inode), size and
//     blocks are ignored: the child's own writes are not replayed.
//  3. getdents64 / getdents buffers: d_ino of each record is ignored; names,
//     types, record lengths and offsets (deterministic hashes) are compared.
//  4. Decisions: the kind, the return value, the errno, and for injected
//     files the root, the relative path, the open flags and the fd flags.
//     The fd number the supervisor held is not compared, and the child fd
//     number recorded for an injection is informational.
//  5. Tracee calls: kind and inputs must match (replay/recorded_tracee.h);
//     installed files compare like injected files.
//  6. Change list: kind and path of each entry. A recorded "M" that the
//     replay does not list is accepted for a file the child had open for
//     writing through an injected fd (its contents came from the child).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cow/overlay.h"
#include "formats/records.h"
#include "replay/path_map.h"
#include "replay/recorded_tracee.h"
#include "tracer/core/notification.h"

namespace sandtrace::replay {

// One way a replayed event or change list differs from the recording.
struct Difference {
  std::string what;  // "decision", "tracee call 3", "written bytes (call 4)", ...
  std::string expected;
  std::string got;
};

struct CompareContext {
  std::string syscall;          // the event's syscall name ("newfstatat")
  bool owners_restored = true;  // the rebuilt lower has the recorded owners
  // Replay (dev, ino) of upper files injected writable so far.
  const std::set<std::pair<uint64_t, uint64_t>>* written_inodes = nullptr;
};

// Normalises a buffer written into the child per rules 2 and 3, in place,
// given both sides (the other side's file type and identity matter).
// Exposed for tests.
void NormaliseWrite(const CompareContext& ctx, std::string& expected, std::string& got);

std::optional<Difference> CompareWrite(const CompareContext& ctx, const trace::TraceeCall& expected,
                                       const RecordedTracee::Write& got);
std::optional<Difference> CompareInstall(const trace::TraceeCall& expected,
                                         const RecordedTracee::Install& got);
// `written_length_delta`: when the handler returned the length of the one
// buffer it wrote (getcwd, readlink) and mapping the scratch paths in it
// back changed that length, the change, added to a returned value.
std::optional<Difference> CompareDecision(const trace::DecisionRecord& expected,
                                          const Decision& got, const PathMap& map,
                                          int64_t written_length_delta = 0);

// "continue", "return 3", "errno ENOENT", "inject upper \"a/b\" flags 0x80241 fd_flags 0x80000"
std::string DescribeDecision(const trace::DecisionRecord& d);
trace::DecisionRecord ToRecord(const Decision& d, const PathMap& map);

// Rule 6; both lists sorted by path. `written` holds view paths of files
// the child had open for writing through injected fds.
std::vector<Difference> CompareChanges(const std::vector<trace::Change>& expected,
                                       const cow::ChangeList& got,
                                       const std::set<std::string>& written);

}  // namespace sandtrace::replay
