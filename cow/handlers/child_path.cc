// Call: reading a path argument and deciding where it leads (the cheap
// lexical walk, /proc magic links, cwd and dirfd bases).
#include <fcntl.h>
#include <linux/limits.h>

#include <cstring>

#include "cow/fs_util.h"
#include "cow/handlers/handlers.h"

namespace sandtrace::cow {

namespace {

// The part of `path` after `root` ("" for root itself), no leading slash.
std::string_view RestAfter(std::string_view path, std::string_view root) {
  if (root == "/") return path.substr(1);
  std::string_view rest = path.substr(root.size());
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  return rest;
}

bool HasDotDot(std::string_view path) {
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (path.substr(pos, end - pos) == "..") return true;
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return false;
}

constexpr std::string_view kDeleted = " (deleted)";

bool IsDeletedLink(std::string_view s) {
  return s.size() > kDeleted.size() && s.substr(s.size() - kDeleted.size()) == kDeleted;
}

// Parses a decimal fd number; -1 if not one.
int ParseFd(std::string_view s) {
  if (s.empty() || s.size() > 9) return -1;
  int v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return -1;
    v = v * 10 + (ch - '0');
  }
  return v;
}

// Where `dir` (an absolute directory: the host's /dev/shm or beneath it,
// or the run's own /dev/shm or beneath it) is in the run's own /dev/shm,
// relative to it; nullopt when it is neither, or when it is a place the
// child may write for real (a -w path, its TMPDIR).
std::optional<std::string_view> RunShmDir(const SessionState& s, std::string_view dir) {
  if (!s.shm_fd.valid()) return std::nullopt;
  if (fs::PathWithin(dir, s.shm_root)) return RestAfter(dir, s.shm_root);
  if (fs::PathWithin(dir, "/dev/shm") && !s.OutsideWritable(std::string(dir))) {
    return RestAfter(dir, "/dev/shm");
  }
  return std::nullopt;
}

// A path of the run's own /dev/shm (ChildPath::Kind::kShm); its users are
// no longer pristine (reads of /dev/shm go through Locate from now on).
ChildPath RunShmPath(SessionState& s, std::string path) {
  s.shm_used = true;
  ChildPath p;
  p.kind = ChildPath::Kind::kShm;
  p.path = std::move(path);
  return p;
}

}  // namespace

bool PlainRelative(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    if (comp.empty() || comp == "." || comp == "..") return false;
    start = end + 1;
  }
  return true;
}

std::optional<Decision> FromError(const Error& e) {
  if (e.code == ESRCH) return Decision::Errno(EINTR);  // the notification is gone
  if (e.code <= 0 || e.code > 4095) return Decision::Errno(EIO);
  return Decision::Errno(e.code);
}

std::optional<Decision> FromStatus(const Status& s) {
  if (s.ok()) return Decision::Return(0);
  return FromError(s.error());
}

Call::Call(SessionState& state, const Notification& notification, Tracee& tracee)
    : s(state), n(notification), t(tracee) {
  tgid = s.procs.Observe(n.tid, t);
}

Result<std::string> Call::ReadPath(int i) {
  if (n.args[i] == 0) return Err(EFAULT, "NULL path");
  return ReadPathChecked(t, n.args[i]);
}

Result<mode_t> Call::Umask() {
  if (const mode_t* m = s.procs.Umask(tgid)) return *m;
  auto m = t.ReadUmask();
  if (m.ok()) s.procs.SetUmask(tgid, *m);
  return m;
}

Status Call::Write(uint64_t addr, std::span<const std::byte> bytes) {
  if (bytes.empty()) return OkStatus();
  auto w = t.WriteMemory(addr, bytes);
  if (!w.ok() || *w != bytes.size()) return Err(EFAULT, "write child memory");
  return OkStatus();
}

