// The copy-on-write overlay engine (DESIGN.md §4).
//
// Design note
// -----------
// Layers. The lower layer is the workdir itself and is never written before
// commit. The upper layer is a real directory, <storage>/upper, that mirrors
// the merged view: an object at view path "a/b" that lives in the upper lives
// at <storage>/upper/a/b. The handlers inject fds opened on either layer into
// the child, which then reads and writes them directly.
//
// Whiteouts, opaque directories and renamed directories are kept in a side
// table (not as marker files or 0/0 char devices, so everything works
// unprivileged and no name is reserved): every upper directory has a record
//   { origin: the lower directory merged beneath it, or none (= opaque);
//     whiteouts: names of that lower directory hidden from the view }.
// A directory copied up in place has origin = its own lower path; one created
// by mkdir (including over a deleted one) is opaque; a lower directory
// renamed to "b" gets an upper "b" whose origin is its old lower path (a
// redirect), so renaming a large lower tree copies no file data. The table
// is in memory (the engine is the only writer of the upper) and is written
// to <storage>/state by Keep() for inspection.
//
// Resolution walks the view one component at a time (upper over lower,
// whiteouts hiding both, symlinks followed inside the view, ".." popping the
// canonical path), so lexical prefix tricks and symlinks cannot escape
// unnoticed: a path that leaves the workdir is reported as outside, with the
// absolute path the kernel would resolve, and the engine never touches it.
//
// Confinement. Every access the engine makes goes through an O_PATH fd of a
// layer root and either openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
// RESOLVE_NO_SYMLINKS) or single-component *at() calls with O_NOFOLLOW /
// AT_SYMLINK_NOFOLLOW. Copy-up never opens a FIFO, socket or device: a FIFO
// becomes an upper FIFO, a socket an upper socket node, a device is refused
// (EPERM).
//
// Hard links. Links made in the view are real links in the upper (the source
// is copied up first), and commit recreates them as links. Copying up one
// name of a file that has several links in the lower separates it from the
// others, as overlayfs without an index does.
//
// Quota. The bytes the upper holds are charged against OverlayOptions::
// quota_bytes (ENOSPC when exceeded): file sizes on copy-up, growth through
// Truncate(), symlink target lengths, and kEntryCost per new entry; removals
// credit them back. A hard-linked file is charged once. Writes the child makes
// through an fd it holds are not seen by the engine: call Remeasure() (on
// close, or before Changes()/Commit()) to charge them; until then the quota
// can be overshot by whatever the child wrote through such fds.
//
// Disposition: Commit() (cow/commit.h describes the journal and recovery),
// Abort() (storage removed, workdir untouched) or Keep() (upper left).
//
// Determinism. Every decision and result (errno, resolution, listing order
// and offsets, change list) is a pure function of the starting lower tree and
// the sequence of calls; only inode numbers, times and the storage path vary
// between a run and its replay. Remeasure() results also depend on what the
// child wrote through its fds, which replay cannot reproduce: record them.
//
// Permissions. The engine performs every mutation with the supervisor's own
// credentials. If OverlayOptions::creds is set, the engine also applies the
// classic DAC checks for those credentials (search permission on traversed
// directories, write permission on the parent for entry changes, sticky
// directories, owner-only chmod/chown/utimens) and returns EACCES/EPERM as
// the kernel would; unset, no DAC check is made (privileged caller).
//
// Known limits: fds the child opened on the lower before a copy-up keep
// reading the lower (as with overlayfs); fd-based mutations (fchmod, ...) on
// such fds must be mapped to a path by the handler; a child cwd inside a lower
// directory that was renamed in the view maps to the old (now absent) path;
// a path that leaves the workdir and comes back through a symlink outside it
// is reported as outside (the engine reads nothing outside its roots), so
// the kernel resolves it, on the lower, where Landlock refuses writes; the
// lower must not be changed by anyone else during a run; DAC checks ignore
// ACLs and capabilities other than uid 0.
//
// Thread-safety: an Overlay is used by one thread at a time (the supervisor
// loop, or replay); it holds no process-global state.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tracer/base/errors.h"
#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace::cow {

