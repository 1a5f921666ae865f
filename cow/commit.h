// Commit and recovery: how an overlay's changes reach the workdir.
//
// Protocol (Overlay::Commit):
//  1. Lock: flock(LOCK_EX | LOCK_NB) on the workdir directory itself, so two
//     commits to one workdir never interleave (no lock file is created).
//  2. Plan: the change list becomes top-most deletions, additions in sorted
//     path order (parents first) and metadata updates of merged directories.
//  3. Prepare: a staging directory <workdir>/.sandtrace-commit-<id> (same
//     filesystem, so placing an entry is one atomic rename) receives every
//     addition under new/<n>: upper files copied (copy_file_range or reflink),
//     lower files under a renamed directory hard-linked (copied if that is
//     refused), hard links recreated as links, empty directories, symlinks,
//     FIFOs. Contents are fsynced. The journal (<storage>/journal: the plan
//     and the staging name) is written and fsynced; the staging directory
//     holds a pointer back to the storage area.
//  4. The commit point: "committing" is appended to the journal and fsynced.
//     Before it, recovery rolls back (removes the staging directory: the
//     workdir is untouched); after it, recovery rolls forward.
//  5. Apply, every step idempotent: deletions first (each top-most deleted
//     path is renamed into staging old/<n>, so nothing is erased before the
//     end), then additions in sorted order (rename new/<n> over the path),
//     then directory metadata (mode, owner, times), then fsync of every
//     touched directory.
//  6. Done: "done" is appended; the staging directory and the storage area
//     are removed.
// Each numbered step calls CommitOptions::step_hook, so tests can "crash"
// anywhere and check that recovery ends fully committed or untouched.
//
// Thread-safety: plain functions; they take the workdir lock themselves.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cow/overlay.h"
#include "tracer/base/result.h"

namespace sandtrace::cow {

// Prefix of the staging directory a commit creates in the workdir.
inline constexpr std::string_view kStagingPrefix = ".sandtrace-commit-";

struct RecoveryReport {
  enum class Outcome : uint8_t { kRolledBack, kRolledForward };
  Outcome outcome = Outcome::kRolledBack;
  std::string workdir;
  std::string storage;
  std::string message;  // one line, for the user
};

// Recovers the interrupted commit journaled in `storage_dir`, if any
// (nullopt when there is no journal, or it records a finished commit).
Result<std::optional<RecoveryReport>> RecoverStorage(std::string_view storage_dir);

// Finds every interrupted commit of `workdir` (its staging directories) and
// recovers each through the journal the staging directory points to. An
// interrupted commit whose journal is gone is an error naming the staging
// directory (nothing is touched). Empty when there is nothing to recover.
Result<std::vector<RecoveryReport>> RecoverWorkdir(std::string_view workdir);

}  // namespace sandtrace::cow