Result<Call::FdBase> Call::BaseOfFd(int fd) {
  FdBase out;
  if (fd == AT_FDCWD) {
    if (const std::string* v = s.procs.VirtualCwd(tgid)) {
      out.base = Base::View(*v);
      out.base.real_is_upper = true;  // the kernel's cwd is elsewhere
      out.kernel = KernelBase::kNone;
      out.real = s.lower_root + (v->empty() ? "" : "/" + *v);
      return out;
    }
  }
  auto link =
      fd == AT_FDCWD ? t.ReadProcLink(ProcLink::kCwd, 0) : t.ReadProcLink(ProcLink::kFd, fd);
  if (!link.ok()) {
    if (link.code() == ENOENT) return Err(EBADF, "no such fd");
    return link.error();
  }
  out.real = std::move(*link);
  if (out.real.empty() || out.real[0] != '/' || IsDeletedLink(out.real)) {
    out.usable = false;
    return out;
  }
  if (fs::PathWithin(out.real, s.upper_root)) {
    out.base = Base::View(std::string(RestAfter(out.real, s.upper_root)));
    out.base.real_is_upper = true;
    out.kernel = KernelBase::kUpper;
  } else if (fs::PathWithin(out.real, s.lower_root)) {
    out.base = Base::View(std::string(RestAfter(out.real, s.lower_root)));
    out.kernel = KernelBase::kLower;
  } else {
    out.base = Base::Outside(out.real);
    out.kernel = KernelBase::kLower;
  }
  return out;
}

Call::Magic Call::ParseMagic(std::string_view v) const {
  Magic m;
  std::string_view after;
  if (v.substr(0, 6) == "/proc/") {
    std::string_view rest = v.substr(6);
    size_t slash = rest.find('/');
    std::string_view who = rest.substr(0, slash);
    int pid = ParseFd(who);
    if (!(who == "self" || who == "thread-self" ||
          (pid > 0 && (static_cast<uint32_t>(pid) == n.tid || pid == tgid)))) {
      return m;
    }
    if (slash == std::string_view::npos) return m;  // /proc/self itself: an ordinary symlink
    after = rest.substr(slash + 1);
  } else if (s.dev_fd_is_proc && v.substr(0, 8) == "/dev/fd/") {
    after = v.substr(5);  // "fd/N..."
  } else if (s.dev_fd_is_proc && v.substr(0, 5) == "/dev/") {
    std::string_view name = v.substr(5);
    int fd = -1;
    size_t len = 0;
    for (auto [std_name, n_fd] :
         {std::pair<std::string_view, int>{"stdin", 0}, {"stdout", 1}, {"stderr", 2}}) {
      if (name.substr(0, std_name.size()) == std_name &&
          (name.size() == std_name.size() || name[std_name.size()] == '/')) {
        fd = n_fd;
        len = std_name.size();
      }
    }
    if (fd < 0) return m;
    m.kind = Magic::kLink;
    m.which = ProcLink::kFd;
    m.fd = fd;
    m.rest = std::string(name.substr(len));
    return m;
  } else {
    return m;
  }
  // after = "cwd[/rest]", "root[/rest]", "exe[/rest]", "fd/N[/rest]", or
  // another entry (status, maps...), which is no link into the workdir.
  m.kind = Magic::kOther;
  size_t slash = after.find('/');
  std::string_view first = after.substr(0, slash);
  std::string_view tail = slash == std::string_view::npos ? "" : after.substr(slash);
  if (first == "cwd" || first == "root" || first == "exe") {
    m.which = first == "cwd" ? ProcLink::kCwd : first == "root" ? ProcLink::kRoot : ProcLink::kExe;
    m.rest = std::string(tail);
    m.kind = Magic::kLink;
  } else if (first == "fd" && tail.size() > 1) {
    std::string_view num = tail.substr(1);
    size_t s2 = num.find('/');
    int fd = ParseFd(num.substr(0, s2));
    if (fd < 0) return m;
    m.which = ProcLink::kFd;
    m.fd = fd;
    m.rest = s2 == std::string_view::npos ? "" : std::string(num.substr(s2));
    m.kind = Magic::kLink;
  }
  return m;
}

