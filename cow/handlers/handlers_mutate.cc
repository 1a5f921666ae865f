// Namespace changes: mkdir, mkdirat, mknod, mknodat, unlink, unlinkat,
// rmdir, rename, renameat, renameat2, link, linkat, symlink, symlinkat,
// truncate. Inside the workdir the engine performs them on the upper layer;
// outside, the kernel does and Landlock decides (a path rewritten by another
// thread after our check can only make the kernel try the workdir, which
// Landlock refuses).
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/stat.h>

#include "cow/handlers/handlers.h"

namespace sandtrace::cow {

namespace {

struct Where {
  ChildPath p;
  std::optional<std::string> view;  // nullopt: outside (or p.kind kShm)
};

// Locates a path argument for a change of its own entry (no final follow)
// and computes its view path. A nullopt result means "let the kernel do it".
// With `shm`, a path of the private /dev/shm comes back too (p.kind kShm,
// no view path); without, it is the kernel's.
Result<std::optional<Where>> LocateEntry(Call& c, int dirfd, int path_arg, bool follow = false,
                                         bool shm = false) {
  LocateOptions lo;
  lo.follow_final = follow;
  auto path = c.ReadPath(path_arg);
  if (!path.ok()) return path.error();
  auto p = c.Locate(dirfd, *path, lo);
  if (!p.ok()) return p.error();
  if (shm && p->kind == ChildPath::Kind::kShm) {
    return std::optional<Where>(Where{std::move(*p), std::nullopt});
  }
  if (p->kind == ChildPath::Kind::kKernel) NoteOutsideWrite(c, *p, *path);
  if (p->kind != ChildPath::Kind::kView) return std::optional<Where>();
  auto v = c.ViewPath(*p, follow);
  if (!v.ok()) return v.error();
  if (!v->has_value()) return std::optional<Where>();
  return std::optional<Where>(Where{std::move(*p), std::move(*v)});
}

}  // namespace

std::optional<Decision> HandleMkdir(Call& c, int dirfd, int path_arg, uint64_t mode64) {
  auto w = LocateEntry(c, dirfd, path_arg, false, /*shm=*/true);
  if (!w.ok()) return FromError(w.error());
  if (!w->has_value()) return c.Kernel();
  auto um = c.Umask();
  if (!um.ok()) return FromError(um.error());
  const mode_t mode = static_cast<mode_t>(mode64) & (07777 & ~*um);
  if ((*w)->p.kind == ChildPath::Kind::kShm) return MkdirShm(c, (*w)->p, mode);
  const std::string& v = *(*w)->view;
  c.s.index.MarkChanged(v);
  c.s.RemeasureRecent();
  Status s = c.s.overlay->Mkdir((*w)->p.base, (*w)->p.path, mode);
  if (s.ok()) {
    c.s.index.Forget(v);
    c.s.index.SetEmptyListing(v);
    c.s.index.MarkOpaque(v);
  }
  return FromStatus(s);
}

std::optional<Decision> HandleMknod(Call& c, int dirfd, int path_arg, uint64_t mode64,
                                    uint64_t dev) {
  const mode_t type = static_cast<mode_t>(mode64) & S_IFMT;
  if (type != 0 && type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR &&
      type != S_IFBLK) {
    return Errno(EINVAL);
  }
  auto w = LocateEntry(c, dirfd, path_arg);
  if (!w.ok()) return FromError(w.error());
  if (!w->has_value()) return c.Kernel();
  auto um = c.Umask();
  if (!um.ok()) return FromError(um.error());
  const mode_t mode = type | (static_cast<mode_t>(mode64) & (07777 & ~*um));
  const std::string& v = *(*w)->view;
  c.s.index.MarkChanged(v);
  c.s.RemeasureRecent();
  return FromStatus(c.s.overlay->Mknod((*w)->p.base, (*w)->p.path, mode, static_cast<dev_t>(dev)));
}

std::optional<Decision> HandleUnlink(Call& c, int dirfd, int path_arg, uint64_t flags) {
  if (flags & ~uint64_t{AT_REMOVEDIR}) return Errno(EINVAL);
  auto w = LocateEntry(c, dirfd, path_arg, false, /*shm=*/true);
  if (!w.ok()) return FromError(w.error());
  if (!w->has_value()) return c.Kernel();
  if ((*w)->p.kind == ChildPath::Kind::kShm) {
    return UnlinkShm(c, (*w)->p, static_cast<int>(flags));
  }
  const std::string& v = *(*w)->view;
  c.s.index.MarkChanged(v);
  if (flags & AT_REMOVEDIR) {
    // One mkdir made in this run (opaque) is not the lower directory at its
    // path: no real cwd can be in it, and the lower needs no look.
    const bool made_in_run = c.s.index.IsOpaque(v);
    c.s.index.Forget(v);
    Status s = c.s.overlay->Rmdir((*w)->p.base, (*w)->p.path);
    if (s.ok()) {
      c.s.procs.RemoveVirtualCwds(v);
      // A process may be in it by its real cwd (it was reachable).
      if (!made_in_run && c.s.LowerDirAt(v, /*path_only=*/true).ok()) {
        c.s.removed_lower_dirs.insert(v);
      }
    }
    return FromStatus(s);
  }
  return FromStatus(c.s.overlay->Unlink((*w)->p.base, (*w)->p.path));
}

std::optional<Decision> HandleRename(Call& c, int olddirfd, int old_arg, int newdirfd, int new_arg,
                                     uint64_t flags) {
  constexpr uint64_t kKnown = RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT;
  if (flags & ~kKnown) return Errno(EINVAL);
  if ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT))) {
    return Errno(EINVAL);
  }
  auto from = LocateEntry(c, olddirfd, old_arg, false, /*shm=*/true);
  if (!from.ok()) return FromError(from.error());
  auto to = LocateEntry(c, newdirfd, new_arg, false, /*shm=*/true);
  if (!to.ok()) return FromError(to.error());
  auto shm = [](const std::optional<Where>& w) {
    return w.has_value() && w->p.kind == ChildPath::Kind::kShm;
  };
  if (shm(*from) && shm(*to))
    return RenameShm(c, (*from)->p, (*to)->p, static_cast<unsigned>(flags));
  if (shm(*from) || shm(*to)) return Errno(EXDEV);
  if (!from->has_value() && !to->has_value()) return c.Kernel();
  if (!from->has_value() || !to->has_value()) return Errno(EXDEV);  // across the workdir's edge
  if (flags & RENAME_WHITEOUT) return Errno(EINVAL);  // needs CAP_MKNOD; not in a view
  const std::string& vf = *(*from)->view;
  const std::string& vt = *(*to)->view;
  for (const std::string* v : {&vf, &vt}) {
    c.s.index.MarkChanged(*v);
    c.s.index.Forget(*v);
  }
  Status s = c.s.overlay->Rename((*from)->p.base, (*from)->p.path, (*to)->p.base, (*to)->p.path,
                                 static_cast<unsigned>(flags));
  if (s.ok() && vf != vt) {
    // A directory replaced by the rename is gone: a cwd in it is removed.
    if (!(flags & RENAME_EXCHANGE)) c.s.procs.RemoveVirtualCwds(vt);
    c.s.procs.MoveVirtualCwds(vf, vt, flags & RENAME_EXCHANGE);
  }
  return FromStatus(s);
}

