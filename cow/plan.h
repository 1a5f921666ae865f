// The commit plan derived from the diff of the view against the lower, and
// the journal that makes applying it crash-safe. Internal to cow/.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "cow/overlay.h"
#include "tracer/base/result.h"

namespace sandtrace::cow {

// One object to create in the staging directory and then rename into place.
struct PlanPlace {
  std::string path;  // workdir-relative
  FileType type = FileType::kNone;
  Layer src_layer = Layer::kNone;  // where its content comes from
  std::string src_path;            // relative to that layer's root
  struct stat st {};               // the view's metadata (virtual owner applied)
  int link_to = -1;                // index of the place this one is a hard link of
};

// Metadata applied to a directory once everything below it is in place.
struct PlanMeta {
  std::string path;
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  struct timespec atime {};
  struct timespec mtime {};
};

struct CommitPlan {
  std::vector<std::string> deletes;  // top-most deleted paths, sorted
  std::vector<PlanPlace> places;     // sorted by path: parents first
  std::vector<PlanMeta> metas;       // deepest first
};

// What recovery needs: the plan without the staging sources.
struct Journal {
  std::string workdir;  // canonical absolute
  std::string staging;  // name of the staging directory in the workdir
  std::vector<std::string> deletes;
  std::vector<std::string> places;  // index = name under staging new/
  std::vector<PlanMeta> metas;
};

std::string SerializeJournal(const Journal& j);
Result<Journal> ParseJournal(const std::string& text);

// Runs the apply phase (deletions, placements, metadata, fsync), every step
// idempotent, calling step() before each. Used by Commit and by recovery.
Status ApplyJournal(const Journal& j, int workdir_fd, const std::function<void()>& step, bool sync,
                    std::vector<std::string>* warnings);

// Storage-area file names.
inline constexpr const char* kJournalFile = "journal";
inline constexpr const char* kCommittedMark = "committed";
inline constexpr const char* kDoneMark = "done";
// In the staging directory: the storage area's absolute path.
inline constexpr const char* kOriginFile = "origin";

}  // namespace sandtrace::cow
