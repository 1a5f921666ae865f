#include "cow/handlers/disposition.h"

#include <cinttypes>

namespace sandtrace::cow {

const char* DispositionName(Disposition d) {
  switch (d) {
    case Disposition::kAuto:
      return "auto";
    case Disposition::kCommit:
      return "commit";
    case Disposition::kDiscard:
      return "discard";
    case Disposition::kKeep:
      return "keep";
    case Disposition::kDryRun:
      return "dry-run";
  }
  return "?";
}

std::string FormatChangeList(const ChangeList& changes) {
  std::string out;
  for (const Change& c : changes) {
    out += ChangeKindLetter(c.kind);
    out += "  ";
    out += c.path;
    out += '\n';
  }
  return out;
}

Result<FinishReport> FinishSession(CowSession& session, Disposition d, bool command_succeeded,
                                   std::FILE* out) {
  Overlay& o = session.overlay();
  FinishReport report;
  auto fail = [&](Error e) -> Result<FinishReport> {
    std::fprintf(out, "trace: %s\n", e.context.c_str());
    return e;
  };

  // What the child wrote through its fds counts too.
  Status measured = o.RemeasureAll();
  if (!measured.ok() && measured.code() == ENOSPC) report.over_quota = true;

  if (d == Disposition::kKeep) {
    if (Status s = o.Keep(); !s.ok())
      return fail(Err(s.code(), "keeping the storage area: " + s.error().Message()));
    report.kept = true;
    std::fprintf(out, "trace: changes kept in %s (upper layer: %s)\n", session.storage().c_str(),
                 o.upper_root().c_str());
    return report;
  }

  if (d == Disposition::kDryRun) {
    auto changes = o.Changes();
    if (!changes.ok()) {
      (void)o.Abort();
      return fail(Err(changes.code(), "listing the changes: " + changes.error().Message()));
    }
    report.changes = changes->size();
    if (changes->empty()) {
      std::fputs("trace: no filesystem changes\n", out);
    } else {
      std::fputs(FormatChangeList(*changes).c_str(), out);
    }
    if (report.over_quota) {
      std::fprintf(out, "trace: the changes exceed the quota (%" PRIu64 " bytes used)\n",
                   o.used_bytes());
    }
    if (Status s = o.Abort(); !s.ok())
      return fail(Err(s.code(), "discarding: " + s.error().Message()));
    return report;
  }

  const bool commit = d == Disposition::kCommit || (d == Disposition::kAuto && command_succeeded);
  if (!commit) {
    if (Status s = o.Abort(); !s.ok())
      return fail(Err(s.code(), "discarding: " + s.error().Message()));
    return report;
  }
  if (report.over_quota) {
    uint64_t used = o.used_bytes();
    (void)o.Abort();
    return fail(Err(ENOSPC, "changes discarded: the upper layer holds " + std::to_string(used) +
                                " bytes, over the --quota"));
  }
  // Nothing to apply: do not touch the workdir at all (a commit makes and
  // removes its staging directory there).
  auto changes = o.Changes();
  if (changes.ok() && changes->empty()) {
    if (Status s = o.Abort(); !s.ok())
      return fail(Err(s.code(), "discarding: " + s.error().Message()));
    return report;
  }
  auto done = o.Commit();
  if (!done.ok()) {
    return fail(Err(done.code(), "commit failed (" + done.error().Message() +
                                     "); the changes are kept in " + session.storage()));
  }
  for (const std::string& w : done->warnings) std::fprintf(out, "trace: commit: %s\n", w.c_str());
  report.committed = true;
  report.changes = done->added + done->modified + done->deleted;
  return report;
}

}  // namespace sandtrace::cow
