// Metadata changes: chmod, fchmod, fchmodat, fchmodat2; chown, fchown,
// lchown, fchownat; utime, utimes, futimesat, utimensat; setxattr,
// lsetxattr, fsetxattr, removexattr, lremovexattr, fremovexattr,
// setxattrat, removexattrat; file_setattr; inode-flag ioctls.
//
// Landlock does not govern these, so none is ever CONTINUEd: inside the
// workdir the engine applies them to the upper layer; outside, the
// supervisor resolves the path itself (O_PATH, RESOLVE_NO_MAGICLINKS),
// checks that the object it holds is neither in the workdir (then the change
// goes to the view: an outside symlink pointing in) nor in the storage area,
// and that the child may write there (-w paths, its TMPDIR; else EACCES),
// and applies the change to that object. A path another thread rewrites
// after the check cannot redirect it.
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/fscrypt.h>
#include <linux/fsverity.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

#include "cow/fs_util.h"
#include "cow/handlers/handlers.h"
#include "tracer/core/kernel_abi.h"

namespace sandtrace::cow {

namespace {

Status ApplyView(Call& c, const Base& base, const std::string& path, bool follow,
                 const MetaOp& op) {
  Overlay& o = *c.s.overlay;
  switch (op.kind) {
    case MetaOp::kChmod:
      return o.Chmod(base, path, op.mode, follow);
    case MetaOp::kChown:
      return o.Chown(base, path, op.uid, op.gid, follow);
    case MetaOp::kUtimens:
      return o.Utimens(base, path, op.times_null ? nullptr : op.times, follow);
    case MetaOp::kSetXattr:
      return o.SetXattr(base, path, op.name, op.value, op.xflags, follow);
    case MetaOp::kRemoveXattr:
      return o.RemoveXattr(base, path, op.name, follow);
  }
  return Err(EINVAL, "meta op");
}

// Applies `op` to the object the supervisor holds as an O_PATH fd.
Status ApplyReal(int fd, const MetaOp& op) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return ErrnoError("fstat");
  const std::string proc = fs::ProcFdPath(fd);
  int rc = 0;
  switch (op.kind) {
    case MetaOp::kChmod:
      if (S_ISLNK(st.st_mode)) return Err(EOPNOTSUPP, "chmod of a symlink");
      rc = fchmodat(AT_FDCWD, proc.c_str(), op.mode, 0);
      break;
    case MetaOp::kChown:
      rc = fchownat(fd, "", op.uid, op.gid, AT_EMPTY_PATH);
      break;
    case MetaOp::kUtimens:
      rc = utimensat(fd, "", op.times_null ? nullptr : op.times, AT_EMPTY_PATH);
      if (rc != 0 && errno == EINVAL && !S_ISLNK(st.st_mode)) {
        rc = utimensat(AT_FDCWD, proc.c_str(), op.times_null ? nullptr : op.times, 0);
      }
      break;
    case MetaOp::kSetXattr:
      rc = setxattr(proc.c_str(), op.name.c_str(), op.value.data(), op.value.size(), op.xflags);
      break;
    case MetaOp::kRemoveXattr:
      rc = removexattr(proc.c_str(), op.name.c_str());
      break;
  }
  if (rc != 0) return ErrnoError("metadata change outside the workdir");
  return OkStatus();
}

// The change on an object outside the workdir as far as the handler can
// see: `abs_base` is the real directory the child's relative path starts
// from (or "/"), `path` the child's string (magic prefixes translated).
std::optional<Decision> ApplyOutside(Call& c, const std::string& abs_base, const std::string& path,
                                     bool follow, const MetaOp& op) {
  ++c.s.stats.outside_metadata;
  // Looked up and made through the seam (Tracee::HostCall): replay answers
  // from the trace and changes nothing of its host.
  const std::string full =
      !path.empty() && path[0] == '/' ? path : (abs_base == "/" ? "" : abs_base) + "/" + path;
  auto obj = ReachOutside(c, full, follow, /*create=*/false);
  if (!obj.ok()) return FromError(obj.error());
  const std::string& real = obj->real;
  // The run's own /dev/shm (handlers_shm.cc) is the child's to change (in
  // replay too: replay has its own).
  if (!c.s.shm_root.empty() && fs::PathWithin(real, c.s.shm_root)) {
    if (!obj->fd.valid()) {
      obj->fd = UniqueFd(open(real.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!obj->fd.valid()) return Errno(errno);
    }
    return FromStatus(ApplyReal(obj->fd.get(), op));
  }
  if (fs::PathWithin(real, c.s.storage_root)) return Errno(EACCES);
  if (fs::PathWithin(real, c.s.lower_root)) {
    // An outside name for a workdir object (a symlink pointing in): the
    // change belongs to the view.
    std::string view =
        real.size() == c.s.lower_root.size() ? "." : real.substr(c.s.lower_root.size() + 1);
    c.s.index.MarkChanged(view == "." ? "" : view);
    return FromStatus(ApplyView(c, Base::Root(), view, false, op));
  }
  // Landlock would refuse a write here; it does not govern metadata, so the
  // supervisor does.
  if (!obj->may_write) return Errno(EACCES);
  auto changed = c.t.HostCall(HostOp::kChange, full, static_cast<int64_t>(op.kind) + 1,
                              [&]() -> Result<std::string> {
                                Status st = ApplyReal(obj->fd.get(), op);
                                if (!st.ok()) return st.error();
                                return std::string();
                              });
  if (!changed.ok()) return FromError(changed.error());
  return Return(0);
}

}  // namespace

// The common route of every metadata change (fd_form: the object of fd
// `dirfd`; else the path at args[path_arg] relative to dirfd).
std::optional<Decision> ApplyMeta(Call& c, bool fd_form, int dirfd, int path_arg, bool follow,
                                  bool allow_empty, const MetaOp& op) {
  if (!fd_form) {
    auto raw = c.ReadPath(path_arg);
    if (!raw.ok()) return FromError(raw.error());
    if (raw->empty()) {
      if (!allow_empty) return Errno(ENOENT);
      if (dirfd != AT_FDCWD) {
        fd_form = true;
      } else {
        *raw = ".";
      }
    }
    if (!fd_form) {
      LocateOptions lo;
      lo.follow_final = follow;
      auto p = c.Locate(dirfd, *raw, lo);
      if (!p.ok()) return FromError(p.error());
      if (p->kind == ChildPath::Kind::kShm) {
        // An object of the run's own /dev/shm, else the host's (below).
        struct stat st {};
        const std::string rel = p->path.empty() ? "." : p->path;
        if (fstatat(c.s.shm_fd.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
          return ApplyOutside(c, c.s.shm_root, rel, follow, op);
        }
      }
      if (p->kind == ChildPath::Kind::kView) {
        auto v = c.ViewPath(*p, follow);
        if (!v.ok()) return FromError(v.error());
        if (v->has_value()) {
          c.s.index.MarkChanged(**v);
          return FromStatus(ApplyView(c, p->base, p->path, follow, op));
        }
        // Out through a symlink only the view has: its outside path.
        auto out = DetouredOutside(c, *p, follow);
        if (!out.ok()) return FromError(out.error());
        if (out->has_value()) return ApplyOutside(c, "/", **out, follow, op);
      }
      // Outside the workdir (as far as the view can tell).
      auto abs = c.ChildAbsolute(dirfd, *raw);
      if (!abs.ok()) return FromError(abs.error());
      if (!abs->has_value()) return Return(0);  // a pipe or a deleted object: nothing to reach
      return ApplyOutside(c, "/", **abs, follow, op);
    }
  }
  auto target = c.FdTarget(dirfd);
  if (!target.ok()) return FromError(target.error());
  if (target->view) {
    c.s.index.MarkChanged(*target->view);
    return FromStatus(
        ApplyView(c, Base::Root(), target->view->empty() ? "." : *target->view, false, op));
  }
  if (!target->reachable) return Return(0);  // pipe, socket, deleted file: not in any tree
  return ApplyOutside(c, "/", target->real, false, op);
}

std::optional<Decision> HandleChmod(Call& c, bool fd_form, int dirfd, int path_arg, uint64_t mode,
                                    uint64_t flags) {
  if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) return Errno(EINVAL);
  MetaOp op;
  op.kind = MetaOp::kChmod;
  op.mode = static_cast<mode_t>(mode) & 07777;
  return ApplyMeta(c, fd_form, dirfd, path_arg, !(flags & AT_SYMLINK_NOFOLLOW),
                   flags & AT_EMPTY_PATH, op);
}

std::optional<Decision> HandleChown(Call& c, bool fd_form, int dirfd, int path_arg, uint64_t uid,
                                    uint64_t gid, uint64_t flags) {
  if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) return Errno(EINVAL);
  MetaOp op;
  op.kind = MetaOp::kChown;
  op.uid = static_cast<uid_t>(uid);
  op.gid = static_cast<gid_t>(gid);
  return ApplyMeta(c, fd_form, dirfd, path_arg, !(flags & AT_SYMLINK_NOFOLLOW),
                   flags & AT_EMPTY_PATH, op);
}