int Call::MagicFdNumber(std::string_view path) const {
  Magic m = ParseMagic(path);
  return m.kind == Magic::kLink && m.which == ProcLink::kFd && m.rest.empty() ? m.fd : -1;
}

Result<Call::MagicLink> Call::ExactMagicLink(std::string_view path) {
  MagicLink out;
  Magic m = ParseMagic(path);
  if (m.kind != Magic::kLink || !m.rest.empty()) return out;
  out.magic = true;
  if (m.which == ProcLink::kCwd) {
    if (const std::string* v = s.procs.VirtualCwd(tgid)) {
      out.rewritten = true;
      out.target = s.lower_root + (v->empty() ? "" : "/" + *v);
      if (s.procs.VirtualCwdRemoved(tgid)) out.target += kDeleted;
      return out;
    }
  }
  auto link = t.ReadProcLink(m.which, m.fd);
  if (!link.ok()) {
    if (link.code() == ENOENT) return out;  // the kernel says ENOENT too
    return link.error();
  }
  if (m.which == ProcLink::kCwd && RealCwdRemoved(*link)) {
    out.rewritten = true;
    out.target = *link + std::string(kDeleted);
    return out;
  }
  if (fs::PathWithin(*link, s.upper_root)) {
    std::string_view r = RestAfter(*link, s.upper_root);
    out.rewritten = true;
    out.target = s.lower_root + (r.empty() ? "" : "/" + std::string(r));
  } else if (auto fifo = s.overlay->FifoLinkView(*link)) {
    // A FIFO the child opened by its link (Overlay::Open): its view path.
    out.rewritten = true;
    out.target = s.lower_root + (fifo->empty() ? "" : "/" + *fifo);
  }
  return out;
}

Result<Call::FdTargetInfo> Call::FdTarget(int fd) {
  FdTargetInfo out;
  auto link = t.ReadProcLink(ProcLink::kFd, fd);
  if (!link.ok()) {
    if (link.code() == ENOENT) return Err(EBADF, "no such fd");
    return link.error();
  }
  out.real = std::move(*link);
  if (out.real.empty() || out.real[0] != '/') return out;
  if (IsDeletedLink(out.real)) {
    std::string_view p = std::string_view(out.real).substr(0, out.real.size() - kDeleted.size());
    if (fs::PathWithin(p, s.upper_root)) {
      out.deleted_upper = true;
      std::string_view name = p.substr(p.rfind('/') + 1);
      if (name.size() > 1 && name[0] == '#') {
        for (char ch : name.substr(1)) {
          if (ch < '0' || ch > '9') {
            out.ino = 0;
            break;
          }
          out.ino = out.ino * 10 + static_cast<uint64_t>(ch - '0');
        }
      }
    }
    return out;
  }
  out.reachable = true;
  if (fs::PathWithin(out.real, s.upper_root)) {
    out.view = std::string(RestAfter(out.real, s.upper_root));
  } else if (fs::PathWithin(out.real, s.lower_root)) {
    out.view = std::string(RestAfter(out.real, s.lower_root));
    out.lower = true;
  }
  return out;
}

Result<std::optional<std::string>> Call::ChildAbsolute(int dirfd, const std::string& path) {
  using Out = std::optional<std::string>;
  if (!path.empty() && path[0] == '/') {
    Magic m = ParseMagic(path);
    if (m.kind != Magic::kLink) return Out(path);
    std::string target;
    if (m.which == ProcLink::kCwd && s.procs.VirtualCwdRemoved(tgid)) return Out();  // deleted
    if (m.which == ProcLink::kCwd && s.procs.VirtualCwd(tgid) != nullptr) {
      const std::string& vc = *s.procs.VirtualCwd(tgid);
      target = s.lower_root + (vc.empty() ? "" : "/" + vc);
    } else {
      auto link = t.ReadProcLink(m.which, m.fd);
      if (!link.ok())
        return link.code() == ENOENT ? Result<Out>(Err(ENOENT, "no such fd")) : link.error();
      target = std::move(*link);
    }
    if (target.empty() || target[0] != '/' || IsDeletedLink(target)) return Out();
    return Out(target + m.rest);
  }
  auto fb = BaseOfFd(dirfd);
  if (!fb.ok()) return fb.error();
  if (!fb->usable) return Err(ENOTDIR, "dirfd");
  return Out(fb->real + "/" + path);
}

