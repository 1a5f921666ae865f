// Internal to cow/handlers: the state every COW handler shares, the
// per-notification context they run with, and the handler functions (one
// family per handlers_*.cc). The public API is cow_session.h.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "cow/handlers/cow_session.h"
#include "cow/handlers/process_table.h"
#include "cow/handlers/view_index.h"
#include "cow/overlay.h"
#include "tracer/base/errors.h"
#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"
#include "tracer/core/notification.h"
#include "tracer/core/tracee.h"

namespace sandtrace::cow {

inline constexpr size_t kMaxTmpfiles = 64;
inline constexpr size_t kMaxServedPositions = 4096;

struct SessionState {
  std::unique_ptr<Overlay> overlay;
  std::string lower_root;        // canonical workdir
  std::string recorded_workdir;  // replay: the workdir's path where the trace was made
  std::string upper_root;        // canonical upper
  std::string storage_root;      // canonical storage area
  UniqueFd lower_fd;             // O_PATH | O_DIRECTORY of lower_root
  // "/dev/fd/" when /dev/fd is the usual symlink to /proc/self/fd (shorter
  // for exec rewrites), else "/proc/self/fd/".
  std::string self_fd_prefix = "/proc/self/fd/";
  bool dev_fd_is_proc = false;
  bool apply_outside_metadata = true;
  // Canonical -w paths; the run's private TMPDIR (told by the supervisor
  // when the run starts, or recorded); without one, the directories private
  // TMPDIRs are made in (a run's is then recognised by its shape).
  std::vector<std::string> writable_paths;
  std::string private_tmpdir;
  std::vector<std::string> tmpdir_bases;
  // May the child change the metadata of the outside object at canonical
  // path `real`? (See CowSessionOptions::writable_paths.)
  bool OutsideWritable(const std::string& real) const;
  std::vector<std::string> readable_paths;  // canonical -r paths; empty: everywhere
  bool OutsideReadable(const std::string& real) const;

  ViewIndex index;
  ProcessTable procs;
  // View paths of workdir directories removed in the view that are still
  // where they were in the lower (rmdir). A process whose real cwd is one
  // of them is in a removed directory: Call::RealCwdRemoved makes that a
  // removed virtual cwd. At most the workdir's own directories.
  std::unordered_set<std::string> removed_lower_dirs;
  CowStats stats;
  std::vector<std::string> warnings;
  // The thread whose syscall was just answered with a restart (an exec by a
  // short path, a blocking open of an upper FIFO, a connect), or 0; set by
  // the dispatch, read as Call::after_restart.
  uint32_t restart_tid = 0;
  // The run's private /dev/shm (handlers_shm.cc): a directory of the
  // storage area, or none (shm_fd invalid: /dev/shm is the host's, as when
  // -w gives it). shm_used: a path there was located (reads of /dev/shm
  // paths then go through Locate too, not the pristine shortcut).
  std::string shm_root;
  UniqueFd shm_fd;
  bool shm_used = false;
  // The last exec of a script restarted as an exec of its interpreter (an
  // interpreter may be a script too: the next exec of that thread follows
  // it, up to the kernel's depth).
  struct InterpreterRestart {
    uint32_t tid = 0;    // 0: none pending
    int depth = 0;       // restarts in a row
    uint64_t block = 0;  // where its argv block is (still in use)
    std::string name;    // the interpreter as its #! line wrote it
  };
  InterpreterRestart interp;

  // With a quota: upper files recently injected writable (view paths),
  // re-measured on the next change (they have usually been written and
  // closed by then); all files are re-measured at the end of the run.
  bool quota = false;
  std::deque<std::string> recent_writes;
  // Positions getdents64 emulation set on directory fds (so a later call
  // knows the offset is ours and not the kernel's); bounded FIFO.
  std::deque<int64_t> served_positions_fifo;
  std::set<int64_t> served_positions;
  // O_TMPFILE files injected and not linked yet: kept so linkat can name
  // them (the child's fd only leads to a "(deleted)" path).
  struct Tmpfile {
    std::string dir_view;  // the directory it was created in
    uint64_t ino = 0;
    UniqueFd fd;
  };
  std::deque<Tmpfile> tmpfiles;