std::optional<Decision> HandleUtimes(Call& c, TimesForm form, int dirfd, int path_arg,
                                     uint64_t times_addr, uint64_t flags) {
  if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) return Errno(EINVAL);
  MetaOp op;
  op.kind = MetaOp::kUtimens;
  op.times_null = times_addr == 0;
  if (!op.times_null) {
    if (form == TimesForm::kUtimbuf) {
      int64_t raw[2];
      if (Status s = ReadExactChecked(c.t, times_addr, std::as_writable_bytes(std::span(raw)));
          !s.ok()) {
        return FromError(s.error());
      }
      op.times[0] = {raw[0], 0};
      op.times[1] = {raw[1], 0};
    } else if (form == TimesForm::kTimeval) {
      struct timeval tv[2];
      if (Status s = ReadExactChecked(c.t, times_addr, std::as_writable_bytes(std::span(tv)));
          !s.ok()) {
        return FromError(s.error());
      }
      for (int i = 0; i < 2; ++i) {
        if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000) return Errno(EINVAL);
        op.times[i] = {tv[i].tv_sec, tv[i].tv_usec * 1000};
      }
    } else {
      if (Status s = ReadExactChecked(c.t, times_addr, std::as_writable_bytes(std::span(op.times)));
          !s.ok()) {
        return FromError(s.error());
      }
      for (const auto& ts : op.times) {
        if (ts.tv_nsec != UTIME_NOW && ts.tv_nsec != UTIME_OMIT &&
            (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)) {
          return Errno(EINVAL);
        }
      }
    }
  }
  const bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
  if (form == TimesForm::kTimespec && c.arg(path_arg) == 0) {
    // utimensat(fd, NULL, ...) is futimens(fd).
    if (dirfd == AT_FDCWD) return Errno(EFAULT);
    return ApplyMeta(c, true, dirfd, path_arg, follow, false, op);
  }
  return ApplyMeta(c, false, dirfd, path_arg, follow, flags & AT_EMPTY_PATH, op);
}

