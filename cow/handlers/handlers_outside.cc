// Objects outside the workdir that the child reaches through the view but
// not by the kernel's own walk of its string: a symlink made (or changed)
// in this run that points out of the workdir, as `python3 -m venv` makes
// venv/bin/python3 -> /usr/bin/python3. The kernel would look the string
// up in the untouched workdir and not find the symlink, so CONTINUE is
// wrong; the supervisor reaches the object by the engine's outside path
// and answers for the child, under the policy Landlock gives the child
// (reads where it may read, writes where it may write: -r/-w, its TMPDIR).
//
// Every look at the host goes through Tracee::HostCall (stat, access,
// readlink, where an open lands, the open itself), so a trace records what
// the recording machine had and replay decides the same anywhere: an open
// is then answered with a stand-in file of the recorded description (the
// recording machine's outside files, its private TMPDIR, may not exist
// where the trace is replayed).
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "cow/fs_util.h"
#include "cow/handlers/handlers.h"
#include "tracer/core/kernel_abi.h"

namespace sandtrace::cow {

namespace {

// openat2 without magic links (a /proc/<pid>/fd/N in the outside path must
// not hand the supervisor someone else's file).
Result<UniqueFd> OpenHost(int dirfd, const std::string& path, uint64_t flags, mode_t mode = 0) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
  if (fd < 0) return ErrnoError("open " + path);
  return UniqueFd(static_cast<int>(fd));
}

Result<std::string> RealOf(int fd) {
  char buf[PATH_MAX];
  std::string link = fs::ProcFdPath(fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return Err(EIO, "readlink " + link);
  return std::string(buf, static_cast<size_t>(n));
}

// Where the object the child's open reaches really is, and an O_PATH fd of
// it (or of its directory when it does not exist yet and O_CREAT asks for
// it: then `name` is the entry to create there).
struct Target {
  UniqueFd fd;
  std::string real;  // canonical path of the object (or of the entry to create)
  std::string name;  // non-empty: create `name` in directory `fd`
};

Result<Target> Reach(const std::string& path, bool follow, bool create) {
  Target t;
  auto obj = OpenHost(AT_FDCWD, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
  if (obj.ok()) {
    auto real = RealOf(obj->get());
    if (!real.ok()) return real.error();
    t.fd = std::move(*obj);
    t.real = std::move(*real);
    return t;
  }
  if (obj.code() != ENOENT || !create) return obj.error();
  size_t slash = path.find_last_of('/');
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  t.name = path.substr(slash + 1);
  if (t.name.empty() || t.name == "." || t.name == "..") return Err(ENOENT, path);
  auto d = OpenHost(AT_FDCWD, dir, O_PATH | O_DIRECTORY);
  if (!d.ok()) return d.error();
  auto real = RealOf(d->get());
  if (!real.ok()) return real.error();
  t.fd = std::move(*d);
  t.real = (*real == "/" ? "" : *real) + "/" + t.name;
  return t;
}

}  // namespace

Result<std::optional<std::string>> DetouredOutside(Call& c, const ChildPath& p, bool follow) {
  if (p.kind != ChildPath::Kind::kView) return std::optional<std::string>();
  ResolveOptions ro;
  ro.follow_final = follow;
  auto r = c.s.overlay->Resolve(p.base, p.path, ro);
  if (!r.ok()) return r.error();
  if (!r->outside || r->kernel_equivalent) return std::optional<std::string>();
  ++c.s.stats.detoured;
  return std::optional<std::string>(r->outside_path);
}

Result<struct statx> StatOutside(Call& c, const std::string& path, bool follow) {
  auto r = c.t.HostCall(HostOp::kStat, path, follow ? 1 : 0, [&]() -> Result<std::string> {
    struct statx stx {};
    if (statx(AT_FDCWD, path.c_str(), follow ? 0 : AT_SYMLINK_NOFOLLOW,
              STATX_BASIC_STATS | STATX_BTIME, &stx) != 0) {
      return ErrnoError("statx " + path);
    }
    return std::string(reinterpret_cast<const char*>(&stx), sizeof stx);
  });
  if (!r.ok()) return r.error();
  struct statx stx {};
  if (r->size() != sizeof stx) return Err(EIO, "statx " + path + ": a short answer");
  std::memcpy(&stx, r->data(), sizeof stx);
  return stx;
}

Result<ReachedOutside> ReachOutside(Call& c, const std::string& path, bool follow, bool create) {
  ReachedOutside out;
  const int64_t arg = (follow ? 1 : 0) | (create ? 2 : 0);
  auto r = c.t.HostCall(HostOp::kReach, path, arg, [&]() -> Result<std::string> {
    auto t = Reach(path, follow, create);
    if (!t.ok()) return t.error();
    out.fd = std::move(t->fd);
    // What the run's policy lets the child do there depends on this
    // machine too (the -r and -w paths as they resolve here, the private
    // TMPDIR): it is part of the answer.
    std::string access;
    if (c.s.OutsideReadable(t->real)) access += 'r';
    if (c.s.OutsideWritable(t->real)) access += 'w';
    return t->real + '\0' + t->name + '\0' + access;
  });
  if (!r.ok()) return r.error();
  const size_t nul = r->find('\0');
  const size_t nul2 = nul == std::string::npos ? nul : r->find('\0', nul + 1);
  if (nul2 == std::string::npos) return Err(EIO, "reach " + path + ": a malformed answer");
  out.real = r->substr(0, nul);
  out.name = r->substr(nul + 1, nul2 - nul - 1);
  const std::string_view access = std::string_view(*r).substr(nul2 + 1);
  out.may_read = access.find('r') != std::string_view::npos;
  out.may_write = access.find('w') != std::string_view::npos;
  return out;
}

namespace {

// What HostCall(kOpen) left behind, or (replay) a stand-in.
Result<UniqueFd> OpenedOrStandIn(UniqueFd opened) {
  if (opened.valid()) return opened;
  UniqueFd standin(memfd_create("sandtrace-outside", MFD_CLOEXEC));
  if (!standin.valid()) return ErrnoError("memfd_create");
  return standin;
}

}  // namespace

std::optional<Decision> OpenOutside(Call& c, const std::string& path, int flags, mode_t mode,
                                    bool follow) {
  const bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) ||
                      (flags & O_TMPFILE) == O_TMPFILE;
  mode_t umask = 0;
  if (flags & O_CREAT) {
    auto um = c.Umask();
    if (!um.ok()) return FromError(um.error());
    umask = *um;
  }
  // ADDFD cannot install an O_PATH file: a read-only fd of the object does
  // what an O_PATH fd does (as for the view's own O_PATH opens).
  int open_flags = flags & ~(O_CLOEXEC | O_NOFOLLOW);
  if (flags & O_PATH) open_flags = O_RDONLY | (flags & O_DIRECTORY);
  InjectedFile what;
  what.root = FileRoot::kOutside;
  what.path = path;  // the engine's outside path: the same wherever the trace is replayed
  what.open_flags = open_flags | O_CLOEXEC;
  what.fd_flags = static_cast<uint32_t>(flags & O_CLOEXEC);
  auto t = ReachOutside(c, path, follow, (flags & O_CREAT) != 0);
  if (!t.ok()) return FromError(t.error());
  if (t->name.empty() && (flags & O_CREAT) && (flags & O_EXCL)) return Errno(EEXIST);
  if (fs::PathWithin(t->real, c.s.storage_root)) return Errno(EACCES);
  if (fs::PathWithin(t->real, c.s.lower_root)) {
    // Out of the workdir and back in through a symlink outside it: the
    // engine cannot follow that way (it reads nothing outside its roots).
    c.s.Warn("'" + path + "' leads back into the workdir through a symlink outside it: refused");
    return Errno(EACCES);
  }
  if (writes ? !t->may_write : !t->may_read) return Errno(EACCES);
  UniqueFd opened;
  auto o = c.t.HostCall(HostOp::kOpen, path, open_flags, [&]() -> Result<std::string> {
    if (!t->name.empty()) {
      auto fd = OpenHost(t->fd.get(), t->name, static_cast<uint64_t>(open_flags | O_NOFOLLOW),
                         mode & ~umask & 07777);
      if (!fd.ok()) return fd.error();
      opened = std::move(*fd);
    } else {
      // Reopen the very object that was checked (not the path again).
      std::string self = fs::ProcFdPath(t->fd.get());
      int r = open(self.c_str(), (open_flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
      if (r < 0) return ErrnoError("reopen " + path);
      opened = UniqueFd(r);
    }
    return std::string();
  });
  if (!o.ok()) return FromError(o.error());
  auto fd = OpenedOrStandIn(std::move(opened));
  if (!fd.ok()) return FromError(fd.error());
  return Decision::Inject(std::move(*fd), std::move(what));
}

void NoteOutsideWrite(Call& c, const std::string& raw) {
  if (raw.empty() || raw[0] != '/') return;  // relative: not judged
  const std::string path = fs::NormalAbsolute(raw);
  for (const char* free : {"/dev/", "/proc/", "/sys/"}) {
    if (path.compare(0, std::strlen(free), free) == 0) return;
  }
  if (c.s.OutsideWritable(path)) return;
  if (c.s.stats.outside_writes++ == 0) c.s.stats.first_outside_write = raw;
}

void NoteOutsideWrite(Call& c, const ChildPath& p, const std::string& path) {
  NoteOutsideWrite(c, !path.empty() && path[0] == '/' ? path : p.outside_path);
}

std::optional<Decision> OpenHostTmpfile(Call& c, const std::string& path, int flags, mode_t mode) {
  if ((flags & O_TMPFILE) != O_TMPFILE) return std::nullopt;
  std::string dir = fs::NormalAbsolute(path);
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir != "/tmp" && dir != "/var/tmp") return std::nullopt;
  // Decided from the child's string and the run's -w paths only, so that
  // replay decides the same on any machine.
  if (c.s.OutsideWritable(dir)) return std::nullopt;
  auto um = c.Umask();
  if (!um.ok()) return FromError(um.error());
  const int open_flags = flags & ~(O_CLOEXEC | O_NOFOLLOW);
  InjectedFile what;
  what.root = FileRoot::kOutside;
  what.path = path;
  what.open_flags = open_flags | O_CLOEXEC;
  what.fd_flags = static_cast<uint32_t>(flags & O_CLOEXEC);
  ++c.s.stats.host_tmpfiles;
  if (!c.s.apply_outside_metadata) {  // replay: a stand-in, see above
    UniqueFd placeholder(memfd_create("sandtrace-outside", MFD_CLOEXEC));
    if (!placeholder.valid()) return Errno(errno);
    return Decision::Inject(std::move(placeholder), std::move(what));
  }
  // Anonymous until linked, so where it lives is invisible to the child,
  // except that linking it into /tmp fails (EACCES, as any write there).
  auto fd = OpenHost(AT_FDCWD, c.s.storage_root + "/work", static_cast<uint64_t>(open_flags),
                     mode & ~*um & 07777);
  if (!fd.ok()) return FromError(fd.error());
  return Decision::Inject(std::move(*fd), std::move(what));
}

Result<OpenedFile> OpenOutsideForExec(Call& c, const std::string& path) {
  OpenedFile f;
  f.layer = Layer::kNone;
  f.layer_path = path;
  f.open_flags = O_RDONLY | O_CLOEXEC;
  auto t = ReachOutside(c, path, /*follow=*/true, /*create=*/false);
  if (!t.ok()) return t.error();
  if (fs::PathWithin(t->real, c.s.storage_root) || fs::PathWithin(t->real, c.s.lower_root)) {
    return Err(EACCES, "outside path leads back into the sandbox");
  }
  if (!t->may_read) return Err(EACCES, "not readable for the child");
  UniqueFd opened;
  auto o = c.t.HostCall(HostOp::kOpen, path, f.open_flags, [&]() -> Result<std::string> {
    struct stat st {};
    if (fstat(t->fd.get(), &st) != 0) return ErrnoError("fstat");
    if (!S_ISREG(st.st_mode)) return Err(EACCES, "not a regular file");
    if (faccessat(t->fd.get(), "", X_OK, AT_EMPTY_PATH | AT_EACCESS) != 0) {
      return ErrnoError("not executable");
    }
    std::string self = fs::ProcFdPath(t->fd.get());
    int fd = open(self.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open for exec");
    opened = UniqueFd(fd);
    return std::string();
  });
  if (!o.ok()) return o.error();
  auto fd = OpenedOrStandIn(std::move(opened));
  if (!fd.ok()) return fd.error();
  f.fd = std::move(*fd);
  return f;
}

}  // namespace sandtrace::cow
