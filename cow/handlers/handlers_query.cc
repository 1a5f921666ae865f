// stat, lstat, newfstatat, statx; access, faccessat, faccessat2; readlink,
// readlinkat; getxattr & listxattr (path, l-, f- and *at forms);
// file_getattr.
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include "cow/handlers/handlers.h"
#include "tracer/core/kernel_abi.h"

namespace sandtrace::cow {

namespace {

// The kernel's struct stat for x86_64 is glibc's (same layout).
static_assert(sizeof(struct stat) == 144, "x86_64 struct stat");

struct stat StatOf(const struct statx& stx) {
  struct stat st {};
  st.st_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  st.st_ino = stx.stx_ino;
  st.st_mode = stx.stx_mode;
  st.st_nlink = stx.stx_nlink;
  st.st_uid = stx.stx_uid;
  st.st_gid = stx.stx_gid;
  st.st_rdev = makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
  st.st_size = static_cast<off_t>(stx.stx_size);
  st.st_blksize = stx.stx_blksize;
  st.st_blocks = static_cast<blkcnt_t>(stx.stx_blocks);
  st.st_atim = {stx.stx_atime.tv_sec, stx.stx_atime.tv_nsec};
  st.st_mtim = {stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec};
  st.st_ctim = {stx.stx_ctime.tv_sec, stx.stx_ctime.tv_nsec};
  return st;
}

// Writes a byte string the way readlink/getxattr/listxattr return one.
std::optional<Decision> ReturnBytes(Call& c, std::string_view bytes, uint64_t buf, uint64_t size,
                                    bool truncate_ok) {
  if (size == 0 && !truncate_ok) return Return(static_cast<int64_t>(bytes.size()));
  size_t n = bytes.size();
  if (n > size) {
    if (!truncate_ok) return Errno(ERANGE);
    n = size;
  }
  if (Status s = c.Write(buf, std::as_bytes(std::span(bytes.data(), n))); !s.ok()) {
    return Errno(EFAULT);
  }
  return Return(static_cast<int64_t>(n));
}

// The xattr name at `addr`: ERANGE if longer than XATTR_NAME_MAX or empty.
Result<std::string> ReadXattrName(Call& c, uint64_t addr) {
  if (addr == 0) return Err(EFAULT, "NULL xattr name");
  auto name = c.t.ReadString(addr, XATTR_NAME_MAX + 1);
  if (!c.t.IdValid()) return Err(ESRCH, "gone");
  if (!name.ok()) return name.code() == ENAMETOOLONG ? Err(ERANGE, "xattr name") : name.error();
  if (name->empty()) return Err(ERANGE, "empty xattr name");
  return name;
}

}  // namespace

// ---- stat family --------------------------------------------------------------------

namespace {

// Writes the answer in the form the syscall asked for.
std::optional<Decision> WriteStat(Call& c, const StatForm& f, const struct statx& stx) {
  if (f.statx) {
    struct statx out = stx;
    out.stx_mask &= (STATX_BASIC_STATS | STATX_BTIME);
    if (Status s = c.Write(f.buf, std::as_bytes(std::span(&out, 1))); !s.ok()) return Errno(EFAULT);
  } else {
    struct stat st = StatOf(stx);
    if (Status s = c.Write(f.buf, std::as_bytes(std::span(&st, 1))); !s.ok()) return Errno(EFAULT);
  }
  return Return(0);
}

}  // namespace

std::optional<Decision> HandleStat(Call& c, const StatForm& f) {
  // fstat is newfstatat(fd, "", AT_EMPTY_PATH) since glibc 2.33: counted
  // by the arguments alone, as a filter could test them.
  if ((f.at_flags & AT_EMPTY_PATH) && f.dirfd >= 0) ++c.s.stats.empty_path;
  if (c.Pristine()) return c.PristineContinue();
  auto path = c.ReadPath(f.path_arg);
  if (!path.ok()) {
    // statx(fd, NULL, AT_EMPTY_PATH) is allowed since Linux 6.11.
    if (path.code() == EFAULT && c.arg(f.path_arg) == 0 && (f.at_flags & AT_EMPTY_PATH)) {
      return c.Kernel();
    }
    return FromError(path.error());
  }
  LocateOptions lo;
  lo.follow_final = !(f.at_flags & AT_SYMLINK_NOFOLLOW) && f.follow;
  lo.allow_empty = f.at_flags & AT_EMPTY_PATH;
  if (path->empty() && lo.allow_empty && f.dirfd != AT_FDCWD) {
    // fstat: the kernel's answer, unless the fd is an upper file that shows
    // its lower original's identity in the view (Overlay::Statx), which
    // stat by path shows too (cp compares the two).
    if (!c.s.overlay->HasIdentityOverrides()) return c.Kernel();
    auto t = c.FdTarget(f.dirfd);
    if (!t.ok()) return FromError(t.error());
    if (!t->view || t->lower || t->deleted_upper) return c.Kernel();
    ++c.s.stats.engine;
    auto stx = c.s.overlay->Statx(Base::Root(), t->view->empty() ? "." : *t->view, false);
    if (!stx.ok()) return c.Kernel();
    return WriteStat(c, f, *stx);
  }
  auto p = c.Locate(f.dirfd, *path, lo);
  if (!p.ok()) return FromError(p.error());
  if (p->kind == ChildPath::Kind::kShm) {
    auto stx = StatShm(c, *p, lo.follow_final);
    if (!stx.ok()) return FromError(stx.error());
    if (!stx->has_value()) return c.Kernel();
    return WriteStat(c, f, **stx);
  }
  if (p->kind != ChildPath::Kind::kView) return c.Kernel();
  if (p->kernel_equivalent && !p->final_object_dirty) return c.FastContinue();
  ++c.s.stats.engine;
  auto stx = c.s.overlay->Statx(p->base, p->path, lo.follow_final);
  if (!stx.ok() && stx.code() == EXDEV) {
    auto out = DetouredOutside(c, *p, lo.follow_final);
    if (!out.ok()) return FromError(out.error());
    if (!out->has_value()) return c.Kernel();
    stx = StatOutside(c, **out, lo.follow_final);
    if (!stx.ok()) return FromError(stx.error());
    return WriteStat(c, f, *stx);
  }
  if (!stx.ok()) return FromError(stx.error());
  if (S_ISDIR(stx->stx_mode)) {
    // A directory that also exists at the same path in the lower has the
    // lower's identity (it is what the child gets when it opens it).
    auto view = c.ViewPath(*p, lo.follow_final);
    if (view.ok() && view->has_value() && !c.s.index.IsOpaque(**view)) {
      auto low = c.s.LowerDirAt(**view, true);
      struct stat lst {};
      if (low.ok() && fstat(low->get(), &lst) == 0) {
        stx->stx_dev_major = major(lst.st_dev);
        stx->stx_dev_minor = minor(lst.st_dev);
        stx->stx_ino = lst.st_ino;
      }
      if (stx->stx_nlink == 1) {
        // A merged directory: the engine does not count its links; the
        // kernel's count is 2 + its subdirectories.
        auto list = c.s.overlay->ListDir(Base::Root(), view->value().empty() ? "." : **view);
        if (list.ok()) {
          uint32_t dirs = 0;
          for (const DirEntry& e : *list) {
            if (e.type == FileType::kDirectory && e.name != "." && e.name != "..") ++dirs;
          }
          stx->stx_nlink = 2 + dirs;
        }
      }
    }
  }
  return WriteStat(c, f, *stx);
}

// ---- access -------------------------------------------------------------------------------

std::optional<Decision> HandleAccess(Call& c, int dirfd, int path_arg, uint64_t mode,
                                     uint64_t at_flags) {
  if (mode & ~uint64_t{R_OK | W_OK | X_OK}) return Errno(EINVAL);
  if (c.Pristine()) return c.PristineContinue();
  auto path = c.ReadPath(path_arg);
  if (!path.ok()) return FromError(path.error());
  LocateOptions lo;
  lo.follow_final = !(at_flags & AT_SYMLINK_NOFOLLOW);
  lo.allow_empty = at_flags & AT_EMPTY_PATH;
  if (path->empty() && lo.allow_empty && dirfd != AT_FDCWD) return c.Kernel();
  auto p = c.Locate(dirfd, *path, lo);
  if (!p.ok()) return FromError(p.error());
  if (p->kind == ChildPath::Kind::kShm) {
    return AccessShm(c, *p, static_cast<int>(mode), static_cast<int>(at_flags));
  }
  if (p->kind != ChildPath::Kind::kView) return c.Kernel();
  if (p->kernel_equivalent && !p->final_object_dirty) return c.FastContinue();
  ++c.s.stats.engine;
  Status s = c.s.overlay->Access(p->base, p->path, static_cast<int>(mode), lo.follow_final);
  if (!s.ok() && s.code() == EXDEV) {
    auto out = DetouredOutside(c, *p, lo.follow_final);
    if (!out.ok()) return FromError(out.error());
    if (!out->has_value()) return c.Kernel();
    const int flags = (lo.follow_final ? 0 : AT_SYMLINK_NOFOLLOW) | (at_flags & AT_EACCESS);
    const std::string& where = **out;
    auto r = c.t.HostCall(HostOp::kAccess, where, static_cast<int64_t>(mode) | flags,
                          [&]() -> Result<std::string> {
                            if (faccessat(AT_FDCWD, where.c_str(), static_cast<int>(mode), flags)) {
                              return ErrnoError("faccessat " + where);
                            }
                            return std::string();
                          });
    if (!r.ok()) return FromError(r.error());
    return Return(0);
  }
  return FromStatus(s);
}

// ---- readlink -----------------------------------------------------------------------------

std::optional<Decision> HandleReadlink(Call& c, int dirfd, int path_arg, uint64_t buf,
                                       uint64_t size) {
  if (static_cast<int64_t>(size) <= 0) return Errno(EINVAL);
  if (c.Pristine()) return c.PristineContinue();
  auto path = c.ReadPath(path_arg);
  if (!path.ok()) return FromError(path.error());
  // A magic link itself (/proc/self/cwd, /proc/self/fd/N, /proc/self/exe):
  // its target, with the storage area shown as the workdir.
  auto magic = c.ExactMagicLink(*path);
  if (!magic.ok()) return FromError(magic.error());
  if (magic->magic) {
    if (!magic->rewritten) return c.Kernel();
    return ReturnBytes(c, magic->target, buf, size, true);
  }
  LocateOptions lo;
  lo.follow_final = false;
  lo.allow_empty = true;
  auto p = c.Locate(dirfd, *path, lo);
  if (!p.ok()) return FromError(p.error());
  if (p->kind != ChildPath::Kind::kView) return c.Kernel();
  if (p->kernel_equivalent) return c.FastContinue();
  ++c.s.stats.engine;
  auto target = c.s.overlay->Readlink(p->base, p->path);
  if (!target.ok() && target.code() == EXDEV) {
    auto out = DetouredOutside(c, *p, false);
    if (!out.ok()) return FromError(out.error());
    if (!out->has_value()) return c.Kernel();
    const std::string& where = **out;
    target = c.t.HostCall(HostOp::kReadlink, where, 0, [&]() -> Result<std::string> {
      char link[PATH_MAX];
      ssize_t n = readlink(where.c_str(), link, sizeof link);
      if (n < 0) return ErrnoError("readlink " + where);
      return std::string(link, static_cast<size_t>(n));
    });
  }
  if (!target.ok()) return FromError(target.error());
  return ReturnBytes(c, *target, buf, size, true);
}

// ---- inotify_add_watch -------------------------------------------------------------------

std::optional<Decision> HandleInotifyAddWatch(Call& c) {
  // The kernel watches what it finds by the child's string: the workdir's
  // own objects. One made or changed in the run lives in the upper layer,
  // which the child cannot name: the watch goes there, in the child's own
  // inotify instance, and reports what the run does to it.
  if (c.Pristine()) return c.PristineContinue();
  const uint32_t mask = static_cast<uint32_t>(c.arg(2));
  auto path = c.ReadPath(1);
  if (!path.ok()) return FromError(path.error());
  LocateOptions lo;
  lo.follow_final = !(mask & IN_DONT_FOLLOW);
  auto p = c.Locate(AT_FDCWD, *path, lo);
  if (!p.ok()) return FromError(p.error());
  if (p->kind != ChildPath::Kind::kView) return c.Kernel();
  if (p->kernel_equivalent && !p->final_object_dirty) return c.FastContinue();
  ++c.s.stats.engine;
  ResolveOptions ro;
  ro.follow_final = lo.follow_final;
  auto r = c.s.overlay->Resolve(p->base, p->path, ro);
  if (!r.ok()) return FromError(r.error());
  if (r->outside || (r->kernel_equivalent && r->layer != Layer::kUpper)) return c.Kernel();
  if (!r->exists) return Errno(ENOENT);
  if ((mask & IN_ONLYDIR) && r->type != FileType::kDirectory) return Errno(ENOTDIR);
  auto wd = c.t.AddWatch(static_cast<int>(c.arg(0)), r->real_path, mask);
  if (!wd.ok()) return FromError(wd.error());
  return Return(*wd);
}

// ---- xattrs (read side) -------------------------------------------------------------------

std::optional<Decision> HandleGetXattr(Call& c, const XattrForm& f) {
  if (c.Pristine()) return c.PristineContinue();
  std::string name;
  if (!f.list) {
    auto n = ReadXattrName(c, f.name_addr);
    if (!n.ok()) return FromError(n.error());
    name = std::move(*n);
  }
  Base base;
  std::string path;
  if (f.fd_form) {
    auto target = c.FdTarget(f.dirfd);
    if (!target.ok()) return FromError(target.error());
    if (!target->view) return c.Kernel();
    if (target->lower && c.s.index.Clean(*target->view)) return c.FastContinue();
    base = Base::Root();
    path = target->view->empty() ? "." : *target->view;
  } else {
    auto raw = c.ReadPath(f.path_arg);
    if (!raw.ok()) return FromError(raw.error());
    LocateOptions lo;
    lo.follow_final = f.follow;
    lo.allow_empty = f.allow_empty;
    if (raw->empty() && f.allow_empty && f.dirfd != AT_FDCWD) return c.Kernel();
    auto p = c.Locate(f.dirfd, *raw, lo);
    if (!p.ok()) return FromError(p.error());
    if (p->kind != ChildPath::Kind::kView) return c.Kernel();
    if (p->kernel_equivalent && !p->final_object_dirty) return c.FastContinue();
    base = p->base;
    path = p->path;
  }
  ++c.s.stats.engine;
  if (f.list) {
    auto names = c.s.overlay->ListXattr(base, path, f.follow || f.fd_form);
    if (!names.ok()) {
      if (names.code() == EXDEV) return c.Kernel();
      return FromError(names.error());
    }
    std::string joined;
    for (const auto& one : *names) {
      joined += one;
      joined.push_back('\0');
    }
    return ReturnBytes(c, joined, f.value_addr, f.size, false);
  }
  auto value = c.s.overlay->GetXattr(base, path, name, f.follow || f.fd_form);
  if (!value.ok()) {
    if (value.code() == EXDEV) return c.Kernel();
    return FromError(value.error());
  }
  return ReturnBytes(c, *value, f.value_addr, f.size, false);
}

// ---- file_getattr ----------------------------------------------------------------------------

std::optional<Decision> HandleFileGetattr(Call& c) {
  // Read-only: the kernel answers for untouched objects; the engine has no
  // inode flags for changed ones.
  if (c.Pristine()) return c.PristineContinue();
  LocateOptions lo;
  lo.follow_final = !(c.arg(4) & AT_SYMLINK_NOFOLLOW);
  lo.allow_empty = c.arg(4) & AT_EMPTY_PATH;
  auto p = c.LocateArg(1, c.dirfd_arg(0), lo);
  if (!p.ok()) return FromError(p.error());
  if (p->kind != ChildPath::Kind::kView) return c.Kernel();
  if (p->kernel_equivalent && !p->final_object_dirty) return c.FastContinue();
  return Errno(EOPNOTSUPP);
}

}  // namespace sandtrace::cow
