// The Tracee seam (DESIGN.md §2): the only way a handler reaches the child.
//
// A Tracee is bound to one notification (its tid and id). Live, it is the
// kernel (process_vm_readv or /proc/<tid>/mem, SECCOMP_IOCTL_NOTIF_ID_VALID,
// readlink of /proc/<tid>/...), wrapped by the recorder, which logs every
// call and its result in order. In replay, a RecordedTracee serves those
// results back and fails the event if the handler asks for anything else, or
// in another order. So a handler must call these, and nothing else, to learn
// about the child, and must call them deterministically.
//
// TOCTOU: the child (or another thread of it) may change its memory right
// after a read. Handlers must call IdValid() after reading and before using
// what they read (ReadPathChecked does both), and must never CONTINUE a
// mutating operation on the workdir based on what they read.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "tracer/base/result.h"
#include "tracer/core/notification.h"

namespace sandtrace {

// The /proc/<tid>/... magic links a handler may read.
enum class ProcLink : uint8_t {
  kCwd,   // /proc/<tid>/cwd
  kFd,    // /proc/<tid>/fd/<fd>
  kRoot,  // /proc/<tid>/root
  kExe,   // /proc/<tid>/exe
};

// A handler's own call on the host, outside the workdir (Tracee::HostCall).
enum class HostOp : uint8_t {
  kStat,      // statx of the path
  kAccess,    // faccessat of the path
  kReadlink,  // readlink of the path
  kReach,     // where an open or a metadata change of the path lands
  kOpen,      // the open of what kReach found (replay: a stand-in file)
  kChange,    // a metadata change of what kReach found (replay: not made)
};

// The process a thread belongs to (Tracee::ReadProcIds).
struct ProcIds {
  pid_t tgid = 0;           // thread group (process) id
  pid_t ppid = 0;           // parent process id
  uint64_t start_time = 0;  // the process's start, clock ticks since boot
                            // (/proc/<tgid>/stat field 22): tells a reused
                            // pid from the process that had it before
};

class Tracee {
 public:
  virtual ~Tracee() = default;

  // Reads up to out.size() bytes at `addr` in the child. Returns the number
  // of bytes read (possibly fewer at the end of a mapping), or EFAULT/ESRCH.
  virtual Result<size_t> ReadMemory(uint64_t addr, std::span<std::byte> out) = 0;

  // Reads a NUL-terminated string at `addr` of at most `max_len` bytes
  // including the NUL (PATH_MAX for paths). ENAMETOOLONG if no NUL within
  // max_len, EFAULT for a bad address. The NUL is not included.
  virtual Result<std::string> ReadString(uint64_t addr, size_t max_len) = 0;

  // The target of /proc/<tid>/<which> (fd is used only for kFd).
  virtual Result<std::string> ReadProcLink(ProcLink which, int fd) = 0;

  // The child's file-mode creation mask (from /proc/<tid>/status).
  virtual Result<mode_t> ReadUmask() = 0;

  // True while the notification is still pending (the child is still
  // blocked in this syscall), i.e. what was read so far is still relevant.
  virtual bool IdValid() = 0;

  // Writes `data` at `addr` in the child. Returns bytes written or an errno.
  virtual Result<size_t> WriteMemory(uint64_t addr, std::span<const std::byte> data) = 0;

  // ---- Added for the COW handlers (cow/handlers). The trace format must
  // record these calls like the others. The defaults fail with ENOSYS, so a
  // Tracee that does not implement them makes the handlers fall back (and
  // say so) rather than guess.

  // The notifying thread's process identity (/proc/<tid>/status Tgid and
  // PPid, the start time from /proc/<tgid>/stat), checked with ID_VALID.
  virtual Result<ProcIds> ReadProcIds();

  // lseek(fd, offset, whence) on the child's open file description behind
  // `fd` (the offset is shared with its dups and across fork, exactly as for
  // the child's own lseek). Returns the resulting offset; SeekFd(fd, 0,
  // SEEK_CUR) only reads it. EBADF if the child has no such fd.
  virtual Result<int64_t> SeekFd(int fd, int64_t offset, int whence);