std::optional<Decision> HandleSetXattr(Call& c, const XattrForm& f, bool remove, uint64_t xflags) {
  MetaOp op;
  op.kind = remove ? MetaOp::kRemoveXattr : MetaOp::kSetXattr;
  if (xflags & ~uint64_t{XATTR_CREATE | XATTR_REPLACE}) return Errno(EINVAL);
  op.xflags = static_cast<int>(xflags);
  if (f.name_addr == 0) return Errno(EFAULT);
  auto name = c.t.ReadString(f.name_addr, XATTR_NAME_MAX + 1);
  if (!c.t.IdValid()) return Errno(EINTR);
  if (!name.ok()) return Errno(name.code() == ENAMETOOLONG ? ERANGE : name.code());
  if (name->empty()) return Errno(ERANGE);
  op.name = std::move(*name);
  if (!remove) {
    if (f.size > XATTR_SIZE_MAX) return Errno(E2BIG);
    op.value.resize(f.size);
    if (f.size > 0) {
      if (Status s =
              ReadExactChecked(c.t, f.value_addr,
                               std::as_writable_bytes(std::span(op.value.data(), op.value.size())));
          !s.ok()) {
        return FromError(s.error());
      }
    }
  }
  return ApplyMeta(c, f.fd_form, f.dirfd, f.path_arg, f.follow, f.allow_empty, op);
}

std::optional<Decision> HandleFileSetattr(Call& c) {
  // Inode flags (immutable, append-only, project ids): the engine has no
  // such state and Landlock does not govern them. Refused everywhere, so a
  // path rewritten after a check cannot reach the workdir.
  return Errno(EOPNOTSUPP);
}