Result<ChildPath> Call::LocateArg(int path_arg, int dirfd, const LocateOptions& o) {
  auto p = ReadPath(path_arg);
  if (!p.ok()) return p.error();
  return Locate(dirfd, std::move(*p), o);
}

Result<ChildPath> Call::Locate(int dirfd, std::string path, const LocateOptions& o) {
  if (path.empty()) {
    if (!o.allow_empty) return Err(ENOENT, "empty path");
    ChildPath p;
    if (dirfd == AT_FDCWD) {
      // The cwd itself: "." through the usual route (a virtual cwd matters).
      return Locate(dirfd, ".", o);
    }
    p.kind = ChildPath::Kind::kFd;
    p.fd = dirfd;
    return p;
  }
  if (path.size() >= PATH_MAX) return Err(ENAMETOOLONG, "path");
  if (path[0] == '/') return LocateAbsolute(std::move(path), o);
  if (dirfd == AT_FDCWD && s.procs.VirtualCwdRemoved(tgid)) return FromRemovedCwd(path, o);

  auto fb = BaseOfFd(dirfd);
  if (!fb.ok()) return fb.error();
  if (dirfd == AT_FDCWD && fb->kernel == KernelBase::kLower && RealCwdRemoved(fb->real)) {
    return FromRemovedCwd(path, o);
  }
  if (!fb->usable) {
    ChildPath p;  // a pipe, a socket, a deleted directory: the kernel answers
    p.kind = ChildPath::Kind::kKernel;
    return p;
  }
  if (fb->base.outside && PlainRelative(path)) {
    // Relative to a directory of the run's own /dev/shm (rm -r there), or
    // to the host's /dev/shm as the cwd (cd /dev/shm && touch x): the run's.
    if (auto dir = RunShmDir(s, fb->real)) {
      return RunShmPath(s, dir->empty() ? path : std::string(*dir) + "/" + path);
    }
  }
  if (fb->base.outside) {
    ChildPath p;
    // From outside, plain names lead into the workdir when the cwd is one of
    // its ancestors (`cd .. && cat w/f`): then the path is the absolute one
    // they spell. Otherwise only ".." can lead (lexically) into the
    // workdir; a symlink outside can too, and then the kernel and Landlock
    // decide, as for any path that is outside as far as the engine can see.
    if (!HasDotDot(path)) {
      std::string full = (fb->real == "/" ? "" : fb->real) + "/" + path;
      // The cwd's path is the recording machine's in replay (it is outside
      // the mapped directories): so is the workdir it is compared with.
      const std::string& workdir = s.recorded_workdir.empty() ? s.lower_root : s.recorded_workdir;
      if (fs::PathWithin(workdir, fb->real)) {
        std::string normal = fs::NormalAbsolute(full);
        if (fs::PathWithin(normal, workdir)) {
          std::string abs = s.lower_root + normal.substr(workdir.size());
          if (path.back() == '/' && abs.back() != '/') abs += '/';  // "w/f/" must be a directory
          return LocateAbsolute(std::move(abs), o);
        }
      }
      p.outside_path = std::move(full);
      return p;
    }
    p.kind = ChildPath::Kind::kView;
    p.base = fb->base;
    p.path = std::move(path);
    return p;
  }
  return Walk(fb->base, fb->kernel, std::move(path), o);
}

bool Call::RealCwdRemoved(const std::string& link) {
  if (s.removed_lower_dirs.empty() || tgid <= 0 || !fs::PathWithin(link, s.lower_root)) {
    return false;
  }
  std::string view(RestAfter(link, s.lower_root));
  if (!s.removed_lower_dirs.contains(view)) return false;
  s.procs.SetVirtualCwd(tgid, std::move(view), /*removed=*/true);
  return true;
}

