// Commit with a journal, and recovery of an interrupted commit (the protocol
// is described in cow/commit.h).
#include "cow/commit.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "cow/fs_util.h"
#include "cow/overlay_impl.h"
#include "cow/plan.h"
#include "cow/state_file.h"
#include "cow/storage.h"

namespace sandtrace::cow {

namespace {

bool ExistsAt(int dir_fd, const std::string& name) {
  struct stat st {};
  return ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

constexpr size_t kPerFileSyncMax = 32;

Status Fsync(int fd, const std::string& what) {
  if (::fsync(fd) != 0) return ErrnoError("fsync " + what);
  return OkStatus();
}

// The workdir lock: flock on the directory itself, so no file is created.
Result<UniqueFd> LockWorkdir(const std::string& workdir) {
  int fd = ::open(workdir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open workdir " + workdir);
  UniqueFd owned(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return Err(errno, "another commit or recovery holds the lock on " + workdir);
  }
  return owned;
}

std::vector<std::string> FindStaging(int workdir_fd) {
  std::vector<std::string> out;
  (void)fs::ReadDir(workdir_fd, [&](std::string name, uint8_t, ino_t) {
    if (std::string_view(name).starts_with(kStagingPrefix)) out.push_back(name);
  });
  std::sort(out.begin(), out.end());
  return out;
}

// Owner, then mode (chown clears set-id bits), then times, of staging/name.
void ApplyMetaAt(int dir_fd, const std::string& name, const struct stat& st, bool is_symlink,
                 const std::string& path, std::vector<std::string>* warnings) {
  struct stat cur {};
  if (::fstatat(dir_fd, name.c_str(), &cur, AT_SYMLINK_NOFOLLOW) == 0 &&
      (cur.st_uid != st.st_uid || cur.st_gid != st.st_gid)) {
    if (::fchownat(dir_fd, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0 &&
        warnings) {
      warnings->push_back("could not set the owner of " + path + " to " +
                          std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid));
    }
  }
  if (!is_symlink) {
    auto fd = fs::OpenAt(dir_fd, name, O_PATH);
    if (fd) (void)::chmod(fs::ProcFdPath(fd->get()).c_str(), st.st_mode & 07777);
  }
  (void)fs::SetTimesAt(dir_fd, name, st);
}

// Removes a finished commit's staging directory, its pointer to the storage
// area last, so a crash meanwhile still leaves a recognisable staging dir.
Status RemoveStaging(int workdir_fd, const std::string& staging) {
  auto sfd = fs::OpenAt(workdir_fd, staging, O_PATH | O_DIRECTORY);
  if (!sfd) return sfd.code() == ENOENT ? OkStatus() : Status(sfd.error());
  for (const char* sub : {"old", "new"}) {
    if (auto s = RemoveTreeAt(sfd->get(), sub); !s && s.code() != ENOENT) return s;
  }
  return RemoveTreeAt(workdir_fd, staging);
}

}  // namespace

// ---- journal text --------------------------------------------------------------------

std::string SerializeJournal(const Journal& j) {
  std::ostringstream o;
  o << "sandtrace-journal 1\n";
  o << "workdir " << EscapePath(j.workdir) << "\n";
  o << "staging " << EscapePath(j.staging) << "\n";
  for (const auto& d : j.deletes) o << "D " << EscapePath(d) << "\n";
  for (const auto& p : j.places) o << "P " << EscapePath(p) << "\n";
  for (const auto& m : j.metas) {
    o << "M " << EscapePath(m.path) << " " << m.mode << " " << m.uid << " " << m.gid << " "
      << m.atime.tv_sec << " " << m.atime.tv_nsec << " " << m.mtime.tv_sec << " " << m.mtime.tv_nsec
      << "\n";
  }
  o << "end\n";
  return o.str();
}

Result<Journal> ParseJournal(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  Journal j;
  bool header = false;
  bool end = false;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string tag;
    l >> tag;
    if (!header) {
      std::string version;
      l >> version;
      if (tag != "sandtrace-journal" || version != "1") return Err(EINVAL, "not a journal");
      header = true;
      continue;
    }
    if (tag == "end") {
      end = true;
      break;
    }
    std::string tok;
    l >> tok;
    auto path = UnescapePath(tok);
    if (!path) return Err(EINVAL, "journal: bad path");
    if (tag == "workdir") {
      j.workdir = *path;
    } else if (tag == "staging") {
      j.staging = *path;
    } else if (tag == "D") {
      j.deletes.push_back(*path);
    } else if (tag == "P") {
      j.places.push_back(*path);
    } else if (tag == "M") {
      PlanMeta m;
      m.path = *path;
      if (!(l >> m.mode >> m.uid >> m.gid >> m.atime.tv_sec >> m.atime.tv_nsec >> m.mtime.tv_sec >>
            m.mtime.tv_nsec)) {
        return Err(EINVAL, "journal: bad metadata line");
      }
      j.metas.push_back(m);
    } else {
      return Err(EINVAL, "journal: unknown line " + tag);
    }
  }
  if (!end || j.workdir.empty() || j.staging.empty()) return Err(EINVAL, "journal is incomplete");
  return j;
}

// ---- apply -------------------------------------------------------------------------------

Status ApplyJournal(const Journal& j, int workdir_fd, const std::function<void()>& step, bool sync,
                    std::vector<std::string>* warnings) {
  auto staging = fs::OpenAt(workdir_fd, j.staging, O_PATH | O_DIRECTORY);
  if (!staging) return staging.error();
  auto new_fd = fs::OpenAt(staging->get(), "new", O_PATH | O_DIRECTORY);
  if (!new_fd) return new_fd.error();
  auto old_fd = fs::OpenAt(staging->get(), "old", O_PATH | O_DIRECTORY);
  if (!old_fd) return old_fd.error();
  std::set<std::string> touched;  // directories to fsync

  // Deletions: moved aside into old/<i>, erased only once the commit is done.
  for (size_t i = 0; i < j.deletes.size(); ++i) {
    step();
    const std::string slot = std::to_string(i);
    if (ExistsAt(old_fd->get(), slot)) continue;  // done before a crash
    auto [parent, name] = fs::SplitLast(j.deletes[i]);
    auto pfd = fs::OpenDirIn(workdir_fd, parent);
    if (pfd && ExistsAt(pfd->get(), name)) {
      if (::renameat(pfd->get(), name.c_str(), old_fd->get(), slot.c_str()) != 0) {
        return ErrnoError("commit: move aside " + j.deletes[i]);
      }
    } else {
      // Already gone: leave a mark so a re-run never mistakes a later
      // addition at this path for the thing to delete.
      auto mark = fs::OpenAt(old_fd->get(), slot, O_WRONLY | O_CREAT | O_EXCL, 0600);
      if (!mark) return mark.error();
    }
    touched.insert(parent);
  }
  // Additions, parents first: one atomic rename each.
  for (size_t i = 0; i < j.places.size(); ++i) {
    step();
    const std::string slot = std::to_string(i);
    if (!ExistsAt(new_fd->get(), slot)) continue;  // placed before a crash
    auto [parent, name] = fs::SplitLast(j.places[i]);
    auto pfd = fs::OpenDirIn(workdir_fd, parent);
    if (!pfd) return Err(pfd.code(), "commit: parent of " + j.places[i]);
    if (::renameat(new_fd->get(), slot.c_str(), pfd->get(), name.c_str()) != 0) {
      return ErrnoError("commit: place " + j.places[i]);
    }
    touched.insert(parent);
  }
  // Directory metadata, deepest first (a read-only directory is finished
  // after what goes inside it).
  for (const auto& m : j.metas) {
    step();
    struct stat st {};
    st.st_mode = m.mode;
    st.st_uid = m.uid;
    st.st_gid = m.gid;
    st.st_atim = m.atime;
    st.st_mtim = m.mtime;
    if (m.path.empty()) {
      ApplyMetaAt(workdir_fd, "", st, false, ".", warnings);
      continue;
    }
    auto [parent, name] = fs::SplitLast(m.path);
    auto pfd = fs::OpenDirIn(workdir_fd, parent);
    if (!pfd) return Err(pfd.code(), "commit: parent of " + m.path);
    ApplyMetaAt(pfd->get(), name, st, false, m.path, warnings);
  }
  step();
  if (sync) {
    if (touched.size() > kPerFileSyncMax) {
      auto fd = fs::OpenIn(workdir_fd, "", O_RDONLY | O_DIRECTORY);
      if (!fd) return fd.error();
      if (::syncfs(fd->get()) != 0) return ErrnoError("syncfs");
    } else {
      for (const auto& dir : touched) {
        if (auto s = fs::FsyncDirAt(workdir_fd, dir); !s && s.code() != ENOENT) return s;
      }
    }
  }
  return OkStatus();
}

// ---- Overlay::Commit ----------------------------------------------------------------------

namespace {

// Creates staging/new/<index> for one planned object.
Status StagePlace(const Overlay::Impl& im, const PlanPlace& p, size_t index, int new_fd, bool sync,
                  std::vector<std::string>& warnings) {
  // `sync`: fsync this file now (small commits); large ones syncfs() once.
  const std::string slot = std::to_string(index);
  const int src_root = p.src_layer == Layer::kUpper ? im.upper_fd_.get() : im.lower_fd_.get();
  switch (p.type) {
    case FileType::kDirectory:
      // 0700 until the end: its final mode is a metadata step.
      if (::mkdirat(new_fd, slot.c_str(), 0700) != 0) return ErrnoError("stage " + p.path);
      return OkStatus();
    case FileType::kRegular: {
      if (p.link_to >= 0) {
        const std::string first = std::to_string(p.link_to);
        if (::linkat(new_fd, first.c_str(), new_fd, slot.c_str(), 0) != 0) {
          return ErrnoError("stage link " + p.path);
        }
        return OkStatus();
      }
      if (p.src_layer == Layer::kLower) {
        // An unchanged lower file under a renamed directory: the same inode
        // moves (same filesystem), no data is copied.
        auto [parent, name] = fs::SplitLast(p.src_path);
        auto pfd = fs::OpenDirIn(src_root, parent);
        if (pfd && ::linkat(pfd->get(), name.c_str(), new_fd, slot.c_str(), 0) == 0) {
          return OkStatus();
        }
      }
      auto src = fs::OpenIn(src_root, p.src_path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
      if (!src) return src.error();
      auto sst = fs::StatFd(src->get());
      if (!sst) return sst.error();
      if (!S_ISREG(sst->st_mode)) return Err(EIO, "commit: source changed type: " + p.path);
      auto dst = fs::OpenAt(new_fd, slot, O_WRONLY | O_CREAT | O_EXCL, 0600);
      if (!dst) return dst.error();
      if (auto s = fs::CopyData(src->get(), dst->get(), static_cast<uint64_t>(sst->st_size)); !s) {
        return s;
      }
      (void)fs::CopyXattrs(src->get(), dst->get());
      if (sync) {
        if (auto s = Fsync(dst->get(), p.path); !s) return s;
      }
      break;
    }
    case FileType::kSymlink: {
      auto [parent, name] = fs::SplitLast(p.src_path);
      auto pfd = fs::OpenDirIn(src_root, parent);
      if (!pfd) return pfd.error();
      auto target = fs::ReadlinkAt(pfd->get(), name);
      if (!target) return target.error();
      if (::symlinkat(target->c_str(), new_fd, slot.c_str()) != 0) {
        return ErrnoError("stage symlink " + p.path);
      }
      ApplyMetaAt(new_fd, slot, p.st, true, p.path, &warnings);
      return OkStatus();
    }
    case FileType::kFifo:
    case FileType::kSocket: {
      mode_t type = p.type == FileType::kFifo ? S_IFIFO : S_IFSOCK;
      if (::mknodat(new_fd, slot.c_str(), type | 0600, 0) != 0) {
        return ErrnoError("stage node " + p.path);
      }
      break;
    }
    default:
      return Err(EPERM, "commit: cannot create " + p.path);
  }
  ApplyMetaAt(new_fd, slot, p.st, false, p.path, &warnings);
  return OkStatus();
}

}  // namespace

Result<CommitReport> Overlay::Commit(const CommitOptions& options) {
  Impl& im = *impl_;
  im.CheckLive();
  im.ForgetDirs();
  CommitReport report;
  int step_no = 0;
  auto step = [&] {
    if (options.step_hook) options.step_hook(step_no);
    ++step_no;
  };
  (void)RemeasureAll();
  ChangeList changes;
  CommitPlan plan;
  if (auto s = im.Diff(changes, &plan); !s) return s.error();
  for (const auto& c : changes) {
    if (c.kind == ChangeKind::kAdded) ++report.added;
    if (c.kind == ChangeKind::kModified) ++report.modified;
    if (c.kind == ChangeKind::kDeleted) ++report.deleted;
  }
  const std::string staging = std::string(kStagingPrefix) + fs::SplitLast(im.storage_abs_).second;
  for (const auto& c : changes) {
    if (fs::PathWithin(c.path, staging)) {
      return Err(EINVAL, "the change list uses the staging name " + staging);
    }
  }
  auto lock = LockWorkdir(im.lower_abs_);
  if (!lock) return lock.error();
  if (!FindStaging(im.lower_fd_.get()).empty()) {
    return Err(EBUSY, "an interrupted commit of " + im.lower_abs_ +
                          " awaits recovery (run `trace recover`)");
  }
  const int wd = im.lower_fd_.get();
  const int sd = im.storage_fd_.get();

  // Prepare. Until the commit point, failing means removing the staging
  // directory; the workdir itself is untouched.
  auto undo = [&](const Error& e) -> Result<CommitReport> {
    (void)RemoveTreeAt(wd, staging);
    (void)::unlinkat(sd, kJournalFile, 0);
    if (im.options_.observer) im.options_.observer->OnCommit(Status(e), changes.size());
    return e;
  };
  step();
  if (::mkdirat(wd, staging.c_str(), 0700) != 0) return undo(ErrnoError("mkdir " + staging));
  auto sfd = fs::OpenAt(wd, staging, O_PATH | O_DIRECTORY);
  if (!sfd) return undo(sfd.error());
  if (auto s = WriteFileAtomic(sfd->get(), kOriginFile, im.storage_abs_ + "\n", options.fsync);
      !s) {
    return undo(s.error());
  }
  if (::mkdirat(sfd->get(), "new", 0700) != 0 || ::mkdirat(sfd->get(), "old", 0700) != 0) {
    return undo(ErrnoError("mkdir staging"));
  }
  auto new_fd = fs::OpenAt(sfd->get(), "new", O_RDONLY | O_DIRECTORY);
  if (!new_fd) return undo(new_fd.error());
  // Contents must be durable before any directory entry points at them.
  // One fsync per file forces one journal commit per file; past a few dozen
  // files a single syncfs() of the workdir's filesystem is far cheaper.
  const bool per_file_sync = options.fsync && plan.places.size() <= kPerFileSyncMax;
  for (size_t i = 0; i < plan.places.size(); ++i) {
    step();
    if (auto s = StagePlace(im, plan.places[i], i, new_fd->get(), per_file_sync, report.warnings);
        !s) {
      return undo(s.error());
    }
  }
  if (options.fsync) {
    if (!per_file_sync && ::syncfs(new_fd->get()) != 0) return undo(ErrnoError("syncfs"));
    if (auto s = Fsync(new_fd->get(), "staging"); !s) return undo(s.error());
  }
  Journal j;
  j.workdir = im.lower_abs_;
  j.staging = staging;
  j.deletes = plan.deletes;
  for (const auto& p : plan.places) j.places.push_back(p.path);
  j.metas = plan.metas;
  step();
  if (auto s = WriteStateFile(im); !s) return undo(s.error());
  if (auto s = WriteFileAtomic(sd, kJournalFile, SerializeJournal(j), options.fsync); !s) {
    return undo(s.error());
  }
  // The commit point: from here on, recovery rolls forward.
  step();
  if (auto s = WriteFileAtomic(sd, kCommittedMark, "committed\n", options.fsync); !s) {
    return undo(s.error());
  }
  im.finished_ = true;
  auto applied = ApplyJournal(j, wd, step, options.fsync, &report.warnings);
  if (!applied) {
    Error e = applied.error();
    e.context = "commit interrupted after its commit point (" + e.context +
                "); run `trace recover " + im.lower_abs_ + "` to finish it";
    if (im.options_.observer) im.options_.observer->OnCommit(Status(e), changes.size());
    return e;
  }
  step();
  if (auto s = WriteFileAtomic(sd, kDoneMark, "done\n", options.fsync); !s) return s.error();
  step();
  (void)RemoveStaging(wd, staging);
  (void)RemoveTree(im.storage_abs_);
  report.steps = step_no;
  if (im.options_.observer) im.options_.observer->OnCommit(OkStatus(), changes.size());
  return report;
}

// ---- recovery ---------------------------------------------------------------------------

Result<std::optional<RecoveryReport>> RecoverStorage(std::string_view storage_dir) {
  const std::string storage(storage_dir);
  int sfd_raw = ::open(storage.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sfd_raw < 0) return ErrnoError("storage " + storage);
  UniqueFd sfd(sfd_raw);
  if (!ExistsAt(sfd.get(), kJournalFile)) return std::optional<RecoveryReport>();
  auto text = ReadSmallFile(sfd.get(), kJournalFile);
  if (!text) return text.error();
  auto j = ParseJournal(*text);
  if (!j) return Err(j.code(), storage + "/journal: " + j.error().context);
  auto lock = LockWorkdir(j->workdir);
  if (!lock) return lock.error();
  auto wd = fs::OpenAbsDir(j->workdir);
  if (!wd) return wd.error();
  RecoveryReport r;
  r.workdir = j->workdir;
  r.storage = storage;
  const bool committed = ExistsAt(sfd.get(), kCommittedMark);
  const bool done = ExistsAt(sfd.get(), kDoneMark);
  if (!committed) {
    if (ExistsAt(wd->get(), j->staging)) {
      if (auto s = RemoveTreeAt(wd->get(), j->staging); !s) return s.error();
    }
    (void)::unlinkat(sfd.get(), kJournalFile, 0);
    r.outcome = RecoveryReport::Outcome::kRolledBack;
    r.message = "rolled back an interrupted commit to " + j->workdir +
                " (the workdir is unchanged; its upper is kept in " + storage + ")";
    return std::optional<RecoveryReport>(r);
  }
  if (!done) {
    std::vector<std::string> warnings;
    if (auto s = ApplyJournal(
            *j, wd->get(), [] {}, true, &warnings);
        !s)
      return s.error();
    if (auto s = WriteFileAtomic(sfd.get(), kDoneMark, "done\n", true); !s) return s.error();
  }
  if (ExistsAt(wd->get(), j->staging)) {
    if (auto s = RemoveStaging(wd->get(), j->staging); !s) return s.error();
  }
  sfd.reset();
  if (auto s = RemoveTree(storage); !s && s.code() != ENOENT) return s.error();
  r.outcome = RecoveryReport::Outcome::kRolledForward;
  r.message = "finished an interrupted commit to " + j->workdir;
  return std::optional<RecoveryReport>(r);
}

Result<std::vector<RecoveryReport>> RecoverWorkdir(std::string_view workdir) {
  std::vector<RecoveryReport> out;
  auto wd = fs::OpenAbsDir(std::string(workdir));
  if (!wd) return wd.error();
  for (const auto& name : FindStaging(wd->get())) {
    auto sfd = fs::OpenAt(wd->get(), name, O_PATH | O_DIRECTORY);
    if (!sfd) return sfd.error();
    auto origin = ReadSmallFile(sfd->get(), kOriginFile);
    if (!origin) {
      // The crash came before the staging directory was even described,
      // so long before the commit point: nothing in the workdir changed.
      auto lock = LockWorkdir(std::string(workdir));
      if (!lock) return lock.error();
      if (auto s = RemoveTreeAt(wd->get(), name); !s) return s.error();
      RecoveryReport r;
      r.workdir = std::string(workdir);
      r.message = "removed the staging directory of a commit interrupted before it began";
      out.push_back(r);
      continue;
    }
    std::string storage = *origin;
    while (!storage.empty() && storage.back() == '\n') storage.pop_back();
    auto r = RecoverStorage(storage);
    if (!r) {
      return Err(r.code(), "cannot recover the interrupted commit staged in " +
                               std::string(workdir) + "/" + name + ": " + r.error().Message());
    }
    if (!*r) {
      // Journal never written: before the commit point.
      auto lock = LockWorkdir(std::string(workdir));
      if (!lock) return lock.error();
      if (auto s = RemoveTreeAt(wd->get(), name); !s) return s.error();
      RecoveryReport rb;
      rb.workdir = std::string(workdir);
      rb.storage = storage;
      rb.message = "rolled back a commit interrupted before its journal was written";
      out.push_back(rb);
      continue;
    }
    out.push_back(**r);
  }
  return out;
}

}  // namespace sandtrace::cow
