// The COW handler set: every syscall that can touch the workdir, answered
// through the overlay engine (DESIGN.md §4).
//
// Design note
// -----------
// State. A CowSession owns the Overlay and everything the handlers remember
// between notifications (what changed in the view, per-process virtual
// cwds, listing caches, statistics). The caller creates it and registers its
// handlers in a HandlerRegistry; nothing is global. A handler learns about
// the child only through the Tracee (memory, strings, /proc/<tid>/cwd and
// fd links, umask, process ids, file offsets, fd installation, ID_VALID)
// and is deterministic given the Tracee's answers and the overlay, so replay
// can drive the same set from a trace (CowSession::Create on scratch
// directories + Register).
//
// Decisions. Reads of objects the kernel would find unchanged in the real
// workdir are CONTINUEd (Landlock keeps the child read-only there). Reads of
// changed objects are answered by the supervisor: stat buffers, readlink and
// xattr bytes and directory entries are written into the child, files are
// opened on the right layer and injected (ADDFD+SEND). Anything that would
// modify the workdir is performed on the upper layer by the engine and never
// CONTINUEd; paths outside the workdir are left to the kernel and Landlock,
// except metadata changes (chmod, chown, utimes, xattrs), which Landlock
// does not govern: the supervisor resolves those itself (O_PATH, no magic
// links), checks the object is not in the workdir or the storage area and
// applies them if the object lies where the child may write (its -w paths
// and private TMPDIR; EACCES elsewhere, as Landlock answers writes), so a
// path rewritten by another thread after the check can never redirect the
// change into the workdir or onto a file the child may not write.
//
// Cheap decisions. Most notifications are reads of untouched files. Until
// the first change the view equals the lower layer and every read is
// CONTINUEd without reading child memory. Afterwards a handler reads the
// path and walks it lexically against the ViewIndex (view_index.h): if no
// component is a symlink, "..", or a changed path, the kernel reaches the
// same object and the read is CONTINUEd without asking the engine.
//
// Directories. A directory that has an upper copy but also exists at the
// same path in the lower (a "merged" directory: the workdir root, any
// directory an entry was created in) is presented with the lower
// directory's identity (st_dev/st_ino, the fd the child gets), as it will
// be after commit; its entries come from the engine's merged listing
// (getdents64 is emulated on it) and its mode, owner and times from the
// upper copy. New and replaced directories have the upper's identity.
//
// getdents64/getdents. Directories without changes are CONTINUEd. On a
// changed directory the handler serves Overlay::ListDir entries whose
// offset is greater than the fd's file offset, then sets the offset to the
// last entry served (Tracee::SeekFd: the position lives in the child's open
// file description, so dup, fork, lseek, rewinddir and seekdir/telldir
// behave as usual). An offset the handler did not set (the kernel served
// earlier calls, before the directory changed) keeps the kernel serving
// that description: it then lists the lower as it was, which POSIX allows
// for entries changed after opendir.
//
// cwd. See process_table.h: a chdir the kernel can follow is CONTINUEd; one
// into a directory the kernel cannot reach by the same string becomes a
// virtual cwd. getcwd, readlink of /proc/self/cwd and of fd links into the
// upper layer are emulated so the child never sees the storage path
// (`pwd -P` prints the workdir path).
//
// execve of a file that exists only in the upper layer, or was modified
// (or is not reachable by the kernel through the child's string, e.g. a
// relative path from a virtual cwd): the kernel must run the view's bytes,
// but only the child's path string is available. The handler installs the
// file in the child (Tracee::InstallFd, without completing the syscall)
// and rewrites the path string in place to "/dev/fd/N" (or
// "/proc/self/fd/N"), then CONTINUEs. After a successful exec the old
// memory is gone, so the rewrite is invisible. argv is a separate array and
// stays intact; when argv[0] is the very same string (dash runs `./prog`
// that way), a copy of the original string is written below the stack
// pointer (Tracee::ReadStackPointer; unused while the syscall is pending)
// and argv[0] is pointed at it. The fd is close-on-exec for binaries; for
// scripts ("#!") it stays open, since the interpreter opens /dev/fd/N, and
// the script's $0 is then "/dev/fd/N" (the kernel passes the path string).
// A string that cannot take "/dev/fd/N" in place (shorter, as `./prog`, or
// read-only, as a C string literal) is not rewritten: a padded copy that
// leads to the same file ("./prog" -> "./././././prog") is written in the
// red zone under the stack pointer (which signal frames skip), and
// the decision is Decision::Restart: the supervisor makes the thread enter
// execve again with the path argument pointing at the copy
// (tracer/restart.h), and the next notification rewrites the copy as above.
// argv is untouched. If that cannot be done (not x86_64, ptrace refused, a
// second restart in a row), exec fails with ENOEXEC and a warning (dash,
// bash and execvp then run the file with /bin/sh, which is right for sh
// scripts). A deleted file's path fails with ENOENT. If the exec fails
// after the rewrite, the caller sees its string changed (a vfork child
// shares its parent's memory: the parent too). A thread racing to rewrite
// the path can make the kernel run the lower bytes of a file it could read
// anyway.
//
// Opens. O_PATH files cannot be installed with ADDFD (the kernel refuses
// them, EBADF), so an O_PATH open that the kernel cannot serve gets a
// read-only fd of the same object instead (an O_PATH fd of a symlink
// created in the run: EOPNOTSUPP, which is what glibc's fchmodat and lchmod
// report for symlinks anyway). Storage-area paths are not part of the view:
// the kernel answers them and Landlock keeps them read-only.
//
// Named pipes. A FIFO of the upper layer opened for reading or writing
// without O_NONBLOCK must wait for its other end, and the supervisor must
// not wait: the open is restarted (as an exec is, above) with the path of a
// hard link to the FIFO beneath the storage area's fifos/ directory, where
// the run's Landlock rules let the child open existing files for reading
// and writing (RunOptions::open_rw_paths), so the child blocks in the kernel
// with every native semantic (signals, EINTR, O_NONBLOCK). The link's extra
// count is hidden from stat; readlink of /proc/self/fd/N shows the view path.
// A FIFO the workdir had is the world's (processes outside may hold its
// other end): it is not copied up. The kernel opens it for reading; an open
// for writing (which Landlock refuses the child) is decided as an inject
// that waits (InjectedFile::waits): the supervisor opens it on a thread of
// its own (tracer/waiting_opens.h), so its loop never blocks.
//
// Sockets. bind of an AF_UNIX path into the workdir makes the socket file in
// the upper layer: the supervisor binds its own copy of the child's socket
// (pidfd_getfd) there (Tracee::BindSocket). connect to an upper socket file
// is restarted with a sockaddr_un naming a hard link to it beneath fifos/
// (the child connects by itself, waiting in the kernel for a full backlog);
// a lower socket the kernel cannot reach by the child's path (under a
// renamed directory) is connected by the supervisor (Tracee::ConnectSocket),
// which then waits with the child. Abstract, unnamed and outside addresses,
// and other families, are the kernel's.
//
// Outside through the view. A symlink made or changed in this run that
// points out of the workdir (venv/bin/python3 -> /usr/bin/python3) is not
// in the real workdir, so the kernel cannot follow the child's string; the
// engine reports such a resolution as outside but not kernel-equivalent,
// and the supervisor reaches the object by the engine's outside path
// (handlers_outside.cc): stat, access, readlink answered, opens injected,
// exec rewritten as above, metadata applied as above, under the child's
// own policy (-r for reads, -w and its TMPDIR for writes).
//
// Notifications not sent. Decided without notification (not in the set):
// ftruncate and fallocate (a writable fd to the workdir is never handed
// out, the kernel refuses them on the read-only lower fds the child can
// get), read/write/mmap, fstat (5). ioctl is notified only for the
// filesystem ioctl types ('f', 'v', 'X') and the btrfs commands that
// change something (argument tests in the filter, IoctlNotifyWhen):
// terminal ioctls and cp's FICLONE never reach the supervisor. A filter
// cannot decide newfstatat/statx with AT_EMPTY_PATH and a dirfd (glibc's
// fstat): the empty string is in the child's memory, and a non-empty path
// with that flag would read the lower; CowStats counts them.
//
// Known limits. Hard links the lower already has are separated by a
// copy-up (the engine's rule, as overlayfs without an index). fds opened
// on the lower before a copy-up read the lower (fstat and reads; their
// metadata changes go to the view). A directory renamed in the view
// leaves fds and cwds inside its lower original pointing at the old path.
// Metadata changes through fds of deleted files are answered 0 and dropped.
// See process_table.h for the virtual cwd's limits. RESOLVE_NO_XDEV is not
// enforced inside the view; RESOLVE_CACHED opens fail with EAGAIN once the
// view has changed. file_setattr and the filesystem ioctls that change
// something (inode flags, fs-verity, fscrypt policies, freeze, btrfs
// subvolumes) fail with EOPNOTSUPP wherever their fd points. Landlock
// governs writes outside the workdir, not metadata: outside metadata
// changes go where the child may write (see
// CowSessionOptions::writable_paths), elsewhere EACCES.
//
// Replay. Decisions depend only on the Tracee's answers and the overlay,
// except that a merged directory's identity comes from the lower directory
// at the same path (the handlers open it themselves, so a rebuilt lower
// must hold it). What the handlers ask of the host outside the workdir
// (outside objects reached through the view, metadata changes where the
// child may write) goes through Tracee::HostCall, which replay answers from
// the trace (opens with stand-ins of the recorded description).
//
// Quota. Engine operations fail with ENOSPC at the limit; reads cost
// nothing. Files the child writes through injected fds are re-measured on
// the next writable open (the last kRecentWrites of them) and all at the
// end (RemeasureAll), before the change list.
//
// Ownership: the session owns the overlay; the handlers registered in a
// registry share the session's state (kept alive by them). Thread-safety:
// one thread (the supervisor loop, or replay).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cow/overlay.h"
#include "tracer/base/result.h"
#include "tracer/core/handler_registry.h"

