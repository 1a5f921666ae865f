// Overlay::Impl: the engine's state and its internal steps. Internal to
// cow/ (the public contract is cow/overlay.h); split across resolve.cc,
// copy_up.cc, open.cc, mutate.cc, query.cc, changes.cc and commit.cc.
#pragma once

#include <sys/stat.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "cow/overlay.h"
#include "tracer/base/errors.h"
#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace::cow {

struct CommitPlan;

// The side-table record of one upper directory (see the design note).
struct DirMeta {
  std::optional<std::string> origin;  // lower dir merged beneath; nullopt = opaque
  std::set<std::string> whiteouts;    // names of `origin` hidden from the view
};

// An O_PATH directory fd shared by the walks that hold it: a DirNode on a
// walk's stack, the walk cache (Overlay::Impl::dir_cache_), or neither for
// the roots (borrowed from the Impl, which outlives every walk). Closed when
// the last owner lets go, so dropping a cache entry never closes an fd a
// walk in progress still uses.
class DirFd {
 public:
  DirFd() = default;
  DirFd(UniqueFd fd)  // NOLINT: a fresh fd becomes shared
      : fd_(fd.valid() ? std::make_shared<const UniqueFd>(std::move(fd)) : nullptr) {}
  // Refers to `fd` without owning it (it must outlive this handle).
  static DirFd Borrow(const UniqueFd& fd) {
    DirFd d;
    d.fd_ = std::shared_ptr<const UniqueFd>(std::shared_ptr<const UniqueFd>(), &fd);
    return d;
  }
  int get() const { return fd_ ? fd_->get() : -1; }
  bool valid() const { return get() >= 0; }
  explicit operator bool() const { return valid(); }

 private:
  std::shared_ptr<const UniqueFd> fd_;
};

// A directory of the view, open (O_PATH) on the layers that hold it.
struct DirNode {
  std::string path;        // view path
  DirFd upper;             // the upper directory, if there is one
  DirFd lower;             // the lower directory merged here, if any
  std::string lower_path;  // path of `lower` in the lower layer
  // The kernel, walking the real workdir, would do its lookups in the lower
  // directory at this same path and see what the view sees there (through
  // names that are neither shadowed nor whited out).
  bool kernel_path = false;
};

// One object of the view, as found by a lookup.
struct Found {
  FileType type = FileType::kNone;
  Layer layer = Layer::kNone;
  std::string layer_path;
  struct stat st {};
  // kNone because a whiteout hides the name (the lower was not consulted);
  // otherwise a kNone from Lookup means the lower has no such entry either.
  bool hidden = false;
};

// How a path ended: a name, ".", "..", or the root ("/", or "" components).
enum class Last : uint8_t { kName, kDot, kDotDot, kRoot };

// A full resolution: the public result plus what operations need.
struct Walk {
  Resolved res;
  // The chain of directories from the view root. For Last::kName,
  // stack.back() is the parent of `name`; otherwise it is the object itself.
  std::vector<DirNode> stack;
  std::string name;
  Last last = Last::kName;
  Found found;  // the object (type kNone when absent)
};

class Overlay::Impl {
 public:
  Impl() = default;

  // ---- roots and state -------------------------------------------------------
  std::string lower_abs_, upper_abs_, storage_abs_;
  std::vector<std::string> lower_comps_, upper_comps_;
  UniqueFd lower_fd_, upper_fd_, storage_fd_, work_fd_;  // O_PATH | O_DIRECTORY
  OverlayOptions options_;
  std::map<std::string, DirMeta> dirs_;  // by view path; every upper dir has one
  // Ownership kept virtual, by upper inode (removed with the last link).
  std::map<ino_t, std::pair<uid_t, gid_t>> virtual_owner_;
  // Upper inode -> the (st_dev, st_ino) of the lower file it was copied up
  // from, when that file had one name: the view keeps a file's identity
  // across its copy-up, as it would keep it natively (git's local clone
  // links a file, then checks the new name's inode against the old one).
  std::map<ino_t, std::pair<dev_t, ino_t>> origin_ids_;
  dev_t lower_dev_ = 0;
  bool unify_device_ = false;
  // The (st_dev, st_ino) the view shows for an upper object whose real ones
  // are `dev`, `ino` (origin_ids_, then unify_device_).
  void ViewIdentity(dev_t& dev, ino_t& ino) const {
    auto it = origin_ids_.find(ino);
    if (it != origin_ids_.end()) {
      dev = it->second.first;
      ino = it->second.second;
    } else if (unify_device_) {
      dev = lower_dev_;
      ino |= kUpperInoBit;
    }
  }
  // <storage>/fifos: hard links to upper FIFOs the child opens itself
  // (Overlay::Open), named by a counter (deterministic, for replay).
  UniqueFd fifos_fd_;
  std::string fifos_abs_;
  std::map<ino_t, std::string> fifo_links_;             // upper inode -> link name
  std::map<std::string, std::string> fifo_link_views_;  // link name -> view path when made
  uint64_t fifo_counter_ = 0;
  // The absolute path of the link in fifos_abs_ to the FIFO `name` in `dir`
  // (inode `ino`), made if needed.
  Result<std::string> FifoLink(int dir, const std::string& name, ino_t ino,
                               const std::string& view);
  std::map<ino_t, uint64_t> data_charged_;  // upper inode -> data bytes charged
  uint64_t used_ = 0;
  uint64_t tmp_counter_ = 0;  // names of work/ temporaries (deterministic)
  std::vector<std::string> recovery_messages_;
  bool finished_ = false;

