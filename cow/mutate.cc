// Mutations of the merged view, all performed on the upper layer.
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <functional>

#include "cow/fs_util.h"
#include "cow/overlay_impl.h"

namespace sandtrace::cow {

namespace {

ResolveOptions NoFollow() {
  ResolveOptions o;
  o.follow_final = false;
  return o;
}

ResolveOptions Follow(bool follow) {
  ResolveOptions o;
  o.follow_final = follow;
  return o;
}

bool SameObject(const Found& a, const Found& b) {
  return a.layer == b.layer && a.st.st_dev == b.st.st_dev && a.st.st_ino == b.st.st_ino;
}

}  // namespace

// The checks shared by everything that creates a new name (mkdir, mknod,
// symlink, link): the name must be free and its parent writable; then the
// parent chain is copied up.
static Status PrepareCreate(Overlay::Impl& im, Walk& w, bool allow_trailing_slash) {
  if (w.last != Last::kName || w.res.exists) return Err(EEXIST, w.res.path);
  if (w.res.trailing_slash && !allow_trailing_slash) return Err(ENOENT, w.res.path);
  if (auto s = im.CheckDirWrite(w.stack.back()); !s) return s;
  return im.EnsureUpperChain(w.stack);
}

// New entries carry the caller's identity when it differs from ours.
// `known`: the entry's stat, when the caller has one (mode aside, which
// FixMode may have changed since: only the owner is read here).
static void OwnNew(Overlay::Impl& im, const DirNode& parent, const std::string& name,
                   const Result<struct stat>* known = nullptr) {
  if (!im.options_.creds) return;
  const Credentials& c = *im.options_.creds;
  auto st = known != nullptr && known->ok() ? *known : fs::StatAt(parent.upper.get(), name);
  if (!st) return;
  struct stat pst = im.DirStat(parent);
  gid_t gid = (pst.st_mode & S_ISGID) ? pst.st_gid : c.gid;
  if (st->st_uid != c.uid || st->st_gid != gid) {
    (void)im.SetOwner(parent.upper.get(), name, *st, c.uid, gid);
  }
}

// The process umask must not change what the child asked for. Returns the
// new entry's stat from before any chmod (its owner is what OwnNew needs).
// The entry was just made by this thread and is no symlink: chmod by name.
static Result<struct stat> FixMode(int dir_fd, const std::string& name, mode_t mode) {
  auto st = fs::StatAt(dir_fd, name);
  if (!st) return st.error();
  if ((st->st_mode & 0777) == (mode & 0777)) return st;
  mode_t want = (st->st_mode & 07000) | (mode & 0777);
  if (::fchmodat(dir_fd, name.c_str(), want, 0) != 0) return ErrnoError("chmod");
  return st;
}

// What every create does once the new entry `w.name` exists in the upper
// parent: the mode asked for, the caller's ownership, no whiteout left
// over, the observer told.
static void FinishCreate(Overlay::Impl& im, Walk& w, mode_t mode, FileType type) {
  DirNode& parent = w.stack.back();
  const auto fixed = FixMode(parent.upper.get(), w.name, mode);
  OwnNew(im, parent, w.name, &fixed);
  im.ClearWhiteout(parent, w.name);
  im.NotifyCreate(w.res.path, type);
}

// A whole create: the walk, the checks, the quota charge, `make` (the new
// entry `w.name` in the upper parent; the charge is given back if it
// fails), then FinishCreate. `trailing_slash` allows "name/" (mkdir);
// `refuse`, if set, may still turn the create down once the name is known
// to be free (as the kernel checks a device mknod after EEXIST).
static Status CreateEntry(Overlay::Impl& im, const Base& base, std::string_view path,
                          bool trailing_slash, const char* what, FileType type, mode_t mode,
                          const std::function<Status(Walk&)>& make,
                          const std::function<Status()>& refuse = nullptr) {
  im.CheckLive();
  auto w = im.WalkInside(base, path, NoFollow(), true);
  if (!w) return w.error();
  if (auto s = PrepareCreate(im, *w, trailing_slash); !s) return s;
  if (refuse) {
    if (Status s = refuse(); !s.ok()) return s;
  }
  if (auto s = im.Charge(kEntryCost, what); !s) return s;
  if (Status s = make(*w); !s.ok()) {
    im.Credit(kEntryCost);
    return s;
  }
  FinishCreate(im, *w, mode, type);
  return OkStatus();
}

Status Overlay::Mkdir(const Base& base, std::string_view path, mode_t mode) {
  Impl& im = *impl_;
  return CreateEntry(
      im, base, path, true, "mkdir", FileType::kDirectory, mode, [&](Walk& w) -> Status {
        if (::mkdirat(w.stack.back().upper.get(), w.name.c_str(), mode & 07777) != 0) {
          return ErrnoError("mkdir " + w.res.path);
        }
        // A new directory never shows what a deleted one held: it is opaque.
        im.dirs_[w.res.path] = DirMeta{std::nullopt, {}};
        return OkStatus();
      });
}

Status Overlay::Mknod(const Base& base, std::string_view path, mode_t mode, dev_t dev) {
  impl_->CheckLive();
  mode_t type = mode & S_IFMT;
  if (type == 0) type = S_IFREG;
  if (type == S_IFDIR) return Err(EPERM, "mknod of a directory");
  if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR &&
      type != S_IFBLK) {
    return Err(EINVAL, "mknod type");
  }
  (void)dev;
  return CreateEntry(
      *impl_, base, path, false, "mknod", FileTypeFromMode(type), mode,
      [&](Walk& w) -> Status {
        if (::mknodat(w.stack.back().upper.get(), w.name.c_str(), type | (mode & 07777), 0) != 0) {
          return ErrnoError("mknod " + w.res.path);
        }
        return OkStatus();
      },
      [&]() -> Status {
        if (type == S_IFCHR || type == S_IFBLK) {
          return Err(EPERM, "devices are not created in the upper");
        }
        return OkStatus();
      });
}