namespace sandtrace::cow {

inline constexpr std::string_view kCowSetName = "cow";
inline constexpr std::string_view kPassthroughSetName = "passthrough";
inline constexpr size_t kRecentWrites = 16;

// What the handlers decided, for --stats and the benchmarks.
struct CowStats {
  uint64_t notifications = 0;  // handled by the set
  uint64_t continued = 0;      // CONTINUE, all reasons
  uint64_t pristine = 0;       // ... before any change: no child memory read
  uint64_t fast = 0;           // ... after the cheap lexical walk (no engine call)
  uint64_t engine = 0;         // decided with an engine resolution
  uint64_t emulated = 0;       // answered with a value or an errno
  uint64_t injected = 0;       // an fd injected
  // newfstatat/statx with AT_EMPTY_PATH and a dirfd (fstat, in practice):
  // what a filter testing arguments could let through (see the README).
  uint64_t empty_path = 0;
  uint64_t exec_rewrites = 0;
  uint64_t exec_restarts = 0;  // execs entered again with a padded path copy
  uint64_t fifo_restarts = 0;  // blocking opens of upper FIFOs, and connects
                               // and sends to sockets the kernel cannot reach
                               // by the child's path, handed to the child
  uint64_t virtual_chdirs = 0;
  uint64_t getdents_served = 0;
  uint64_t outside_metadata = 0;  // chmod & co. applied by the supervisor outside
  // Outside objects reached through the view only (an upper symlink out of
  // the workdir), answered by the supervisor (handlers_outside.cc).
  uint64_t detoured = 0;
  uint64_t host_tmpfiles = 0;  // O_TMPFILE opens of /tmp made in the storage area
  // Creations, removals, renames and opens for writing by an absolute path
  // outside the workdir where the child may not write (not -w, not its
  // TMPDIR, not /dev, /proc or /sys): Landlock refuses them (EACCES). For
  // the note after a failed run, with the first such path.
  uint64_t outside_writes = 0;
  std::string first_outside_write;
  std::vector<uint64_t> by_nr;  // notifications per syscall number
};

// "trace: note: ..." when the command failed after writes Landlock refused
// (CowStats::outside_writes), or "" otherwise.
std::string RefusedWritesNote(const CowStats& s);

struct CowSessionOptions {
  std::string workdir;       // the lower layer; absolute or relative to the cwd
  std::string storage;       // an existing empty private directory; "" = CreateStorageArea()
  uint64_t quota_bytes = 0;  // 0 = unlimited
  OverlayObserver* observer = nullptr;  // not owned
  // Apply the kernel's permission checks for the caller's own credentials
  // (the child runs with them).
  bool check_permissions = true;
  // Where, outside the workdir, the child may change metadata (chmod,
  // chown, utimes, xattrs, which Landlock does not govern): the run's -w
  // paths and its private TMPDIR (which the supervisor tells the session
  // when the run starts; without a supervisor, one is recognised by its
  // shape: a "sandtrace-XXXXXX" directory of ours, mode 0700, directly
  // under $TMPDIR, /tmp, /dev/shm or /var/tmp). Anywhere else such a
  // change fails with EACCES, as a write there would.
  std::vector<std::string> writable_paths;
  // The run's private TMPDIR when known beforehand (replay: the recorded
  // one).
  std::string private_tmpdir;
  // Replay: the workdir's path on the recording machine. /proc links that
  // name its ancestors (a cwd outside it) are not mapped into the scratch,
  // so relative paths from them are judged against this path.
  std::string recorded_workdir;
  // Where, outside the workdir, the child may read (the run's -r paths;
  // empty: everywhere), for the outside objects the supervisor opens for
  // it (handlers_outside.cc).
  std::vector<std::string> readable_paths;
  // Both lists are canonical already (replay: the recorded ones, which need
  // not exist where it runs); else each is resolved, and dropped when it
  // does not exist.
  bool paths_canonical = false;
  // Off in replay, where the handlers must not touch the host outside the
  // overlay: besides Tracee::HostCall (which replay answers from the trace),
  // only the refused-writes note looks there, and then does not.
  bool apply_outside_metadata = true;
  // Whether exec rewrites use "/dev/fd/N" (/dev/fd is the usual symlink to
  // /proc/self/fd) or "/proc/self/fd/N"; unset: probed. Replay passes the
  // recorded value so the bytes written into the child compare.
  std::optional<bool> dev_fd_is_proc;
  // OverlayOptions::unify_device (unset: when the storage area is on
  // another filesystem than the workdir). Recorded in the trace's policy;
  // replay passes the recorded value.
  std::optional<bool> unify_device;
};

struct SessionState;

class CowSession {
 public:
  // Refuses a workdir of "/" and a storage area inside the workdir (or the
  // workdir inside it), with EINVAL and a one-line message.
  static Result<std::unique_ptr<CowSession>> Create(const CowSessionOptions& options);
  ~CowSession();
  CowSession(const CowSession&) = delete;
  CowSession& operator=(const CowSession&) = delete;