enum class FileType : uint8_t {
  kNone,  // does not exist
  kRegular,
  kDirectory,
  kSymlink,
  kFifo,
  kSocket,
  kCharDevice,
  kBlockDevice,
};
FileType FileTypeFromMode(mode_t mode);
// DT_* value for a getdents64 d_type.
uint8_t DirentType(FileType type);
const char* FileTypeName(FileType type);

// Which layer holds an object.
enum class Layer : uint8_t { kNone, kUpper, kLower };

// Where a relative path starts: a directory of the merged view, or a real
// directory outside the workdir. Handlers build it from /proc/<tid>/cwd or
// /proc/<tid>/fd/N with Overlay::BaseOf().
struct Base {
  bool outside = false;
  std::string view;          // workdir-relative ("" = workdir root), when !outside
  std::string outside_path;  // absolute, when outside
  // The child's real directory is the upper copy (set by BaseOf): the kernel
  // would resolve relative to it, not to the lower (kernel_equivalent).
  bool real_is_upper = false;

  static Base Root() { return Base{}; }
  static Base View(std::string view_path) { return Base{false, std::move(view_path), {}, false}; }
  static Base Outside(std::string abs_path) { return Base{true, {}, std::move(abs_path), false}; }
};

// How a path is resolved. The defaults match a plain path lookup that
// follows a trailing symlink (stat, open without O_NOFOLLOW).
struct ResolveOptions {
  bool follow_final = true;  // follow a symlink in the last component
  bool no_symlinks = false;  // ELOOP on any symlink (openat2 RESOLVE_NO_SYMLINKS)
  bool beneath = false;      // EXDEV if the path leaves the base (RESOLVE_BENEATH)
  bool in_root = false;      // "/" and ".." stop at the base (RESOLVE_IN_ROOT)
};

// The outcome of resolving a path through the merged view. Resolution fails
// (as a Result error) with ENOENT or ENOTDIR for a missing or non-directory
// intermediate component, ELOOP, ENAMETOOLONG, EACCES (with creds), EXDEV
// (beneath). A missing last component is not an error: exists == false.
struct Resolved {
  // True when the path leaves the workdir (through "..", an absolute path or
  // a symlink). Only outside_path is meaningful then: the absolute path, as
  // far as the engine could follow it lexically, for the kernel to handle.
  bool outside = false;
  std::string outside_path;

  std::string path;  // normalised workdir-relative view path ("" = root)
  bool exists = false;
  FileType type = FileType::kNone;
  Layer layer = Layer::kNone;
  // The object's path relative to its layer root. Equal to `path` for the
  // upper; for the lower it differs under a renamed directory.
  std::string layer_path;
  // Absolute real path of the object in its layer (for CONTINUE decisions and
  // logs only; the engine never opens by it). Empty when !exists.
  std::string real_path;
  // True when a syscall CONTINUEd on the same path would make the kernel
  // reach exactly this object (or find the same absence) in the real
  // workdir: every traversed component is lower at its own path, none is
  // shadowed by the upper, a whiteout or an opaque or renamed directory, and
  // no symlink was followed through such a place.
  bool kernel_equivalent = false;
  // The path ended with "/" (the object must be a directory).
  bool trailing_slash = false;
};

// An entry of a merged directory listing. Entries come sorted by `off`:
// "." is 1, ".." is 2, names get a deterministic hash of the name (>= 3), so
// offsets stay valid while the directory changes. A getdents64 handler keeps
// a position p (0 at open), serves the entries with off > p in order, sets
// p to the last served entry's off (that is also its d_off), and lseek(p)
// just sets p.
struct DirEntry {
  std::string name;
  FileType type = FileType::kNone;
  uint64_t ino = 0;  // real inode number in the entry's layer
  uint64_t off = 0;
};