Status Overlay::CreateWith(const Base& base, std::string_view path, FileType type, mode_t mode,
                           const std::function<Status(int, const std::string&)>& make) {
  return CreateEntry(*impl_, base, path, false, "create", type, mode,
                     [&](Walk& w) { return make(w.stack.back().upper.get(), w.name); });
}

Status Overlay::Symlink(std::string_view target, const Base& base, std::string_view path) {
  Impl& im = *impl_;
  im.CheckLive();
  if (target.empty()) return Err(ENOENT, "empty symlink target");
  auto w = im.WalkInside(base, path, NoFollow(), true);
  if (!w) return w.error();
  if (auto s = PrepareCreate(im, *w, false); !s) return s;
  if (auto s = im.Charge(kEntryCost + target.size(), "symlink"); !s) return s;
  DirNode& parent = w->stack.back();
  std::string t(target);
  if (::symlinkat(t.c_str(), parent.upper.get(), w->name.c_str()) != 0) {
    im.Credit(kEntryCost + target.size());
    return ErrnoError("symlink " + w->res.path);
  }
  auto st = fs::StatAt(parent.upper.get(), w->name);
  if (st) im.data_charged_[st->st_ino] = target.size();
  OwnNew(im, parent, w->name);
  im.ClearWhiteout(parent, w->name);
  im.NotifyCreate(w->res.path, FileType::kSymlink);
  return OkStatus();
}

Status Overlay::Link(const Base& old_base, std::string_view old_path, const Base& new_base,
                     std::string_view new_path, bool follow) {
  Impl& im = *impl_;
  im.CheckLive();
  // The kernel's order: the old path must exist, then the new name must be
  // free, and only then is a directory refused.
  auto wo = im.WalkInside(old_base, old_path, Follow(follow));
  if (!wo) return wo.error();
  if (!wo->res.exists) return Err(ENOENT, wo->res.path);
  auto wn = im.WalkInside(new_base, new_path, NoFollow(), true);
  if (!wn) return wn.error();
  if (wn->last != Last::kName || wn->res.exists) return Err(EEXIST, wn->res.path);
  if (wn->res.trailing_slash) return Err(ENOENT, wn->res.path);
  if (auto s = im.CheckDirWrite(wn->stack.back()); !s) return s;
  if (wo->found.type == FileType::kDirectory) return Err(EPERM, "link of a directory");
  if (wo->found.type == FileType::kCharDevice || wo->found.type == FileType::kBlockDevice) {
    return Err(EPERM, "link of a device");
  }
  if (auto s = im.CopyUpObject(*wo, true); !s) return s;
  // Copy-ups may have created directories the new walk did not see.
  wn = im.WalkInside(new_base, new_path, NoFollow(), true);
  if (!wn) return wn.error();
  if (wn->res.exists) return Err(EEXIST, wn->res.path);
  if (auto s = im.EnsureUpperChain(wn->stack); !s) return s;
  if (auto s = im.Charge(kEntryCost, "link"); !s) return s;
  if (::linkat(wo->stack.back().upper.get(), wo->name.c_str(), wn->stack.back().upper.get(),
               wn->name.c_str(), 0) != 0) {
    im.Credit(kEntryCost);
    return ErrnoError("link " + wn->res.path);
  }
  im.ClearWhiteout(wn->stack.back(), wn->name);
  im.NotifyCreate(wn->res.path, wo->found.type);
  return OkStatus();
}