std::optional<Decision> HandleLink(Call& c, int olddirfd, int old_arg, int newdirfd, int new_arg,
                                   uint64_t flags) {
  if (flags & ~uint64_t{AT_SYMLINK_FOLLOW | AT_EMPTY_PATH}) return Errno(EINVAL);
  auto old_path = c.ReadPath(old_arg);
  if (!old_path.ok()) return FromError(old_path.error());
  auto to = LocateEntry(c, newdirfd, new_arg, false, /*shm=*/true);
  if (!to.ok()) return FromError(to.error());
  const bool to_shm = to->has_value() && (*to)->p.kind == ChildPath::Kind::kShm;

  // An O_TMPFILE file getting its name: linkat(fd, "", ..., AT_EMPTY_PATH)
  // or linkat(AT_FDCWD, "/proc/self/fd/N", ..., AT_SYMLINK_FOLLOW).
  int tmp_fd = -1;
  if (old_path->empty() && (flags & AT_EMPTY_PATH)) {
    tmp_fd = olddirfd;
  } else if (flags & AT_SYMLINK_FOLLOW) {
    tmp_fd = c.MagicFdNumber(*old_path);
  }
  if (tmp_fd >= 0) {
    if (to_shm) return Errno(EXDEV);  // the private /dev/shm is a filesystem of its own
    auto target = c.FdTarget(tmp_fd);
    if (!target.ok()) return FromError(target.error());
    if (target->deleted_upper) {
      if (!to->has_value()) return Errno(EXDEV);
      const std::string& v = *(*to)->view;
      for (auto it = c.s.tmpfiles.begin(); it != c.s.tmpfiles.end(); ++it) {
        if (it->ino != target->ino) continue;
        c.s.index.MarkChanged(v);
        Status s = c.s.overlay->LinkTmpfile(it->fd.get(), (*to)->p.base, (*to)->p.path);
        if (s.ok()) c.s.tmpfiles.erase(it);
        return FromStatus(s);
      }
      return Errno(ENOENT);  // a deleted file that was not an O_TMPFILE of ours
    }
    if (old_path->empty()) {
      // linkat(fd, "", AT_EMPTY_PATH) of a named file: link its path.
      if (!target->view) {
        if (!to->has_value()) return c.Kernel();
        return Errno(EXDEV);
      }
      if (!to->has_value()) return Errno(EXDEV);
      c.s.index.MarkChanged(*target->view);
      c.s.index.MarkChanged(*(*to)->view);
      return FromStatus(c.s.overlay->Link(Base::Root(), target->view->empty() ? "." : *target->view,
                                          (*to)->p.base, (*to)->p.path, false));
    }
  }

  const bool follow = flags & AT_SYMLINK_FOLLOW;
  LocateOptions lo;
  lo.follow_final = follow;
  auto from = c.Locate(olddirfd, *old_path, lo);
  if (!from.ok()) return FromError(from.error());
  if (from->kind == ChildPath::Kind::kShm && to_shm) return LinkShm(c, *from, (*to)->p, follow);
  if (from->kind == ChildPath::Kind::kShm || to_shm) return Errno(EXDEV);
  std::optional<std::string> vf;
  if (from->kind == ChildPath::Kind::kView) {
    auto v = c.ViewPath(*from, follow);
    if (!v.ok()) return FromError(v.error());
    vf = std::move(*v);
  }
  if (!vf && !to->has_value()) return c.Kernel();
  if (!vf || !to->has_value()) return Errno(EXDEV);
  c.s.index.MarkChanged(*vf);  // the source is copied up to be linked
  c.s.index.MarkChanged(*(*to)->view);
  return FromStatus(
      c.s.overlay->Link(from->base, from->path, (*to)->p.base, (*to)->p.path, follow));
}