  void Warn(std::string message);
  void NoteServedPosition(int64_t pos);
  // An O_RDONLY|O_DIRECTORY (or O_PATH when path_only) fd of the lower
  // directory at exactly view path `view` (no symlink followed), or an error.
  Result<UniqueFd> LowerDirAt(std::string_view view, bool path_only) const;
  // Re-measures recently written files for the quota.
  void RemeasureRecent();
};

// Where the kernel, resolving a relative path, starts: the lower directory
// at the base's view path, the real upper directory at that view path, or
// somewhere unrelated to the view (a virtual cwd: the real one is stale).
enum class KernelBase : uint8_t { kLower, kUpper, kNone };

// Where a path argument leads, as far as the handler needs to know.
struct ChildPath {
  enum class Kind : uint8_t {
    kKernel,  // outside the workdir, or not a path the view handles: the kernel decides
    kView,    // (possibly) inside: resolve through the engine with base + path
    kFd,      // empty path with AT_EMPTY_PATH: the object of fd `fd`
    kShm,     // beneath /dev/shm: `path` is relative to the run's own (handlers_shm.cc)
  };
  Kind kind = Kind::kKernel;
  Base base;
  std::string path;  // what the engine resolves (the child's string, or translated)
  int fd = -1;       // kFd (AT_FDCWD for the cwd itself)
  // A CONTINUE makes the kernel reach exactly the view's object (computed by
  // the cheap walk; false when unknown).
  bool kernel_equivalent = false;
  // The canonical view path, when the cheap walk found it.
  std::optional<std::string> view;
  // The view object is a directory with an upper copy (the walk's final
  // component is object-dirty): its identity is the lower directory's, but
  // metadata may differ.
  bool final_object_dirty = false;
  // When the child's string is a magic link into the upper layer with
  // nothing after it: the real path the kernel opens.
  std::string kernel_real;
  // kKernel from a relative path and an outside directory: that directory's
  // path joined with the child's string (for NoteOutsideWrite).
  std::string outside_path;
};

struct LocateOptions {
  bool follow_final = true;
  bool allow_empty = false;  // AT_EMPTY_PATH
};

// One notification being handled.
class Call {
 public:
  Call(SessionState& s, const Notification& n, Tracee& t);

  SessionState& s;
  const Notification& n;
  Tracee& t;
  pid_t tgid = 0;  // 0 if unknown
  // This thread's previous notification was answered with a restart: this
  // is (most likely) that syscall again, and must not be restarted again.
  bool after_restart = false;

  uint64_t arg(int i) const { return n.args[i]; }

  // Before the first change every read is the kernel's (no virtual cwd
  // exists either): decided without reading child memory.
  // True when the real cwd `link` is a directory removed in the view; the
  // process then has a removed virtual cwd (ProcessTable).
  bool RealCwdRemoved(const std::string& link);
  bool Pristine() const { return s.index.pristine() && !s.procs.any_virtual_cwd() && !s.shm_used; }
  // CONTINUE, counted by why it was safe.
  std::optional<Decision> PristineContinue() {
    ++s.stats.pristine;
    return Decision::Continue();
  }
  std::optional<Decision> FastContinue() {
    ++s.stats.fast;
    return Decision::Continue();
  }
  std::optional<Decision> EngineContinue() {
    ++s.stats.engine;
    return Decision::Continue();
  }
  // Outside the workdir, an fd the view does not concern, a path the
  // kernel handles: CONTINUE.
  std::optional<Decision> Kernel() { return Decision::Continue(); }
  int dirfd_arg(int i) const { return static_cast<int>(static_cast<int32_t>(n.args[i])); }