  // Installs a duplicate of the supervisor's `srcfd` in the child at its
  // lowest free fd number (SECCOMP_IOCTL_NOTIF_ADDFD without SEND: the
  // notification stays pending and must still be answered). `fd_flags` is
  // O_CLOEXEC or 0; `what` describes the file for the record. Returns the
  // child's fd number. The fd stays in the child whatever happens next.
  virtual Result<int> InstallFd(int srcfd, uint32_t fd_flags, const InjectedFile& what);

  // The user stack pointer of the notifying thread, blocked in its syscall
  // (/proc/<tid>/syscall). The memory below it (past the 128-byte red zone)
  // is unused while the syscall is pending.
  virtual Result<uint64_t> ReadStackPointer();

  // The child's socket `fd` bound to a new socket file `name` in the
  // supervisor's directory `dirfd` (its own copy of the socket through
  // pidfd_getfd, then bind to "/proc/self/fd/<dirfd>/<name>"), the file's
  // mode then set to `mode` (bind would apply the supervisor's umask).
  // Returns bind's own errno (EADDRINUSE, EINVAL for a bound socket,
  // ENOTSOCK, ENAMETOOLONG for a sockaddr_un too short for that path...).
  // `address`, if not empty, is the address the kernel is to store for the
  // socket (what getsockname and the peers' getpeername report): the
  // child's own relative path, which then reaches `name` in `dirfd` from
  // `dirfd`'s ancestor as many levels up as it has components before the
  // name (the caller checked); or its absolute path, whose directory is the
  // lower counterpart of `dirfd` (bound with `dirfd` mounted there, in a
  // mount namespace of a helper process's own; where that cannot be done,
  // a /proc/self/fd path is stored instead). Empty: a /proc/self/fd path.
  virtual Status BindSocket(int fd, int dirfd, const std::string& name, mode_t mode,
                            const std::string& address);
  // Up to `max` bytes from the start of the supervisor's own file `fd` (the
  // #! line of an executable). Not the child, but the child may have
  // written those bytes through a file the supervisor gave it, which replay
  // cannot see: reading them through the seam records them. The default
  // preads.
  virtual Result<std::string> ReadFileHead(int fd, size_t max);
  // The child's socket `fd` connected to the socket file `name` in `dirfd`,
  // as above. Blocks as connect(2) does while a listener's backlog is full.
  virtual Status ConnectSocket(int fd, int dirfd, const std::string& name);
  // The length, in the child, of the string ReadString(addr) returned as
  // `as_read`: its size, except in replay, which maps recorded paths to its
  // scratch directories (whose lengths may differ). For decisions that
  // depend on the child's buffer (room to rewrite a path in place).
  virtual size_t ChildStringSize(uint64_t addr, const std::string& as_read) {
    return as_read.size();
  }
  // An inotify watch on the supervisor's object at `path` (an absolute path
  // in the storage area: an upper object) added to the child's inotify
  // instance `fd` (its own fd, through pidfd_getfd); returns the watch
  // descriptor, valid in the child's instance. inotify_add_watch's errors.
  virtual Result<int> AddWatch(int fd, const std::string& path, uint32_t mask);
  // A handler's own call on the host, outside the workdir: an object the
  // child reaches through a symlink made in the run (venv/bin/python3 ->
  // /usr/bin/python3) is looked up, opened or changed by the supervisor.
  // Not the child, but what it finds depends on the machine: it goes
  // through the seam so that a trace holds it. Runs `perform` (which
  // returns the result as bytes, op-specific: see HostOp in
  // formats/trace.capnp) and returns what it returned. Replay returns the
  // recorded result and does not run it: the handler must then do without
  // what `perform` would have left behind (an fd: a stand-in).
  virtual Result<std::string> HostCall(HostOp op, const std::string& path, int64_t arg,
                                       const std::function<Result<std::string>()>& perform) {
    (void)op, (void)path, (void)arg;
    return perform();
  }
};

// ReadString(addr, PATH_MAX) followed by the ID_VALID check: returns ESRCH
// (as an expected outcome) if the notification died meanwhile.
Result<std::string> ReadPathChecked(Tracee& tracee, uint64_t addr);

// ReadMemory of exactly out.size() bytes (EFAULT if short), then ID_VALID.
Status ReadExactChecked(Tracee& tracee, uint64_t addr, std::span<std::byte> out);

}  // namespace sandtrace