std::optional<Decision> HandleSymlink(Call& c, int target_arg, int newdirfd, int path_arg) {
  if (c.arg(target_arg) == 0) return Errno(EFAULT);
  auto target = ReadPathChecked(c.t, c.arg(target_arg));
  if (!target.ok()) return FromError(target.error());
  if (target->empty()) return Errno(ENOENT);
  auto w = LocateEntry(c, newdirfd, path_arg);
  if (!w.ok()) return FromError(w.error());
  if (!w->has_value()) return c.Kernel();
  const std::string& v = *(*w)->view;
  c.s.index.MarkChanged(v);
  c.s.RemeasureRecent();
  Status s = c.s.overlay->Symlink(*target, (*w)->p.base, (*w)->p.path);
  if (s.ok()) c.s.index.AddEntry(ParentOf(v), BaseNameOf(v), true);
  return FromStatus(s);
}

std::optional<Decision> HandleTruncate(Call& c, int path_arg, uint64_t length) {
  if (static_cast<int64_t>(length) < 0) return Errno(EINVAL);
  auto w = LocateEntry(c, AT_FDCWD, path_arg, /*follow=*/true);
  if (!w.ok()) return FromError(w.error());
  if (!w->has_value()) return c.Kernel();
  c.s.index.MarkChanged(*(*w)->view);
  c.s.RemeasureRecent();
  return FromStatus(c.s.overlay->Truncate((*w)->p.base, (*w)->p.path, static_cast<off_t>(length)));
}

}  // namespace sandtrace::cow