  // Reads the NUL-terminated string at args[i] (with the ID_VALID check).
  Result<std::string> ReadPath(int i);
  // Where `path` (relative to `dirfd`) leads.
  Result<ChildPath> Locate(int dirfd, std::string path, const LocateOptions& o = {});
  // ReadPath + Locate.
  Result<ChildPath> LocateArg(int path_arg, int dirfd, const LocateOptions& o = {});
  // The Base of the child's fd (a directory fd for *at calls), or an error
  // (EBADF for an fd the child does not have). Outside bases have
  // outside == true; kernel_ok tells whether relative lookups by the kernel
  // match the view.
  struct FdBase {
    Base base;
    KernelBase kernel = KernelBase::kNone;
    bool usable = true;  // false: not a directory path (pipe, socket, deleted)
    std::string real;    // the link target
  };
  Result<FdBase> BaseOfFd(int fd);
  // What the child's fd refers to.
  struct FdTargetInfo {
    std::string real;                 // the link target
    std::optional<std::string> view;  // a workdir (lower) or upper object, not deleted
    bool lower = false;               // view is set and the fd is on the lower layer
    bool reachable = false;           // real is a path that still names the object
    bool deleted_upper = false;       // an unlinked upper file (O_TMPFILE...)
    uint64_t ino = 0;                 // deleted_upper from "#<ino> (deleted)" (O_TMPFILE)
  };
  Result<FdTargetInfo> FdTarget(int fd);
  // N for "/proc/self/fd/N", "/dev/fd/N" (and /proc/<own pid>/fd/N), else -1.
  int MagicFdNumber(std::string_view path) const;
  // For a path that is exactly one of the child's magic links (cwd, exe,
  // root, fd/N): magic is true, and target is what readlink must return
  // when the kernel's answer would show the storage area or a stale cwd
  // (rewritten).
  struct MagicLink {
    bool magic = false;
    bool rewritten = false;
    std::string target;
  };
  Result<MagicLink> ExactMagicLink(std::string_view path);
  // The child's path as an absolute real path (relative ones joined to the
  // real directory of dirfd, magic prefixes replaced by their targets);
  // nullopt when it leads to something with no path (pipe, deleted file).
  Result<std::optional<std::string>> ChildAbsolute(int dirfd, const std::string& path);

  // The engine's canonical view path of a located path (cheap walk result,
  // else Resolve). nullopt when it resolves outside.
  Result<std::optional<std::string>> ViewPath(const ChildPath& p, bool follow_final);

  // Writes `bytes` at args-provided address; EFAULT on a short or failed write.
  Status Write(uint64_t addr, std::span<const std::byte> bytes);
  Result<mode_t> Umask();