Result<ChildPath> Call::FromRemovedCwd(std::string_view path, const LocateOptions& o) {
  // As the kernel walks from a deleted directory: "." stays in it, ".."
  // leaves it for the directory it was removed from, and every name fails.
  // That directory may be gone too (rm -rf of the cwd's parent): then the
  // same holds for it.
  std::string dir = *s.procs.VirtualCwd(tgid);
  bool removed = true;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view comp = path.substr(0, slash);
    if (comp == "..") {
      if (!removed) break;  // a live directory from here on: the usual walk does the rest
      size_t cut = dir.rfind('/');
      dir = cut == std::string::npos ? "" : dir.substr(0, cut);
      ++s.stats.engine;
      auto r = s.overlay->Resolve(Base::Root(), dir.empty() ? "." : dir);
      removed = r.ok() && !r->exists;
    } else if (!comp.empty() && comp != ".") {
      if (removed) return Err(ENOENT, "a name in a removed directory");
      break;
    }
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  if (removed) return Err(ENOENT, "the removed cwd itself");
  Base base = Base::View(dir);
  base.real_is_upper = true;  // the kernel's cwd is elsewhere
  return Walk(base, KernelBase::kNone, path.empty() ? std::string(".") : std::string(path), o);
}

Result<ChildPath> Call::LocateAbsolute(std::string path, const LocateOptions& o) {
  // Most paths are normal already: no copy on the hot path.
  if (path.find("//") != std::string::npos || path.find("/./") != std::string::npos) {
    path = fs::NormalAbsolute(path);
  }
  Magic m = ParseMagic(path);
  if (m.kind == Magic::kOther) return ChildPath{};  // /proc/self/status...: the kernel's
  if (m.kind == Magic::kLink) {
    std::string target;
    bool via_vcwd = false;
    bool removed_cwd = m.which == ProcLink::kCwd && s.procs.VirtualCwdRemoved(tgid);
    if (removed_cwd) {
      // Handled below, with a real cwd found removed.
    } else if (m.which == ProcLink::kCwd && s.procs.VirtualCwd(tgid) != nullptr) {
      const std::string& vc = *s.procs.VirtualCwd(tgid);
      target = s.lower_root + (vc.empty() ? "" : "/" + vc);
      via_vcwd = true;
    } else {
      auto link = t.ReadProcLink(m.which, m.fd);
      if (!link.ok()) {
        // No such fd: the kernel answers ENOENT the same way.
        if (link.code() == ENOENT) return ChildPath{};
        return link.error();
      }
      target = std::move(*link);
      removed_cwd = m.which == ProcLink::kCwd && RealCwdRemoved(target);
    }
    if (removed_cwd) {
      // "/proc/self/cwd/..." from a removed cwd; the link itself is a
      // deleted directory's (readlink is answered by ExactMagicLink).
      if (m.rest.empty()) return Err(ENOENT, "the removed cwd itself");
      return FromRemovedCwd(std::string_view(m.rest).substr(1), o);
    }
    if (target.empty() || target[0] != '/' || IsDeletedLink(target)) return ChildPath{};
    const bool into_upper = fs::PathWithin(target, s.upper_root);
    std::string mapped = target;
    if (into_upper) {
      std::string_view r = RestAfter(target, s.upper_root);
      mapped = s.lower_root + (r.empty() ? "" : "/" + std::string(r));
    }
    std::string full = mapped + m.rest;
    if (!fs::PathWithin(mapped, s.lower_root)) return LocateAbsolute(std::move(full), o);
    std::string_view view_rest = RestAfter(full, s.lower_root);
    auto walked =
        Walk(Base::Root(), !into_upper && !via_vcwd ? KernelBase::kLower : KernelBase::kNone,
             std::string(view_rest.empty() ? "." : view_rest), o);
    if (!walked.ok()) return walked;
    if (into_upper && m.rest.empty()) walked->kernel_real = target;
    return walked;
  }

  if (fs::PathWithin(path, s.lower_root)) {
    std::string_view rest = RestAfter(path, s.lower_root);
    std::string rel(rest.empty() ? "." : rest);
    if (path.back() == '/' && !rel.empty() && rel.back() != '/') rel += '/';
    return Walk(Base::Root(), KernelBase::kLower, std::move(rel), o);
  }
  if (fs::PathWithin(path, s.storage_root)) {
    // The storage area (upper layer included) is not part of the view: the
    // kernel answers, and Landlock keeps it read-only.
    return ChildPath{};
  }
  // The run's own /dev/shm. Plain names only: ".", ".." and doubled
  // slashes are the kernel's (it refuses the writes).
  if (auto rest = RunShmDir(s, path); rest && (rest->empty() || PlainRelative(*rest))) {
    return RunShmPath(s, std::string(*rest));
  }
  ChildPath p;
  if (HasDotDot(path)) {
    // "/elsewhere/../workdir/x": the engine follows it lexically.
    p.kind = ChildPath::Kind::kView;
    p.base = Base::Root();
    p.path = std::move(path);
  }
  return p;
}