// A file the engine opened, ready to inject.
struct OpenedFile {
  OpenedFile() = default;
  OpenedFile(UniqueFd f, Layer l, std::string path, int flags)
      : fd(std::move(f)), layer(l), layer_path(std::move(path)), open_flags(flags) {}
  UniqueFd fd;
  Layer layer = Layer::kNone;  // kUpper or kLower
  std::string layer_path;      // relative to that layer's root ("" = the root)
  int open_flags = 0;          // the flags the engine opened it with (always O_CLOEXEC)
  // Instead of fd (see Overlay::Open): an absolute path beneath
  // Overlay::fifo_dir() of a hard link to an upper FIFO, for the child to
  // open itself, blocking as it would natively.
  std::string fifo_path;
  // Instead of an open file: fd is an O_PATH fd of a FIFO that open_flags
  // (no O_NONBLOCK, not O_RDWR) would make wait for its other end. Whoever
  // may block opens it (/proc/self/fd/N) and hands the result to the child.
  bool waits = false;
};

// The caller's identity for DAC checks (see the design note).
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
};

// One entry of the change list, relative to the workdir.
enum class ChangeKind : uint8_t { kAdded, kModified, kDeleted };
enum ChangeWhat : uint32_t {
  kChangedType = 1,     // M: a different type now (the old subtree's paths are D)
  kChangedContent = 2,  // data, or symlink target
  kChangedMode = 4,
  kChangedOwner = 8,
  kChangedTimes = 16,  // mtime (files and symlinks only)
};
struct Change {
  ChangeKind kind = ChangeKind::kAdded;
  std::string path;
  FileType type = FileType::kNone;      // new type (kNone for D)
  FileType old_type = FileType::kNone;  // lower type (kNone for A)
  uint32_t what = 0;                    // ChangeWhat bits, for M
};
// The change list is sorted by path; every path present in only one of the
// lower and the view is listed (A or D), including each path inside an added
// or deleted subtree. A path deleted and re-created is M (or nothing if
// identical) with its type change, if any, in `what`. Directory M entries
// report mode or owner changes only (their mtime follows their entries).
using ChangeList = std::vector<Change>;
char ChangeKindLetter(ChangeKind kind);  // 'A', 'M', 'D'

// What the engine learned from the lower layer (see OnLowerAccess).
enum class LowerAccess : uint8_t {
  kLookup,  // a name's metadata (a lookup that found it)
  kList,    // a directory's full list of names
  kRead,    // a regular file's contents (opened for reading or copied up)
};

// Notified synchronously, on the engine's thread, of what it did; the
// recorder turns these into COW events. Paths are view paths, except in
// OnLowerAccess, whose path is relative to the lower root: the recorder
// snapshots exactly those lower paths, so a replay's lower layer holds
// everything the engine's answers depended on (absent names stay absent).
class OverlayObserver {
 public:
  virtual ~OverlayObserver() = default;
  virtual void OnCopyUp(std::string_view path, FileType type, uint64_t bytes) {}
  virtual void OnCreate(std::string_view path, FileType type) {}
  virtual void OnWhiteout(std::string_view path) {}
  virtual void OnCommit(const Status& result, size_t changes) {}
  virtual void OnDiscard(const Status& result) {}
  virtual void OnLowerAccess(std::string_view layer_path, LowerAccess kind) {}
};