 private:
  struct Magic {
    enum Kind : uint8_t { kNone, kOther, kLink } kind = kNone;
    ProcLink which = ProcLink::kCwd;
    int fd = 0;
    std::string rest;  // "" or "/..."
  };
  // The child's own /proc links at the start of an absolute path.
  Magic ParseMagic(std::string_view path) const;
  Result<ChildPath> LocateAbsolute(std::string path, const LocateOptions& o);
  // `path` (relative) from the process's removed virtual cwd.
  Result<ChildPath> FromRemovedCwd(std::string_view path, const LocateOptions& o);
  Result<ChildPath> Walk(Base base, KernelBase kernel, std::string original,
                         const LocateOptions& o);
};

// Decision helpers.
inline std::optional<Decision> Continue() { return Decision::Continue(); }
inline std::optional<Decision> Errno(int e) { return Decision::Errno(e); }
inline std::optional<Decision> Return(int64_t v) { return Decision::Return(v); }
// Errno for a failed Result (ESRCH, i.e. the notification died: EINTR).
std::optional<Decision> FromError(const Error& e);
// The decision for an engine Status: 0 or -errno.
std::optional<Decision> FromStatus(const Status& s);

// ---- Handler families (handlers_*.cc) -------------------------------------

// A write (open for writing, a creation, a removal, a rename) that the
// kernel answers by the child's absolute `path`, outside the workdir: if
// the child may not write there, counted for the note after a failed run.
void NoteOutsideWrite(Call& c, const std::string& path);
void NoteOutsideWrite(Call& c, const ChildPath& p, const std::string& path);

// handlers_outside.cc: outside objects the kernel cannot reach by the
// child's string (an upper-only or changed symlink leads there).
// The engine's outside path of p when the kernel, walking the child's
// string itself, would not get there; nullopt when it would (CONTINUE).
Result<std::optional<std::string>> DetouredOutside(Call& c, const ChildPath& p, bool follow);
Result<struct statx> StatOutside(Call& c, const std::string& path, bool follow);
// Where an open or a metadata change of the outside `path` lands, asked of
// the host through the seam (Tracee::HostCall kReach): its canonical path,
// or with `create` and no such object, that of the entry to create (`name`
// in its directory), and whether the run's policy lets the child read and
// write there. `fd` is an O_PATH fd of the object (or directory), live
// only: replay has none.
struct ReachedOutside {
  UniqueFd fd;
  std::string real;
  std::string name;
  bool may_read = false;
  bool may_write = false;
};
Result<ReachedOutside> ReachOutside(Call& c, const std::string& path, bool follow, bool create);
// Opens it for the child (reads where it may read, writes where it may
// write) and injects the fd.
std::optional<Decision> OpenOutside(Call& c, const std::string& path, int flags, mode_t mode,
                                    bool follow);
// A regular executable file there, opened read-only for an exec rewrite.
Result<OpenedFile> OpenOutsideForExec(Call& c, const std::string& path);
// An O_TMPFILE open of the host's /tmp or /var/tmp that the child may not
// write (glibc's tmpfile(3) uses P_tmpdir whatever TMPDIR says): the file
// is made in the storage area instead and injected. nullopt: not such an
// open (the kernel decides).
std::optional<Decision> OpenHostTmpfile(Call& c, const std::string& path, int flags, mode_t mode);

// handlers_open.cc
std::optional<Decision> InjectOpened(Call& c, OpenedFile f, int child_flags);
Result<OpenedFile> OpenViewDir(Call& c, const std::string& view, int flags);
// open/creat/openat (ropts: openat2's resolve flags, or null).
std::optional<Decision> HandleOpen(Call& c, int dirfd, int path_arg, uint64_t flags, uint64_t mode,
                                   const ResolveOptions* ropts = nullptr);
std::optional<Decision> HandleOpenat2(Call& c);
std::optional<Decision> HandleExec(Call& c, int dirfd, int path_arg, int argv_arg,
                                   uint64_t at_flags);

// handlers_query.cc
struct StatForm {
  int dirfd = -100;  // AT_FDCWD
  int path_arg = 0;
  uint64_t buf = 0;
  uint64_t at_flags = 0;
  bool follow = true;  // stat vs lstat (AT_SYMLINK_NOFOLLOW also counts)
  bool statx = false;  // struct statx vs struct stat
};
std::optional<Decision> HandleStat(Call& c, const StatForm& f);
std::optional<Decision> HandleAccess(Call& c, int dirfd, int path_arg, uint64_t mode,
                                     uint64_t at_flags);
std::optional<Decision> HandleReadlink(Call& c, int dirfd, int path_arg, uint64_t buf,
                                       uint64_t size);
// One xattr call, whatever its form.
struct XattrForm {
  bool fd_form = false;      // f*xattr: the object of fd `dirfd`
  bool list = false;         // list*xattr
  bool follow = true;        // path form vs l- form (AT_SYMLINK_NOFOLLOW for *at)
  bool allow_empty = false;  // *at with AT_EMPTY_PATH
  int dirfd = -100;
  int path_arg = 0;
  uint64_t name_addr = 0;
  uint64_t value_addr = 0;  // value (get/set) or list buffer
  uint64_t size = 0;
};
std::optional<Decision> HandleGetXattr(Call& c, const XattrForm& f);
std::optional<Decision> HandleFileGetattr(Call& c);

// handlers_mutate.cc
std::optional<Decision> HandleMkdir(Call& c, int dirfd, int path_arg, uint64_t mode);
// `s` and a NUL written in the red zone under the child's stack pointer
// (clear of a signal frame pushed before the syscall is entered again; see
// handlers_open.cc), for a Decision::Restart to point an argument at; its
// address.
Result<uint64_t> WriteRestartCopy(Call& c, std::string_view s);
// The same for `size` bytes that depend on where they go: `build(at)`
// returns them for address `at`; with `below`, they end under it (a block
// the new one must not cover).
Result<uint64_t> WriteRestartBlock(Call& c, size_t size,
                                   const std::function<std::string(uint64_t at)>& build,
                                   uint64_t below = 0);

// "a/b/name": no leading or doubled slash, no "." or ".." (child_path.cc).
bool PlainRelative(std::string_view path);

// handlers_shm.cc: the run's private /dev/shm (ChildPath::Kind::kShm).
std::optional<Decision> OpenShm(Call& c, const ChildPath& p, int flags, mode_t mode);
// nullopt: not in the run's /dev/shm; the kernel answers from the host's.
Result<std::optional<struct statx>> StatShm(Call& c, const ChildPath& p, bool follow);
std::optional<Decision> AccessShm(Call& c, const ChildPath& p, int mode, int at_flags);
std::optional<Decision> UnlinkShm(Call& c, const ChildPath& p, int flags);
std::optional<Decision> MkdirShm(Call& c, const ChildPath& p, mode_t mode);
std::optional<Decision> LinkShm(Call& c, const ChildPath& from, const ChildPath& to, bool follow);
std::optional<Decision> RenameShm(Call& c, const ChildPath& from, const ChildPath& to,
                                  unsigned flags);

// handlers_socket.cc: AF_UNIX socket files in the workdir.
std::optional<Decision> HandleBind(Call& c);
std::optional<Decision> HandleSendto(Call& c);
std::optional<Decision> HandleSendmsg(Call& c);
std::optional<Decision> HandleSendmmsg(Call& c);
// sendto is notified only with a destination address (args[4] != 0).
NotifyWhen SendtoNotifyWhen();
std::optional<Decision> HandleConnect(Call& c);
std::optional<Decision> HandleMknod(Call& c, int dirfd, int path_arg, uint64_t mode, uint64_t dev);
std::optional<Decision> HandleUnlink(Call& c, int dirfd, int path_arg, uint64_t flags);
std::optional<Decision> HandleRename(Call& c, int olddirfd, int old_arg, int newdirfd, int new_arg,
                                     uint64_t flags);
std::optional<Decision> HandleLink(Call& c, int olddirfd, int old_arg, int newdirfd, int new_arg,
                                   uint64_t flags);
std::optional<Decision> HandleSymlink(Call& c, int target_arg, int newdirfd, int path_arg);
std::optional<Decision> HandleTruncate(Call& c, int path_arg, uint64_t length);

// handlers_meta.cc
struct MetaOp {
  enum Kind : uint8_t { kChmod, kChown, kUtimens, kSetXattr, kRemoveXattr } kind = kChmod;
  mode_t mode = 0;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  bool times_null = true;
  struct timespec times[2] = {};
  std::string name;
  std::string value;
  int xflags = 0;
};
enum class TimesForm : uint8_t { kUtimbuf, kTimeval, kTimespec };
std::optional<Decision> ApplyMeta(Call& c, bool fd_form, int dirfd, int path_arg, bool follow,
                                  bool allow_empty, const MetaOp& op);
std::optional<Decision> HandleChmod(Call& c, bool fd_form, int dirfd, int path_arg, uint64_t mode,
                                    uint64_t flags);
std::optional<Decision> HandleChown(Call& c, bool fd_form, int dirfd, int path_arg, uint64_t uid,
                                    uint64_t gid, uint64_t flags);
std::optional<Decision> HandleUtimes(Call& c, TimesForm form, int dirfd, int path_arg,
                                     uint64_t times_addr, uint64_t flags);
std::optional<Decision> HandleSetXattr(Call& c, const XattrForm& f, bool remove, uint64_t xflags);
std::optional<Decision> HandleFileSetattr(Call& c);
std::optional<Decision> HandleIoctl(Call& c);
// The ioctl calls HandleIoctl may refuse (the filesystem ioctl types and the
// btrfs commands that change something): the filter notifies only these.
NotifyWhen IoctlNotifyWhen();

// handlers_dir.cc
std::optional<Decision> HandleGetdents(Call& c, bool legacy);
std::optional<Decision> HandleChdir(Call& c);
std::optional<Decision> HandleFchdir(Call& c);
std::optional<Decision> HandleGetcwd(Call& c);
std::optional<Decision> HandleInotifyAddWatch(Call& c);

}  // namespace sandtrace::cow