Status Overlay::Unlink(const Base& base, std::string_view path) {
  Impl& im = *impl_;
  im.CheckLive();
  // The last component is never followed, even with a trailing slash.
  auto w = im.WalkInside(base, path, NoFollow(), true);
  if (!w) return w.error();
  if (w->last != Last::kName) return Err(EISDIR, w->res.path);
  if (!w->res.exists) return Err(ENOENT, w->res.path);
  if (w->found.type == FileType::kDirectory) return Err(EISDIR, w->res.path);
  if (w->res.trailing_slash) return Err(ENOTDIR, w->res.path);
  if (auto s = im.CheckDirWrite(w->stack.back()); !s) return s;
  if (auto s = im.CheckSticky(w->stack.back(), w->found.st); !s) return s;
  if (auto s = im.EnsureUpperChain(w->stack); !s) return s;
  DirNode& parent = w->stack.back();
  if (w->found.layer == Layer::kUpper) {
    if (::unlinkat(parent.upper.get(), w->name.c_str(), 0) != 0) {
      return ErrnoError("unlink " + w->res.path);
    }
    im.CreditRemovedName(w->found.st);
  }
  if (im.HasLowerEntry(parent, w->name)) im.AddWhiteout(parent, w->name);
  return OkStatus();
}

Status Overlay::Rmdir(const Base& base, std::string_view path) {
  Impl& im = *impl_;
  im.CheckLive();
  auto w = im.WalkInside(base, path, NoFollow(), true);
  if (!w) return w.error();
  if (w->last == Last::kDot) return Err(EINVAL, "rmdir .");
  if (w->last == Last::kDotDot) return Err(ENOTEMPTY, "rmdir ..");
  if (w->last == Last::kRoot) return Err(EBUSY, "rmdir of the root");
  if (!w->res.exists) return Err(ENOENT, w->res.path);
  if (w->found.type != FileType::kDirectory) return Err(ENOTDIR, w->res.path);
  auto node = im.Descend(w->stack.back(), w->name, w->found);
  if (!node) return node.error();
  if (auto s = im.CheckDirWrite(w->stack.back()); !s) return s;
  if (auto s = im.CheckSticky(w->stack.back(), w->found.st); !s) return s;
  if (!im.IsEmptyDir(*node)) return Err(ENOTEMPTY, w->res.path);
  if (auto s = im.EnsureUpperChain(w->stack); !s) return s;
  DirNode& parent = w->stack.back();
  if (w->found.layer == Layer::kUpper) {
    if (::unlinkat(parent.upper.get(), w->name.c_str(), AT_REMOVEDIR) != 0) {
      return ErrnoError("rmdir " + w->res.path);
    }
    im.CreditRemovedName(w->found.st);
    im.DropSubtree(w->res.path);
  }
  // A lower directory whited out here may be cached too.
  im.ForgetDirs();
  if (im.HasLowerEntry(parent, w->name)) im.AddWhiteout(parent, w->name);
  return OkStatus();
}