struct OverlayOptions {
  uint64_t quota_bytes = 0;             // 0 = unlimited
  std::optional<Credentials> creds;     // unset = no DAC checks
  OverlayObserver* observer = nullptr;  // not owned; may be null
  // Keep ownership changes virtual even when the supervisor could apply them
  // (tests of the unprivileged path; also chosen automatically on EPERM).
  bool force_virtual_chown = false;
  // Before anything else, finish or roll back an interrupted commit of this
  // workdir (cow/commit.h RecoverWorkdir); Overlay::recovery_messages() then
  // says what was done, for the caller to print. If it cannot be recovered,
  // Create fails with that error.
  bool recover_interrupted_commit = true;
  // Show every object of the view with the workdir's st_dev (upper objects
  // without a lower original get st_ino | kUpperInoBit, so they never share
  // an inode number with a lower file), as when the whole view lives on one
  // filesystem: `find -xdev`, `du -x` and git's repository discovery stop
  // at a change of st_dev. Unset: when the upper layer is on another
  // filesystem than the workdir. Replay passes the recorded choice.
  std::optional<bool> unify_device;
};

// The bit set in the inode numbers of upper objects when the view unifies
// devices (OverlayOptions::unify_device).
inline constexpr ino_t kUpperInoBit = ino_t{1} << 62;

// Where an overlay lives. `lower` is the workdir; `storage` is an existing,
// empty, private directory that will hold upper/, work/, the state and the
// journal. Replay passes scratch directories; a live run uses
// CreateStorageArea() (cow/storage.h).
struct OverlayPaths {
  std::string lower;
  std::string storage;
};

struct CommitOptions {
  // Test hook, called before each numbered commit step (0, 1, 2, ...). An
  // exception thrown from it simulates a crash at that step: it propagates
  // and the engine leaves workdir, staging directory and journal exactly as
  // they are, for RecoverStorage()/RecoverWorkdir() to finish or undo.
  std::function<void(int step)> step_hook;
  // fsync files and directories (off only for scratch-directory benchmarks).
  bool fsync = true;
};

struct CommitReport {
  size_t added = 0;
  size_t modified = 0;
  size_t deleted = 0;
  int steps = 0;                      // numbered steps run (see step_hook)
  std::vector<std::string> warnings;  // e.g. an ownership that could not be applied
};

// Per-entry quota charge for anything the upper creates.
inline constexpr uint64_t kEntryCost = 256;

class Overlay {
 public:
  // Opens the roots (O_PATH, O_CLOEXEC), creates <storage>/upper and
  // <storage>/work. Paths must be absolute; they are canonicalised once here.
  static Result<std::unique_ptr<Overlay>> Create(const OverlayPaths& paths,
                                                 OverlayOptions options = {});
  ~Overlay();
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  // One line per interrupted commit Create() finished or rolled back.
  const std::vector<std::string>& recovery_messages() const;

  const std::string& lower_root() const;    // canonical absolute workdir path
  const std::string& upper_root() const;    // canonical absolute upper path
  const std::string& storage_root() const;  // canonical absolute storage path
  // <storage>/fifos, where Open links upper FIFOs for the child to open
  // (the child may open files there for reading and writing, nothing else).
  const std::string& fifo_dir() const;
  // For a path beneath fifo_dir() (what /proc/self/fd/N of such a FIFO shows
  // the child): the view path of the FIFO when its link was last handed out.
  std::optional<std::string> FifoLinkView(std::string_view real) const;
  // For a socket file of the upper layer at `path` (the final symlink
  // followed when follow): the absolute path of a hard link to it beneath
  // fifo_dir() (made once per socket, its count hidden from Statx), for the
  // child to connect to by itself. EXDEV for a lower object, ENOTSOCK for
  // anything but a socket.
  Result<std::string> SocketLink(const Base& base, std::string_view path, bool follow = true);

  // ---- Mapping real paths into the view ------------------------------------
  // A real absolute path under the lower or the upper root -> its
  // workdir-relative view path ("" = root); anything else -> nullopt. Purely
  // lexical (it is meant for /proc/<tid>/cwd and /proc/<tid>/fd/N targets,
  // which the kernel already canonicalised).
  std::optional<std::string> ViewPathOf(std::string_view real_abs_path) const;
  // The Base for a real directory: View(ViewPathOf(p)) or Outside(p).
  Base BaseOf(std::string_view real_abs_path) const;

