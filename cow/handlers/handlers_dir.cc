// getdents64, getdents; chdir, fchdir, getcwd.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "cow/handlers/handlers.h"
#include "tracer/core/kernel_abi.h"

namespace sandtrace::cow {

namespace {

size_t Align8(size_t n) { return (n + 7) & ~size_t{7}; }

// Appends one record; false if it does not fit in `limit`.
bool PackDirent64(std::vector<std::byte>& out, size_t limit, const DirEntry& e) {
  const size_t reclen = Align8(offsetof(struct dirent64, d_name) + e.name.size() + 1);
  if (out.size() + reclen > limit) return false;
  size_t at = out.size();
  out.resize(at + reclen);
  struct dirent64 d {};
  d.d_ino = e.ino;
  d.d_off = static_cast<int64_t>(e.off);
  d.d_reclen = static_cast<unsigned short>(reclen);
  d.d_type = DirentType(e.type);
  std::memcpy(out.data() + at, &d, offsetof(struct dirent64, d_name));
  std::memcpy(out.data() + at + offsetof(struct dirent64, d_name), e.name.data(), e.name.size());
  return true;
}

// The legacy getdents record (kabi::LinuxDirent): d_type is the last byte.
bool PackDirent(std::vector<std::byte>& out, size_t limit, const DirEntry& e) {
  const size_t reclen = Align8(offsetof(kabi::LinuxDirent, d_name) + e.name.size() + 2);
  if (out.size() + reclen > limit) return false;
  size_t at = out.size();
  out.resize(at + reclen);
  kabi::LinuxDirent d{};
  d.d_ino = e.ino;
  d.d_off = e.off;
  d.d_reclen = static_cast<unsigned short>(reclen);
  std::memcpy(out.data() + at, &d, offsetof(kabi::LinuxDirent, d_name));
  std::memcpy(out.data() + at + offsetof(kabi::LinuxDirent, d_name), e.name.data(), e.name.size());
  out[at + reclen - 1] = static_cast<std::byte>(DirentType(e.type));
  return true;
}

}  // namespace

std::optional<Decision> HandleGetdents(Call& c, bool legacy) {
  if (c.Pristine()) return c.PristineContinue();
  const int fd = static_cast<int>(c.arg(0));
  const uint64_t buf = c.arg(1);
  const size_t count = static_cast<size_t>(std::min<uint64_t>(c.arg(2), 1 << 20));
  auto target = c.FdTarget(fd);
  if (!target.ok() || !target->view) return c.Kernel();  // EBADF, outside, not a directory...
  const std::string& view = *target->view;
  // The kernel's listing of this real directory is the view's, except, for
  // an upper one, the inode numbers when the view shows the workdir's
  // st_dev (unify_device: upper inodes get kUpperInoBit, as stat shows them).
  if (target->lower ? c.s.index.Clean(view)
                    : c.s.index.IsOpaque(view) && !c.s.overlay->unify_device()) {
    return c.FastContinue();
  }
  ++c.s.stats.engine;
  auto pos = c.t.SeekFd(fd, 0, SEEK_CUR);
  if (!pos.ok()) {
    if (pos.code() == ESRCH) return FromError(pos.error());
    c.s.Warn(
        "directory listings of changed directories come from the lower layer: the Tracee "
        "cannot set file offsets (" +
        pos.error().Message() + ")");
    return c.Kernel();
  }
  auto list = c.s.overlay->ListDir(Base::Root(), view.empty() ? "." : view);
  if (!list.ok()) {
    if (list.code() == ENOENT || list.code() == ENOTDIR) return Return(0);  // gone from the view
    return FromError(list.error());
  }
  const int64_t p = *pos;
  auto at = std::lower_bound(list->begin(), list->end(), static_cast<uint64_t>(p),
                             [](const DirEntry& e, uint64_t v) { return e.off < v; });
  const bool ours = p == 0 || p == 1 || p == 2 || c.s.served_positions.count(p) ||
                    (at != list->end() && at->off == static_cast<uint64_t>(p));
  if (!ours) {
    // The kernel served this open file description before the directory
    // changed: it goes on listing the lower (see the design note).
    return c.Kernel();
  }
  std::vector<std::byte> out;
  out.reserve(std::min<size_t>(count, 64 * 1024));
  uint64_t last = 0;
  for (const DirEntry& e : *list) {
    if (p > 0 && e.off <= static_cast<uint64_t>(p)) continue;
    bool fit = legacy ? PackDirent(out, count, e) : PackDirent64(out, count, e);
    if (!fit) break;
    last = e.off;
  }
  if (out.empty()) {
    bool more = std::any_of(list->begin(), list->end(), [p](const DirEntry& e) {
      return p == 0 || e.off > static_cast<uint64_t>(p);
    });
    return more ? Errno(EINVAL) : Return(0);
  }
  if (Status s = c.Write(buf, out); !s.ok()) return Errno(EFAULT);
  auto set = c.t.SeekFd(fd, static_cast<int64_t>(last), SEEK_SET);
  if (!set.ok()) return FromError(set.error());
  c.s.NoteServedPosition(static_cast<int64_t>(last));
  ++c.s.stats.getdents_served;
  return Return(static_cast<int64_t>(out.size()));
}

std::optional<Decision> HandleChdir(Call& c) {
  if (c.Pristine()) return c.PristineContinue();
  auto path = c.ReadPath(0);
  if (!path.ok()) return FromError(path.error());
  const bool absolute = !path->empty() && (*path)[0] == '/';
  const bool had_virtual = c.s.procs.VirtualCwd(c.tgid) != nullptr;
  auto p = c.Locate(AT_FDCWD, *path);
  if (!p.ok()) return FromError(p.error());
  // Out of the workdir by a relative path from a directory made in the run:
  // the kernel's cwd is elsewhere, so the call is restarted with the
  // absolute path the child's string leads to (a copy under its stack).
  auto leave = [&](const std::string& outside) -> std::optional<Decision> {
    if (c.after_restart || outside.empty() || outside[0] != '/') {
      c.s.Warn(
          "cannot leave the workdir from a directory that exists only in the sandbox "
          "(chdir '" +
          *path + "'): use an absolute path");
      return Errno(EXDEV);
    }
    auto copy = WriteRestartCopy(c, outside);
    if (!copy.ok()) return FromError(copy.error());
    return Decision::Restart(0, *copy, EXDEV);
  };
  if (p->kind != ChildPath::Kind::kView) {
    // Outside: the kernel can go there if it resolves the same string.
    if (absolute || !had_virtual) {
      c.s.procs.ClearVirtualCwd(c.tgid);
      return c.Kernel();
    }
    return leave(p->outside_path);
  }
  bool kernel_ok = p->kernel_equivalent;
  ++c.s.stats.engine;
  auto r = c.s.overlay->Resolve(p->base, p->path);
  if (!r.ok()) return FromError(r.error());
  if (r->outside) {
    if (absolute || !had_virtual) {
      c.s.procs.ClearVirtualCwd(c.tgid);
      return c.Kernel();
    }
    // The kernel's cwd is not the virtual one; it cannot walk this string.
    return leave(r->outside_path);
  }
  if (!r->exists) return Errno(ENOENT);
  if (r->type != FileType::kDirectory) return Errno(ENOTDIR);
  if (Status s = c.s.overlay->Access(p->base, p->path, X_OK); !s.ok()) return FromError(s.error());
  if (!p->view) kernel_ok = r->kernel_equivalent;
  if (kernel_ok) {
    // The kernel lands on the lower directory that stands for this one.
    c.s.procs.ClearVirtualCwd(c.tgid);
    return c.Kernel();
  }
  if (c.tgid <= 0) {
    c.s.Warn("cannot change into '" + *path +
             "' (it exists only in the sandbox): the Tracee cannot identify processes");
    return Errno(ENOSYS);
  }
  c.s.procs.SetVirtualCwd(c.tgid, r->path);
  ++c.s.stats.virtual_chdirs;
  return Return(0);
}

std::optional<Decision> HandleFchdir(Call& c) {
  // The kernel moves the real cwd to the fd's directory (lower or upper:
  // both map back into the view), which ends a virtual cwd.
  if (c.s.procs.VirtualCwd(c.tgid) != nullptr) {
    auto target = c.FdTarget(static_cast<int>(c.arg(0)));
    if (target.ok() && target->reachable) c.s.procs.ClearVirtualCwd(c.tgid);
  }
  return c.Kernel();
}

std::optional<Decision> HandleGetcwd(Call& c) {
  const uint64_t buf = c.arg(0);
  const uint64_t size = c.arg(1);
  std::string cwd;
  if (const std::string* v = c.s.procs.VirtualCwd(c.tgid)) {
    if (c.s.procs.VirtualCwdRemoved(c.tgid)) return Errno(ENOENT);  // as for a deleted cwd
    cwd = c.s.lower_root + (v->empty() ? "" : "/" + *v);
  } else {
    if (c.Pristine()) return c.PristineContinue();
    auto link = c.t.ReadProcLink(ProcLink::kCwd, 0);
    if (!link.ok()) return FromError(link.error());
    if (c.RealCwdRemoved(*link)) return Errno(ENOENT);
    auto view = c.s.overlay->ViewPathOf(*link);
    const std::string& up = c.s.upper_root;
    const bool in_upper = link->size() >= up.size() && link->compare(0, up.size(), up) == 0 &&
                          (link->size() == up.size() || (*link)[up.size()] == '/');
    if (!in_upper || !view) return c.Kernel();  // the kernel's answer is the view's
    cwd = c.s.lower_root + (view->empty() ? "" : "/" + *view);
  }
  if (cwd.size() + 1 > size) return Errno(ERANGE);
  cwd.push_back('\0');
  if (Status s = c.Write(buf, std::as_bytes(std::span(cwd.data(), cwd.size()))); !s.ok()) {
    return Errno(EFAULT);
  }
  return Return(static_cast<int64_t>(cwd.size()));
}

}  // namespace sandtrace::cow