Status Overlay::Rename(const Base& old_base, std::string_view old_path, const Base& new_base,
                       std::string_view new_path, unsigned flags) {
  Impl& im = *impl_;
  im.CheckLive();
  if (flags & ~static_cast<unsigned>(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
    return Err(EINVAL, "rename flags");
  }
  const bool exchange = flags & RENAME_EXCHANGE;
  if (exchange && (flags & RENAME_NOREPLACE)) return Err(EINVAL, "rename flags");
  // The checks in the kernel's order (do_renameat2, then vfs_rename). The
  // last components are never followed, trailing slashes included.
  auto wo = im.DoWalk(old_base, old_path, NoFollow(), true);
  if (!wo) return wo.error();
  auto wn = im.DoWalk(new_base, new_path, NoFollow(), true);
  if (!wn) return wn.error();
  if (wo->res.outside || wn->res.outside) return Err(EXDEV, "rename across the workdir");
  if (wo->last != Last::kName) return Err(EBUSY, "rename of . or ..");
  if (wn->last != Last::kName) {
    return Err((flags & RENAME_NOREPLACE) ? EEXIST : EBUSY, "rename onto . or ..");
  }
  if (!wo->res.exists) return Err(ENOENT, wo->res.path);
  if ((flags & RENAME_NOREPLACE) && wn->res.exists) return Err(EEXIST, wn->res.path);
  const bool old_dir = wo->found.type == FileType::kDirectory;
  const bool new_dir = wn->found.type == FileType::kDirectory;
  if (exchange) {
    if (!wn->res.exists) return Err(ENOENT, wn->res.path);
    if (!new_dir && wn->res.trailing_slash) return Err(ENOTDIR, wn->res.path);
  }
  if (!old_dir) {
    if (wo->res.trailing_slash) return Err(ENOTDIR, wo->res.path);
    if (!exchange && wn->res.trailing_slash) return Err(ENOTDIR, wn->res.path);
  }
  const std::string opath = wo->res.path;
  const std::string npath = wn->res.path;
  // A directory cannot move under itself; nor can the target be an
  // ancestor of the source.
  if (opath != npath && fs::PathWithin(npath, opath)) return Err(EINVAL, "rename into itself");
  if (wn->res.exists && opath != npath && fs::PathWithin(opath, npath)) {
    return Err(exchange ? EINVAL : ENOTEMPTY, npath);
  }
  if (wn->res.exists && SameObject(wo->found, wn->found)) return OkStatus();
  if (!exchange && wn->res.exists) {
    if (old_dir && !new_dir) return Err(ENOTDIR, npath);
    if (!old_dir && new_dir) return Err(EISDIR, npath);
    if (new_dir) {
      auto node = im.Descend(wn->stack.back(), wn->name, wn->found);
      if (!node) return node.error();
      if (!im.IsEmptyDir(*node)) return Err(ENOTEMPTY, npath);
    }
  }
  if (auto s = im.CheckDirWrite(wo->stack.back()); !s) return s;
  if (auto s = im.CheckDirWrite(wn->stack.back()); !s) return s;
  if (auto s = im.CheckSticky(wo->stack.back(), wo->found.st); !s) return s;
  if (wn->res.exists) {
    if (auto s = im.CheckSticky(wn->stack.back(), wn->found.st); !s) return s;
  }

  // Copy up both ends (a lower directory becomes an upper one whose origin
  // is its lower path: moving it then moves no data), re-walking the new end
  // because copy-ups on the old side may have created its directories.
  if (auto s = im.CopyUpObject(*wo, true); !s) return s;
  wn = im.WalkInside(new_base, new_path, NoFollow(), true);
  if (!wn) return wn.error();
  if (auto s = im.EnsureUpperChain(wn->stack); !s) return s;
  if (exchange) {
    if (auto s = im.CopyUpObject(*wn, true); !s) return s;
  }
  DirNode& op = wo->stack.back();
  DirNode& np = wn->stack.back();
  const bool replaced_upper = !exchange && wn->res.exists && wn->found.layer == Layer::kUpper;
  const struct stat replaced_st = wn->found.st;
  unsigned how = exchange ? RENAME_EXCHANGE : 0;
  if (::renameat2(op.upper.get(), wo->name.c_str(), np.upper.get(), wn->name.c_str(), how) != 0) {
    return ErrnoError("rename " + opath + " -> " + npath);
  }
  im.ForgetDirs();  // cached directories may have moved, or been replaced
  if (exchange) {
    if (old_dir && new_dir) {
      im.SwapSubtrees(opath, npath);
    } else if (old_dir) {
      im.RekeySubtree(opath, npath);
    } else if (new_dir) {
      im.RekeySubtree(npath, opath);
    }
    return OkStatus();
  }
  if (replaced_upper) {
    im.CreditRemovedName(replaced_st);
    if (new_dir) im.DropSubtree(npath);
  }
  if (old_dir) im.RekeySubtree(opath, npath);
  im.ClearWhiteout(np, wn->name);
  if (im.HasLowerEntry(op, wo->name)) im.AddWhiteout(op, wo->name);
  return OkStatus();
}

Status Overlay::Chmod(const Base& base, std::string_view path, mode_t mode, bool follow) {
  Impl& im = *impl_;
  im.CheckLive();
  auto w = im.WalkInside(base, path, Follow(follow));
  if (!w) return w.error();
  if (!w->res.exists) return Err(ENOENT, w->res.path);
  if (w->found.type == FileType::kSymlink) return Err(EOPNOTSUPP, "chmod of a symlink");
  if (auto s = im.CheckOwner(w->found.st); !s) return s;
  if (auto s = im.CopyUpObject(*w, true); !s) return s;
  if (w->last == Last::kName) {
    // By name in its upper directory: the object is not a symlink (checked
    // above), and nothing but this thread changes the upper layer.
    if (::fchmodat(w->stack.back().upper.get(), w->name.c_str(), mode & 07777, 0) != 0) {
      return ErrnoError("chmod " + w->res.path);
    }
    return OkStatus();
  }
  auto fd = im.PathFdOf(*w);
  if (!fd) return fd.error();
  if (::chmod(fs::ProcFdPath(fd->get()).c_str(), mode & 07777) != 0) {
    return ErrnoError("chmod " + w->res.path);
  }
  return OkStatus();
}

Status Overlay::Chown(const Base& base, std::string_view path, uid_t uid, gid_t gid, bool follow) {
  Impl& im = *impl_;
  im.CheckLive();
  auto w = im.WalkInside(base, path, Follow(follow));
  if (!w) return w.error();
  if (!w->res.exists) return Err(ENOENT, w->res.path);
  const struct stat cur = w->found.st;
  const uid_t new_uid = uid == static_cast<uid_t>(-1) ? cur.st_uid : uid;
  const gid_t new_gid = gid == static_cast<gid_t>(-1) ? cur.st_gid : gid;
  if (im.options_.creds && im.options_.creds->uid != 0) {
    if (new_uid != cur.st_uid) return Err(EPERM, "chown to another user");
    if (im.options_.creds->uid != cur.st_uid) return Err(EPERM, "not the owner");
    if (new_gid != cur.st_gid && !im.InGroup(new_gid)) return Err(EPERM, "not in that group");
  }
  if (auto s = im.CopyUpObject(*w, true); !s) return s;
  // The upper object by name in its directory, or (".", the root) by an
  // O_PATH fd of its own.
  UniqueFd own;
  int dir = -1;
  std::string name;
  if (w->last == Last::kName) {
    dir = w->stack.back().upper.get();
    name = w->name;
  } else {
    auto fd = im.PathFdOf(*w);
    if (!fd) return fd.error();
    own = std::move(*fd);
    dir = own.get();
  }
  auto ust = fs::StatAt(dir, name);
  if (!ust) return ust.error();
  if (auto s = im.SetOwner(dir, name, *ust, new_uid, new_gid); !s) return s;
  // The kernel drops set-user-ID (and group-executable set-group-ID) bits of
  // a non-directory on chown; a virtual chown must too.
  if (!S_ISDIR(ust->st_mode) && !S_ISLNK(ust->st_mode) && im.virtual_owner_.count(ust->st_ino)) {
    mode_t m = ust->st_mode & 07777;
    mode_t keep = m & ~S_ISUID;
    if (m & S_IXGRP) keep &= ~S_ISGID;
    if (keep != m) (void)::fchmodat(dir, name.c_str(), keep, 0);  // a non-directory: named
  }
  return OkStatus();
}

Status Overlay::Truncate(const Base& base, std::string_view path, off_t length) {
  Impl& im = *impl_;
  im.CheckLive();
  if (length < 0) return Err(EINVAL, "negative length");
  auto w = im.WalkInside(base, path, {});
  if (!w) return w.error();
  if (!w->res.exists) return Err(ENOENT, w->res.path);
  if (w->found.type == FileType::kDirectory) return Err(EISDIR, w->res.path);
  if (w->found.type != FileType::kRegular) return Err(EINVAL, w->res.path);
  if (auto s = im.CheckPermission(w->found.st, W_OK); !s) return s;
  if (auto s = im.CopyUpObject(*w, true); !s) return s;
  const uint64_t want = static_cast<uint64_t>(length);
  uint64_t& charged = im.data_charged_[w->found.st.st_ino];
  if (want > charged) {
    if (auto s = im.Charge(want - charged, "truncate"); !s) return s;
  } else {
    im.Credit(charged - want);
  }
  const uint64_t before = charged;
  charged = want;
  auto fd = fs::OpenAt(w->stack.back().upper.get(), w->name, O_WRONLY | O_NONBLOCK);
  if (!fd || ::ftruncate(fd->get(), length) != 0) {
    Error e = fd ? ErrnoError("truncate " + w->res.path) : fd.error();
    if (want > before)
      im.Credit(want - before);
    else
      im.used_ += before - want;
    im.data_charged_[w->found.st.st_ino] = before;
    return e;
  }
  return OkStatus();
}

Status Overlay::Utimens(const Base& base, std::string_view path, const struct timespec* times,
                        bool follow) {
  Impl& im = *impl_;
  im.CheckLive();
  auto w = im.WalkInside(base, path, Follow(follow));
  if (!w) return w.error();
  if (!w->res.exists) return Err(ENOENT, w->res.path);
  if (im.options_.creds && im.options_.creds->uid != 0 &&
      im.options_.creds->uid != w->found.st.st_uid) {
    const bool to_now = !times || (times[0].tv_nsec == UTIME_NOW && times[1].tv_nsec == UTIME_NOW);
    if (!to_now) return Err(EPERM, "utimens: not the owner");
    if (auto s = im.CheckPermission(w->found.st, W_OK); !s) return s;
  }
  if (auto s = im.CopyUpObject(*w, true); !s) return s;
  if (w->last == Last::kName) {
    // The object itself (a symlink's own times when it was not followed).
    if (::utimensat(w->stack.back().upper.get(), w->name.c_str(), times, AT_SYMLINK_NOFOLLOW) !=
        0) {
      return ErrnoError("utimens " + w->res.path);
    }
    return OkStatus();
  }
  auto fd = im.PathFdOf(*w);
  if (!fd) return fd.error();
  if (::utimensat(fd->get(), "", times, AT_EMPTY_PATH) != 0) {
    return ErrnoError("utimens " + w->res.path);
  }
  return OkStatus();
}

Status Overlay::SetXattr(const Base& base, std::string_view path, const std::string& name,
                         std::string_view value, int flags, bool follow) {
  Impl& im = *impl_;
  im.CheckLive();
  auto w = im.WalkInside(base, path, Follow(follow));
  if (!w) return w.error();
  if (!w->res.exists) return Err(ENOENT, w->res.path);
  if (w->found.type == FileType::kSymlink) return Err(EPERM, "xattr on a symlink");
  if (auto s = im.CheckOwner(w->found.st); !s) return s;
  if (auto s = im.CopyUpObject(*w, true); !s) return s;
  auto fd = im.PathFdOf(*w);
  if (!fd) return fd.error();
  if (::setxattr(fs::ProcFdPath(fd->get()).c_str(), name.c_str(), value.data(), value.size(),
                 flags) != 0) {
    return ErrnoError("setxattr " + w->res.path);
  }
  return OkStatus();
}

Status Overlay::RemoveXattr(const Base& base, std::string_view path, const std::string& name,
                            bool follow) {
  Impl& im = *impl_;
  im.CheckLive();
  auto w = im.WalkInside(base, path, Follow(follow));
  if (!w) return w.error();
  if (!w->res.exists) return Err(ENOENT, w->res.path);
  if (w->found.type == FileType::kSymlink) return Err(EPERM, "xattr on a symlink");
  if (auto s = im.CheckOwner(w->found.st); !s) return s;
  // Removing a name the object lacks must not copy it up.
  if (auto v = GetXattr(base, path, name, follow); !v) return v.error();
  if (auto s = im.CopyUpObject(*w, true); !s) return s;
  auto fd = im.PathFdOf(*w);
  if (!fd) return fd.error();
  if (::removexattr(fs::ProcFdPath(fd->get()).c_str(), name.c_str()) != 0) {
    return ErrnoError("removexattr " + w->res.path);
  }
  return OkStatus();
}

}  // namespace sandtrace::cow