Result<ChildPath> Call::Walk(Base base, KernelBase kernel, std::string original,
                             const LocateOptions& o) {
  ChildPath p;
  p.kind = ChildPath::Kind::kView;
  p.base = base;
  p.path = original;
  if (HasDotDot(original)) return p;  // the engine handles ".."

  const bool must_dir = !original.empty() && original.back() == '/';
  // Split into components.
  std::vector<std::string_view> comps;
  std::string_view rest = original;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view c = rest.substr(0, slash);
    if (!c.empty() && c != ".") comps.push_back(c);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::string dir = base.view;
  // From a real upper directory the kernel sees the view only inside
  // opaque directories (made by mkdir in this run: no lower beneath them).
  // (Not once some upper file shows its lower original's identity: the
  // kernel would show the upper inode.)
  bool upper_ok =
      kernel == KernelBase::kUpper && s.index.IsOpaque(dir) && !s.overlay->HasIdentityOverrides();
  for (size_t i = 0; i < comps.size(); ++i) {
    const bool last = i + 1 == comps.size();
    if (!last || o.follow_final || must_dir) {
      ViewIndex::Entry e = s.index.Lookup(dir, comps[i]);
      if (e == ViewIndex::Entry::kUnknown) {
        // Learn the directory's symlinks from the engine's merged listing
        // (once per directory; kept current by the handlers).
        auto list = s.overlay->ListDir(Base::Root(), dir.empty() ? "." : dir);
        if (!list.ok()) return p;  // missing or not a directory: the engine decides
        std::vector<std::string> links;
        for (const DirEntry& de : *list) {
          if (de.type == FileType::kSymlink) links.push_back(de.name);
        }
        s.index.SetListing(dir, std::move(links));
        e = s.index.Lookup(dir, comps[i]);
      }
      if (e == ViewIndex::Entry::kSymlink) return p;
    }
    dir = JoinView(dir, comps[i]);
    if (!last && upper_ok) upper_ok = s.index.IsOpaque(dir);
  }
  p.view = dir;
  p.kernel_equivalent = kernel == KernelBase::kLower ? !s.index.SubtreeDirty(dir) : upper_ok;
  p.final_object_dirty = s.index.ObjectDirty(dir) && !s.index.IsOpaque(dir);
  return p;
}

Result<std::optional<std::string>> Call::ViewPath(const ChildPath& p, bool follow_final) {
  if (p.kind != ChildPath::Kind::kView) return std::optional<std::string>();
  if (p.view) return p.view;
  ResolveOptions ro;
  ro.follow_final = follow_final;
  auto r = s.overlay->Resolve(p.base, p.path, ro);
  if (!r.ok()) return r.error();
  if (r->outside) return std::optional<std::string>();
  return std::optional<std::string>(r->path);
}

}  // namespace sandtrace::cow
