// What happens to the sandbox's changes when the command ends.
//
//   kAuto     commit when the command exited 0, discard otherwise
//   kCommit   commit whatever the status
//   kDiscard  discard (the workdir stays byte-identical)
//   kKeep     leave the storage area (upper layer + state) for inspection
//   kDryRun   print the change list, then discard
//
// Before anything is decided the upper files the child wrote through its
// fds are re-measured (Overlay::RemeasureAll): a run over its --quota is
// never committed (kAuto and kCommit discard, with a message; kKeep keeps).
//
// Messages go to `out` (stderr for `trace run`), one line each:
//   the change list of --dry-run ("A  path", "M  path", "D  path", sorted by
//   path, or "trace: no filesystem changes"), and a line per problem.
//
// Thread-safety: call once, after the run, on the thread that owns the session.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "cow/handlers/cow_session.h"
#include "cow/overlay.h"
#include "tracer/base/result.h"

namespace sandtrace::cow {

enum class Disposition : uint8_t { kAuto, kCommit, kDiscard, kKeep, kDryRun };

const char* DispositionName(Disposition d);

struct FinishReport {
  bool committed = false;
  bool kept = false;
  size_t changes = 0;
  bool over_quota = false;
};

// Ends the session's overlay (exactly once). An error means the changes the
// user asked for did not reach the workdir (commit failed, or the quota was
// exceeded); its context is the one-line message, already written to `out`.
Result<FinishReport> FinishSession(CowSession& session, Disposition disposition,
                                   bool command_succeeded, std::FILE* out);

// "A  path\n" per change, sorted by path as the engine lists them.
std::string FormatChangeList(const ChangeList& changes);

}  // namespace sandtrace::cow