  // ---- Resolution -----------------------------------------------------------
  Result<Resolved> Resolve(const Base& base, std::string_view path,
                           const ResolveOptions& options = {}) const;

  // ---- Read-side queries on the view ----------------------------------------
  // All take a path relative to `base` (or absolute). Paths resolving outside
  // the workdir fail with EXDEV: the handler should let the kernel handle them.
  // The object's real statx in its layer, with a virtual owner applied; a
  // merged directory (upper copy over a lower one) reports st_nlink 1, as
  // overlayfs does, since its true count needs a full listing.
  // Whether the view shows the workdir's st_dev for upper objects too
  // (OverlayOptions::unify_device, as decided at Create).
  bool unify_device() const;
  // Whether the view shows some upper file with another identity than the
  // kernel would (a copied-up file's lower original, or unify_device): then
  // handlers must not CONTINUE stats of upper files.
  bool HasIdentityOverrides() const;
  Result<struct statx> Statx(const Base& base, std::string_view path, bool follow = true) const;
  Result<struct stat> Stat(const Base& base, std::string_view path, bool follow = true) const;
  // The directory holding the object at `path` (an fd of its layer's real
  // directory) and its name there, for a call the supervisor makes by name
  // on the real object (connect to a socket file). ENOENT if absent.
  Result<std::pair<UniqueFd, std::string>> ParentOf(const Base& base, std::string_view path,
                                                    bool follow = true) const;
  Result<std::string> Readlink(const Base& base, std::string_view path) const;
  // access(2)/faccessat2 semantics; mode is F_OK or R_OK|W_OK|X_OK. Without
  // creds only existence (and X_OK on non-executable files) is checked.
  Status Access(const Base& base, std::string_view path, int mode, bool follow = true) const;
  // The merged listing of a directory (follows a trailing symlink).
  Result<std::vector<DirEntry>> ListDir(const Base& base, std::string_view path) const;
  Result<std::string> GetXattr(const Base& base, std::string_view path, const std::string& name,
                               bool follow = true) const;
  Result<std::vector<std::string>> ListXattr(const Base& base, std::string_view path,
                                             bool follow = true) const;

  // ---- Open -------------------------------------------------------------------
  // open/openat/openat2 on the view. `flags` are the child's open flags
  // (O_CLOEXEC is always added; the handler decides the child's fd flags);
  // `mode` is the creation mode with the child's umask already applied.
  // Read-only opens of an unchanged file open the lower; anything that may
  // write (O_WRONLY, O_RDWR, O_TRUNC), O_CREAT and O_TMPFILE copy up and open
  // the upper. Directories open their upper copy if there is one, else the
  // lower (the handler serves getdents64 from ListDir). A FIFO of the upper
  // layer opened for reading or for writing without O_NONBLOCK must wait for
  // its other end, in the child and not in the supervisor: it is not opened;
  // fifo_path names a hard link to it beneath fifo_dir() (made once per FIFO,
  // its link count hidden from Statx) for the child to open by a restarted
  // syscall. Any other open of a FIFO that would wait (a lower FIFO opened
  // for writing, or for reading through the engine) is not made either:
  // `waits` is set and fd is an O_PATH fd of the FIFO (the supervisor opens
  // it on a thread of its own that may block). Opens that never wait
  // (O_NONBLOCK, O_RDWR) are made here.
  // Devices: EPERM for any open through the engine.
  Result<OpenedFile> Open(const Base& base, std::string_view path, int flags, mode_t mode,
                          const ResolveOptions& options = {});
  // linkat(AT_EMPTY_PATH) of an O_TMPFILE file the engine opened (Open with
  // O_TMPFILE): gives it the name `path` in the view.
  Status LinkTmpfile(int upper_fd, const Base& base, std::string_view path);