namespace {

// The ioctl "type" byte (bits 8..15 of the command).
constexpr uint64_t kIoctlTypeMask = 0xff00;
constexpr uint64_t kIoctlCmdMask = 0xffffffff;  // the kernel truncates cmd to unsigned int

// The filesystem ioctl types: inode flags, fscrypt, fs-verity and ext4 ('f'),
// FS_IOC_[GS]ETVERSION ('v'), FS_IOC_FS[GS]ETXATTR, freeze/thaw/trim, XFS
// and shutdown ('X').
constexpr std::array<uint64_t, 3> kFsIoctlTypes = {uint64_t{'f'} << 8, uint64_t{'v'} << 8,
                                                   uint64_t{'X'} << 8};

// The read-only queries of those types: left to the kernel.
constexpr std::array<uint32_t, 13> kFsIoctlQueries = {
    FS_IOC_GETFLAGS,
    FS_IOC32_GETFLAGS,
    FS_IOC_GETVERSION,
    FS_IOC32_GETVERSION,
    FS_IOC_FSGETXATTR,
    FS_IOC_FIEMAP,
    FS_IOC_GET_ENCRYPTION_POLICY,
    FS_IOC_GET_ENCRYPTION_PWSALT,
    FS_IOC_GET_ENCRYPTION_POLICY_EX,
    FS_IOC_GET_ENCRYPTION_KEY_STATUS,
    FS_IOC_GET_ENCRYPTION_NONCE,
    FS_IOC_MEASURE_VERITY,
    FS_IOC_READ_VERITY_METADATA,
};

// btrfs (type 0x94) shares its type with FICLONE, FICLONERANGE and
// FIDEDUPERANGE, which every cp tries and which need a writable destination
// fd (never a lower file): so only its commands that change a file, a
// subvolume or the filesystem are notified, by number.
constexpr std::array<uint32_t, 33> kBtrfsMutators = {
    BTRFS_IOC_SNAP_CREATE,     BTRFS_IOC_DEFRAG,
    BTRFS_IOC_RESIZE,          BTRFS_IOC_SCAN_DEV,
    BTRFS_IOC_FORGET_DEV,      BTRFS_IOC_TRANS_START,
    BTRFS_IOC_TRANS_END,       BTRFS_IOC_ADD_DEV,
    BTRFS_IOC_RM_DEV,          BTRFS_IOC_BALANCE,
    BTRFS_IOC_SUBVOL_CREATE,   BTRFS_IOC_SNAP_DESTROY,
    BTRFS_IOC_DEFRAG_RANGE,    BTRFS_IOC_DEFAULT_SUBVOL,
    BTRFS_IOC_SNAP_CREATE_V2,  BTRFS_IOC_SUBVOL_CREATE_V2,
    BTRFS_IOC_SUBVOL_SETFLAGS, BTRFS_IOC_SCRUB,
    BTRFS_IOC_SCRUB_CANCEL,    BTRFS_IOC_BALANCE_V2,
    BTRFS_IOC_BALANCE_CTL,     BTRFS_IOC_SET_RECEIVED_SUBVOL,
    BTRFS_IOC_QUOTA_CTL,       BTRFS_IOC_QGROUP_ASSIGN,
    BTRFS_IOC_QGROUP_CREATE,   BTRFS_IOC_QGROUP_LIMIT,
    BTRFS_IOC_QUOTA_RESCAN,    BTRFS_IOC_SET_FSLABEL,
    BTRFS_IOC_DEV_REPLACE,     BTRFS_IOC_SET_FEATURES,
    BTRFS_IOC_RM_DEV_V2,       BTRFS_IOC_SNAP_DESTROY_V2,
    BTRFS_IOC_ENCODED_WRITE,
};

bool IsFsIoctlType(uint32_t cmd) {
  return std::find(kFsIoctlTypes.begin(), kFsIoctlTypes.end(), cmd & kIoctlTypeMask) !=
         kFsIoctlTypes.end();
}

}  // namespace

NotifyWhen IoctlNotifyWhen() {
  NotifyWhen when;
  for (uint64_t type : kFsIoctlTypes) when.push_back(ArgMatch{1, kIoctlTypeMask, type});
  for (uint32_t cmd : kBtrfsMutators) when.push_back(ArgMatch{1, kIoctlCmdMask, cmd});
  return when;
}

std::optional<Decision> HandleIoctl(Call& c) {
  // Filesystem ioctls change inodes, subvolumes or the filesystem through
  // any fd, even a read-only one (chattr, fs-verity, fscrypt policies, btrfs
  // subvolumes, freeze): Landlock does not govern them and the sandbox does
  // not emulate them, so each is refused, wherever its fd points; their
  // read-only queries go to the kernel. The filter notifies only these
  // (IoctlNotifyWhen); anything else that reaches here (a trace recorded with
  // every ioctl notified) is the kernel's.
  const uint32_t cmd = static_cast<uint32_t>(c.arg(1));
  const bool fs_type = IsFsIoctlType(cmd);
  const bool btrfs_mutator =
      std::find(kBtrfsMutators.begin(), kBtrfsMutators.end(), cmd) != kBtrfsMutators.end();
  if (!fs_type && !btrfs_mutator) return c.Kernel();
  if (std::find(kFsIoctlQueries.begin(), kFsIoctlQueries.end(), cmd) != kFsIoctlQueries.end()) {
    return c.Kernel();
  }
  return Errno(EOPNOTSUPP);
}

}  // namespace sandtrace::cow