  // Registers the COW handlers in `set` of `registry`.
  Status Register(HandlerRegistry& registry, std::string_view set = kCowSetName);

  Overlay& overlay();
  const std::string& workdir() const;  // canonical
  const std::string& storage() const;  // canonical
  // Where the child opens FIFOs made in the run itself (Overlay::fifo_dir):
  // the run must let it open existing files there for reading and writing
  // (RunOptions::open_rw_paths), or such opens fail with EACCES.
  const std::string& fifo_dir() const;
  // Whether upper objects show the workdir's st_dev (CowSessionOptions).
  bool unify_device() const;
  // The -w and -r paths as the session uses them (canonical), for the
  // trace's policy.
  const std::vector<std::string>& writable_paths() const;
  const std::vector<std::string>& readable_paths() const;
  // The run's private TMPDIR ("" until the run has started).
  const std::string& private_tmpdir() const;
  const CowStats& stats() const;
  // Messages for the user collected during the run (exec rewrites that lost
  // argv[0], fallbacks); cleared by the call.
  std::vector<std::string> TakeWarnings();

 private:
  explicit CowSession(std::shared_ptr<SessionState> state);
  std::shared_ptr<SessionState> state_;
};

// The syscalls the COW set handles (x86_64 names). The pass-through set
// uses the same list.
std::span<const std::string_view> CowSyscallNames();

// Registers `set` (default "passthrough"): the COW set's notify set with
// every decision CONTINUE, the in-project measure of the bare notification
// cost.
Status AddPassthroughSet(HandlerRegistry& registry, std::string_view set = kPassthroughSetName);

// One line per handler-set statistic, for --stats.
std::string FormatStats(const CowStats& stats, const ArchTable& table);

}  // namespace sandtrace::cow