  // ---- Mutations (performed on the upper) ---------------------------------------
  // Each returns exactly the errno the syscall on the merged view would.
  Status Mkdir(const Base& base, std::string_view path, mode_t mode);
  // mknod of S_IFIFO, S_IFSOCK or S_IFREG (0 = regular); devices: EPERM.
  Status Mknod(const Base& base, std::string_view path, mode_t mode, dev_t dev = 0);
  Status Unlink(const Base& base, std::string_view path);
  Status Rmdir(const Base& base, std::string_view path);
  // renameat2; flags: 0, RENAME_NOREPLACE or RENAME_EXCHANGE (RENAME_WHITEOUT
  // and other bits: EINVAL). EXDEV when either end is outside the workdir.
  Status Rename(const Base& old_base, std::string_view old_path, const Base& new_base,
                std::string_view new_path, unsigned flags = 0);
  // linkat; follow = AT_SYMLINK_FOLLOW.
  Status Link(const Base& old_base, std::string_view old_path, const Base& new_base,
              std::string_view new_path, bool follow = false);
  Status Symlink(std::string_view target, const Base& base, std::string_view path);
  // A new object of `type` at `path` made by `make(dirfd, name)` in its
  // upper directory (as bind(2) makes a socket file), with Mknod's checks,
  // quota charge, ownership and whiteout handling; its mode is then set to
  // `mode`. EEXIST if the view has anything at `path` (a dangling symlink
  // too); make's own error otherwise.
  Status CreateWith(const Base& base, std::string_view path, FileType type, mode_t mode,
                    const std::function<Status(int dirfd, const std::string& name)>& make);
  // fchmodat2; with follow == false a symlink gives EOPNOTSUPP.
  Status Chmod(const Base& base, std::string_view path, mode_t mode, bool follow = true);
  // fchownat; (uid_t)-1 / (gid_t)-1 leave that id unchanged. Kept virtual (and
  // reported as done) when the supervisor may not change ownership.
  Status Chown(const Base& base, std::string_view path, uid_t uid, gid_t gid, bool follow = true);
  Status Truncate(const Base& base, std::string_view path, off_t length);
  // utimensat; times == nullptr means both "now"; UTIME_NOW/UTIME_OMIT work.
  Status Utimens(const Base& base, std::string_view path, const struct timespec* times,
                 bool follow = true);
  Status SetXattr(const Base& base, std::string_view path, const std::string& name,
                  std::string_view value, int flags, bool follow = true);
  Status RemoveXattr(const Base& base, std::string_view path, const std::string& name,
                     bool follow = true);

  // ---- Quota ---------------------------------------------------------------------
  // Re-measures an upper file (by view path) after the child may have written
  // to it through an fd, and charges the difference. ENOSPC when the upper
  // is now over quota (the bytes are charged anyway: they exist).
  Status Remeasure(const Base& base, std::string_view path);
  // The same for every upper regular file (done by Changes() and Commit()).
  Status RemeasureAll();
  uint64_t used_bytes() const;

  // ---- Changes and disposition -------------------------------------------------
  Result<ChangeList> Changes();

  // Commit, abort or keep: exactly one of them ends the overlay's life; any
  // call after that throws Fatal. cow/commit.h describes the commit protocol,
  // its journal and recovery. Commit takes the workdir lock (EWOULDBLOCK if
  // another commit holds it), refuses (EBUSY) if an interrupted commit of
  // this workdir awaits recovery, and on an ordinary failure (ENOSPC, EIO...)
  // rolls back and returns the error with the storage area kept.
  Result<CommitReport> Commit(const CommitOptions& options = {});
  // Removes the storage area. The workdir is left byte-identical.
  Status Abort();
  // Writes <storage>/state (the side table) and leaves the storage area as is.
  Status Keep();

  class Impl;

 private:
  explicit Overlay(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandtrace::cow