  // The walk cache: directories of the view by view path, as Descend opened
  // them (never the root, never a name that was not a directory). A walk
  // through "a/b/c" then costs no lookup or open for "a" and "a/b" once
  // they are here. What can change which directories a view path names is
  // the engine's own doing: a rename, an rmdir, a directory copy-up (the
  // node gains an upper), a commit or abort; each calls ForgetDirs. An
  // entry is made right after the Lookup that found the directory, which
  // told the observer of any lower access; a hit has nothing new to tell.
  // Other processes changing the real workdir during a run are outside the
  // contract (DESIGN.md §4); a cached directory then follows its inode, as
  // an open fd would.
  // Bounded: at most kDirCacheSize entries (two fds each), cleared when full.
  static constexpr size_t kDirCacheSize = 32;
  mutable std::unordered_map<std::string, DirNode> dir_cache_;
  void ForgetDirs() const { dir_cache_.clear(); }
  // The cached directory `path`, or nullptr.
  const DirNode* CachedDir(const std::string& path) const;
  void CacheDir(const DirNode& node) const;

  void CheckLive() const;

  // ---- resolve.cc --------------------------------------------------------------
  DirNode RootNode() const;
  Result<Found> Lookup(const DirNode& dir, const std::string& name) const;
  Result<DirNode> Descend(const DirNode& parent, const std::string& name, const Found& found) const;
  Result<Found> FoundOfNode(const DirNode& node) const;
  // create_last: the walk is for creating the last component (mkdir,
  // symlink, link, mknod, O_CREAT): a trailing slash then neither follows
  // a final symlink nor requires a directory, as in the kernel's
  // filename_create(); the operation decides.
  Result<Walk> DoWalk(const Base& base, std::string_view path, const ResolveOptions& options,
                      bool create_last = false) const;
  // DoWalk, then EXDEV for outside results (mutations and queries).
  Result<Walk> WalkInside(const Base& base, std::string_view path, const ResolveOptions& options,
                          bool create_last = false) const;
  // CheckLive, then WalkInside to an object that must exist (ENOENT).
  Result<Walk> WalkExisting(const Base& base, std::string_view path, bool follow) const;
  std::optional<std::string> ViewPathOf(std::string_view real) const;
  bool HasLowerEntry(const DirNode& dir, const std::string& name) const;

  // ---- copy_up.cc --------------------------------------------------------------
  Status Charge(uint64_t bytes, const char* what);
  void Credit(uint64_t bytes);
  // Copies up every directory of the stack that has no upper yet.
  Status EnsureUpperChain(std::vector<DirNode>& stack);
  // Copies up the directory `node` (child of `parent`, whose upper exists).
  Status CopyUpDir(const DirNode& parent, DirNode& node);
  // Copies up the non-directory `name` of `parent` (its upper exists); data
  // only if with_data. Returns the upper object.
  Result<Found> CopyUpFile(const DirNode& parent, const std::string& name, const Found& found,
                           bool with_data);
  // Makes the object of a kName walk upper (directories: copied up with their
  // stack; others: copied up). Afterwards w.found is the upper object.
  Status CopyUpObject(Walk& w, bool with_data);
  // A fresh deterministic name in work/.
  std::string TempName();
  // Restores the times a directory had before a copy-up added to it.
  void RestoreDirTimes(const DirNode& dir, const struct stat& before);
  // Accounting helpers for removing one name of an upper object.
  void CreditRemovedName(const struct stat& st);
  Status SetOwner(int dir_fd, const std::string& name, const struct stat& st, uid_t uid, gid_t gid);

  // ---- side table ------------------------------------------------------------------
  DirMeta& Meta(const std::string& path);
  void AddWhiteout(const DirNode& parent, const std::string& name);
  void ClearWhiteout(const DirNode& parent, const std::string& name);
  // Moves the side-table records of the subtree at `from` to `to`.
  void RekeySubtree(const std::string& from, const std::string& to);
  void SwapSubtrees(const std::string& a, const std::string& b);
  void DropSubtree(const std::string& path);

  // ---- query.cc --------------------------------------------------------------------
  Result<std::vector<DirEntry>> ListNode(const DirNode& node) const;
  void ApplyVirtualOwner(Layer layer, struct stat& st) const;
  bool IsEmptyDir(const DirNode& node) const;
  // An fd usable with /proc/self/fd paths (O_PATH) for the object of a walk.
  Result<UniqueFd> PathFdOf(const Walk& w) const;

  // ---- changes.cc: the diff of the view against the lower -------------------
  Status Diff(ChangeList& changes, CommitPlan* plan) const;

  // ---- permissions (DAC with options_.creds) ------------------------------
  bool InGroup(gid_t gid) const;
  Status CheckPermission(const struct stat& st, int want) const;  // R_OK|W_OK|X_OK bits
  Status CheckDirWrite(const DirNode& dir) const;
  Status CheckSticky(const DirNode& dir, const struct stat& victim) const;
  Status CheckOwner(const struct stat& st) const;
  struct stat DirStat(const DirNode& dir) const;

  // ---- observer ------------------------------------------------------------------------
  void NotifyCopyUp(const std::string& path, FileType type, uint64_t bytes) const {
    if (options_.observer) options_.observer->OnCopyUp(path, type, bytes);
  }
  void NotifyCreate(const std::string& path, FileType type) const {
    if (options_.observer) options_.observer->OnCreate(path, type);
  }
  void NotifyWhiteout(const std::string& path) const {
    if (options_.observer) options_.observer->OnWhiteout(path);
  }
  void NotifyLowerAccess(const std::string& layer_path, LowerAccess kind) const {
    if (options_.observer) options_.observer->OnLowerAccess(layer_path, kind);
  }
};

}  // namespace sandtrace::cow
