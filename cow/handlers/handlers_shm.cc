// A private /dev/shm. POSIX shared memory and named semaphores live there
// (shm_open, sem_open: Python's multiprocessing locks and queues, many
// test runners), and Landlock keeps the child from writing it: the host's
// /dev/shm is shared with every process on the machine. So, as a mount
// namespace would, each run gets its own: a directory in the storage area
// (SessionState::shm_root) that the child reaches by the /dev/shm paths it
// uses (ChildPath::Kind::kShm, made by Locate). The supervisor makes the
// entries there and hands over the fds; what happens to the fds (ftruncate,
// mmap, read, write) is the kernel's. Handled by path: open, stat, access,
// unlink, link, rename, mkdir and rmdir within /dev/shm (what glibc's
// shm_open, shm_unlink, sem_open and sem_unlink do, what `ls /dev/shm` and
// `mktemp -d -p /dev/shm` need), and metadata changes (chmod, chown,
// utimes, xattrs) of its objects by path or fd; a
// link or rename between /dev/shm and elsewhere fails with EXDEV, as
// between two filesystems. A name the run's /dev/shm does not have is the
// kernel's, on the host's /dev/shm (reads work, as for any path Landlock
// lets the child read; writes are refused), and so is anything else on a
// /dev/shm path (symlink, mknod). The directory goes with the storage
// area.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cow/handlers/handlers.h"

namespace sandtrace::cow {

namespace {

// openat2 beneath the private directory, never through a symlink ("" is the
// directory itself).
Result<UniqueFd> OpenBeneath(const SessionState& s, const std::string& rel, int flags,
                             mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const char* p = rel.empty() ? "." : rel.c_str();
  long fd;
  do {
    fd = syscall(SYS_openat2, s.shm_fd.get(), p, &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0) return ErrnoError("open /dev/shm/" + rel);
  return UniqueFd(static_cast<int>(fd));
}

// The directory of `rel` (an O_PATH fd) and its last name.
Result<std::pair<UniqueFd, std::string>> ParentBeneath(const SessionState& s,
                                                       const std::string& rel) {
  const size_t slash = rel.find_last_of('/');
  std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return Err(EBUSY, "/dev/shm itself");
  auto dir = OpenBeneath(s, slash == std::string::npos ? "" : rel.substr(0, slash),
                         O_PATH | O_DIRECTORY, 0);
  if (!dir.ok()) return dir.error();
  return std::make_pair(std::move(*dir), std::move(name));
}

}  // namespace

std::optional<Decision> OpenShm(Call& c, const ChildPath& p, int flags, mode_t mode) {
  if (flags & O_CREAT) {
    auto um = c.Umask();
    if (!um.ok()) return FromError(um.error());
    mode &= ~*um;
  }
  // As for the view: an O_PATH open gets a read-only fd (ADDFD refuses O_PATH).
  int open_flags = flags & ~O_CLOEXEC;
  if (flags & O_PATH) open_flags = O_RDONLY | (flags & (O_DIRECTORY | O_NOFOLLOW));
  auto fd = OpenBeneath(c.s, p.path, open_flags, mode & 07777);
  if (!fd.ok() && fd.code() == ENOENT && !(flags & O_CREAT)) return c.Kernel();  // the host's
  if (!fd.ok()) return FromError(fd.error());
  InjectedFile what;
  what.root = FileRoot::kOutside;
  what.path = "/dev/shm" + (p.path.empty() ? std::string() : "/" + p.path);
  what.open_flags = open_flags | O_CLOEXEC;
  what.fd_flags = static_cast<uint32_t>(flags & O_CLOEXEC);
  return Decision::Inject(std::move(*fd), std::move(what));
}

Result<std::optional<struct statx>> StatShm(Call& c, const ChildPath& p, bool follow) {
  (void)follow;  // nothing there is a symlink
  struct statx stx {};
  if (p.path.empty()) return std::optional<struct statx>();  // /dev/shm itself: the host's
  auto fd = OpenBeneath(c.s, p.path, O_PATH, 0);
  if (!fd.ok() && fd.code() == ENOENT) return std::optional<struct statx>();  // the host's
  if (!fd.ok()) return fd.error();
  if (statx(fd->get(), "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &stx) != 0) {
    return ErrnoError("statx /dev/shm/" + p.path);
  }
  return std::optional<struct statx>(stx);
}

std::optional<Decision> AccessShm(Call& c, const ChildPath& p, int mode, int at_flags) {
  if (p.path.empty()) return c.Kernel();  // /dev/shm itself: the host's
  auto fd = OpenBeneath(c.s, p.path, O_PATH, 0);
  if (!fd.ok() && fd.code() == ENOENT) return c.Kernel();  // the host's
  if (!fd.ok()) return FromError(fd.error());
  if (faccessat(fd->get(), "", mode, AT_EMPTY_PATH | (at_flags & AT_EACCESS)) != 0) {
    return Errno(errno);
  }
  return Return(0);
}

std::optional<Decision> MkdirShm(Call& c, const ChildPath& p, mode_t mode) {
  auto where = ParentBeneath(c.s, p.path);
  if (!where.ok()) return where.code() == EBUSY ? Errno(EEXIST) : FromError(where.error());
  if (mkdirat(where->first.get(), where->second.c_str(), mode) != 0) return Errno(errno);
  return Return(0);
}

std::optional<Decision> UnlinkShm(Call& c, const ChildPath& p, int flags) {
  auto where = ParentBeneath(c.s, p.path);
  if (!where.ok()) return FromError(where.error());
  if (unlinkat(where->first.get(), where->second.c_str(), flags) != 0) {
    if (errno == ENOENT) return c.Kernel();  // the host's (Landlock refuses)
    return Errno(errno);
  }
  return Return(0);
}

std::optional<Decision> LinkShm(Call& c, const ChildPath& from, const ChildPath& to, bool follow) {
  (void)follow;  // nothing there is a symlink
  auto a = ParentBeneath(c.s, from.path);
  if (!a.ok()) return FromError(a.error());
  auto b = ParentBeneath(c.s, to.path);
  if (!b.ok()) return FromError(b.error());
  if (linkat(a->first.get(), a->second.c_str(), b->first.get(), b->second.c_str(), 0) != 0) {
    return Errno(errno);
  }
  return Return(0);
}

std::optional<Decision> RenameShm(Call& c, const ChildPath& from, const ChildPath& to,
                                  unsigned flags) {
  auto a = ParentBeneath(c.s, from.path);
  if (!a.ok()) return FromError(a.error());
  auto b = ParentBeneath(c.s, to.path);
  if (!b.ok()) return FromError(b.error());
  if (renameat2(a->first.get(), a->second.c_str(), b->first.get(), b->second.c_str(), flags) != 0) {
    return Errno(errno);
  }
  return Return(0);
}

}  // namespace sandtrace::cow
