// Read-side queries on the merged view: stat, readlink, access, listing,
// xattrs; and the DAC checks used when OverlayOptions::creds is set.
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <sys/sysmacros.h>

#include <algorithm>
#include <functional>
#include <map>
#include <unordered_set>

#include "cow/fs_util.h"
#include "cow/overlay_impl.h"

namespace sandtrace::cow {

namespace {

// FNV-1a, 64 bits: a stable, platform-independent hash for listing offsets.
uint64_t NameHash(std::string_view name) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

FileType FileTypeFromDirent(uint8_t t) {
  switch (t) {
    case DT_REG:
      return FileType::kRegular;
    case DT_DIR:
      return FileType::kDirectory;
    case DT_LNK:
      return FileType::kSymlink;
    case DT_FIFO:
      return FileType::kFifo;
    case DT_SOCK:
      return FileType::kSocket;
    case DT_CHR:
      return FileType::kCharDevice;
    case DT_BLK:
      return FileType::kBlockDevice;
    default:
      return FileType::kNone;
  }
}

}  // namespace

void Overlay::Impl::ApplyVirtualOwner(Layer layer, struct stat& st) const {
  if (layer != Layer::kUpper || virtual_owner_.empty()) return;
  auto it = virtual_owner_.find(st.st_ino);
  if (it == virtual_owner_.end()) return;
  st.st_uid = it->second.first;
  st.st_gid = it->second.second;
}

struct stat Overlay::Impl::DirStat(const DirNode& dir) const {
  auto f = FoundOfNode(dir);
  return f ? f->st : (struct stat){};
}

Result<std::vector<DirEntry>> Overlay::Impl::ListNode(const DirNode& node) const {
  std::vector<DirEntry> out;
  const DirFd& self = node.upper ? node.upper : node.lower;
  struct stat st {};
  (void)::fstat(self.get(), &st);
  struct stat parent = st;
  if (!node.path.empty()) (void)::fstatat(self.get(), "..", &parent, AT_SYMLINK_NOFOLLOW);
  // Upper inode numbers as the view shows them (Statx).
  auto view_ino = [this](ino_t ino) {
    dev_t dev = 0;
    ViewIdentity(dev, ino);
    return ino;
  };
  out.push_back(
      DirEntry{".", FileType::kDirectory, node.upper ? view_ino(st.st_ino) : st.st_ino, 1});
  out.push_back(DirEntry{"..", FileType::kDirectory,
                         node.upper ? view_ino(parent.st_ino) : parent.st_ino, 2});
  // Upper names shadow lower ones; whiteouts hide lower ones.
  std::unordered_set<std::string> upper_names;
  if (node.upper) {
    auto s = fs::ReadDir(node.upper.get(), [&](std::string name, uint8_t t, ino_t ino) {
      upper_names.insert(name);
      out.push_back(DirEntry{std::move(name), FileTypeFromDirent(t), view_ino(ino), 0});
    });
    if (!s) return s.error();
  }
  if (node.lower) {
    // The recorder snapshots every name of a listed lower directory.
    NotifyLowerAccess(node.lower_path, LowerAccess::kList);
    const std::set<std::string>* whiteouts = nullptr;
    if (node.upper) {
      auto it = dirs_.find(node.path);
      if (it != dirs_.end() && !it->second.whiteouts.empty()) whiteouts = &it->second.whiteouts;
    }
    auto s = fs::ReadDir(node.lower.get(), [&](std::string name, uint8_t t, ino_t ino) {
      if (whiteouts && whiteouts->count(name)) return;
      if (!upper_names.empty() && upper_names.count(name)) return;
      out.push_back(DirEntry{std::move(name), FileTypeFromDirent(t), ino, 0});
    });
    if (!s) return s.error();
  }
  for (size_t i = 2; i < out.size(); ++i) out[i].off = NameHash(out[i].name) >> 2;
  std::sort(out.begin() + 2, out.end(), [](const DirEntry& a, const DirEntry& b) {
    return a.off != b.off ? a.off < b.off : a.name < b.name;
  });
  uint64_t prev = 2;
  for (size_t i = 2; i < out.size(); ++i) {
    // A collision (rare) takes the next free offset, so offsets stay strictly
    // increasing; they only shift if the colliding names come and go.
    out[i].off = std::max(out[i].off, prev + 1);
    prev = out[i].off;
  }
  return out;
}

bool Overlay::Impl::IsEmptyDir(const DirNode& node) const {
  bool any = false;
  if (node.upper) {
    (void)fs::ReadDir(node.upper.get(), [&](std::string, uint8_t, ino_t) { any = true; });
    if (any) return false;
  }
  if (node.lower) {
    NotifyLowerAccess(node.lower_path, LowerAccess::kList);
    const std::set<std::string>* whiteouts = nullptr;
    if (node.upper) {
      auto it = dirs_.find(node.path);
      if (it != dirs_.end()) whiteouts = &it->second.whiteouts;
    }
    (void)fs::ReadDir(node.lower.get(), [&](std::string name, uint8_t, ino_t) {
      if (!whiteouts || !whiteouts->count(name)) any = true;
    });
  }
  return !any;
}

Result<UniqueFd> Overlay::Impl::PathFdOf(const Walk& w) const {
  if (w.last != Last::kName) {
    const DirNode& node = w.stack.back();
    return fs::OpenAt(node.upper ? node.upper.get() : node.lower.get(), "", O_PATH);
  }
  const DirNode& parent = w.stack.back();
  int dir = w.found.layer == Layer::kUpper ? parent.upper.get() : parent.lower.get();
  return fs::OpenAt(dir, w.name, O_PATH);
}

// ---- DAC ---------------------------------------------------------------------------

bool Overlay::Impl::InGroup(gid_t gid) const {
  const Credentials& c = *options_.creds;
  return c.gid == gid || std::find(c.groups.begin(), c.groups.end(), gid) != c.groups.end();
}

Status Overlay::Impl::CheckPermission(const struct stat& st, int want) const {
  if (!options_.creds || want == 0) return OkStatus();
  const Credentials& c = *options_.creds;
  if (c.uid == 0) {
    if ((want & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111)) {
      return Err(EACCES, "not executable");
    }
    return OkStatus();
  }
  unsigned bits;
  if (c.uid == st.st_uid) {
    bits = (st.st_mode >> 6) & 7;
  } else if (InGroup(st.st_gid)) {
    bits = (st.st_mode >> 3) & 7;
  } else {
    bits = st.st_mode & 7;
  }
  if ((static_cast<unsigned>(want) & bits) != static_cast<unsigned>(want)) {
    return Err(EACCES, "permission");
  }
  return OkStatus();
}

Status Overlay::Impl::CheckDirWrite(const DirNode& dir) const {
  // Root may write in every directory (CheckPermission): no stat needed.
  if (!options_.creds || options_.creds->uid == 0) return OkStatus();
  return CheckPermission(DirStat(dir), W_OK | X_OK);
}

Status Overlay::Impl::CheckSticky(const DirNode& dir, const struct stat& victim) const {
  if (!options_.creds || options_.creds->uid == 0) return OkStatus();
  struct stat d = DirStat(dir);
  if ((d.st_mode & S_ISVTX) && options_.creds->uid != victim.st_uid &&
      options_.creds->uid != d.st_uid) {
    return Err(EPERM, "sticky directory");
  }
  return OkStatus();
}

Status Overlay::Impl::CheckOwner(const struct stat& st) const {
  if (!options_.creds || options_.creds->uid == 0) return OkStatus();
  if (options_.creds->uid != st.st_uid) return Err(EPERM, "not the owner");
  return OkStatus();
}

// ---- public queries ------------------------------------------------------------------

bool Overlay::HasIdentityOverrides() const {
  return !impl_->origin_ids_.empty() || impl_->unify_device_;
}

bool Overlay::unify_device() const { return impl_->unify_device_; }

Result<struct statx> Overlay::Statx(const Base& base, std::string_view path, bool follow) const {
  auto w = impl_->WalkExisting(base, path, follow);
  if (!w) return w.error();
  auto fd = impl_->PathFdOf(*w);
  if (!fd) return fd.error();
  struct statx stx {};
  if (::statx(fd->get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME,
              &stx) != 0) {
    return ErrnoError("statx " + w->res.path);
  }
  if (w->found.layer == Layer::kUpper) {
    auto it = impl_->virtual_owner_.find(stx.stx_ino);
    if (it != impl_->virtual_owner_.end()) {
      stx.stx_uid = it->second.first;
      stx.stx_gid = it->second.second;
    }
    dev_t dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
    ino_t ino = stx.stx_ino;
    impl_->ViewIdentity(dev, ino);
    stx.stx_dev_major = major(dev);
    stx.stx_dev_minor = minor(dev);
    stx.stx_ino = ino;
  }
  // A merged directory's link count is not known without a full listing;
  // 1 is what overlayfs reports and tells fts/find not to count on it.
  if (w->found.type == FileType::kDirectory) {
    const DirNode* node = w->last == Last::kName ? nullptr : &w->stack.back();
    bool merged = node ? (node->upper && node->lower)
                       : (w->found.layer == Layer::kUpper && impl_->dirs_.count(w->res.path) &&
                          impl_->dirs_.at(w->res.path).origin.has_value());
    if (merged) stx.stx_nlink = 1;
  }
  // The link fifo_dir() holds for the child is not part of the view.
  if ((w->found.type == FileType::kFifo || w->found.type == FileType::kSocket) &&
      w->found.layer == Layer::kUpper && impl_->fifo_links_.count(w->found.st.st_ino) &&
      stx.stx_nlink > 1) {
    --stx.stx_nlink;
  }
  return stx;
}

Result<Walk> Overlay::Impl::WalkExisting(const Base& base, std::string_view path,
                                         bool follow) const {
  CheckLive();
  ResolveOptions o;
  o.follow_final = follow;
  auto w = WalkInside(base, path, o);
  if (!w) return w.error();
  if (!w->res.exists) return Err(ENOENT, w->res.path);
  return w;
}

Result<std::pair<UniqueFd, std::string>> Overlay::ParentOf(const Base& base, std::string_view path,
                                                           bool follow) const {
  auto w = impl_->WalkExisting(base, path, follow);
  if (!w) return w.error();
  if (w->last != Last::kName) return Err(EISDIR, w->res.path);
  const DirNode& parent = w->stack.back();
  const int dir = w->found.layer == Layer::kUpper ? parent.upper.get() : parent.lower.get();
  auto fd = fs::DupFd(dir);
  if (!fd) return fd.error();
  return std::pair{std::move(*fd), w->name};
}

Result<struct stat> Overlay::Stat(const Base& base, std::string_view path, bool follow) const {
  auto stx = Statx(base, path, follow);
  if (!stx) return stx.error();
  struct stat st {};
  st.st_dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
  st.st_ino = stx->stx_ino;
  st.st_mode = stx->stx_mode;
  st.st_nlink = stx->stx_nlink;
  st.st_uid = stx->stx_uid;
  st.st_gid = stx->stx_gid;
  st.st_rdev = makedev(stx->stx_rdev_major, stx->stx_rdev_minor);
  st.st_size = static_cast<off_t>(stx->stx_size);
  st.st_blksize = stx->stx_blksize;
  st.st_blocks = static_cast<blkcnt_t>(stx->stx_blocks);
  st.st_atim = {stx->stx_atime.tv_sec, stx->stx_atime.tv_nsec};
  st.st_mtim = {stx->stx_mtime.tv_sec, stx->stx_mtime.tv_nsec};
  st.st_ctim = {stx->stx_ctime.tv_sec, stx->stx_ctime.tv_nsec};
  return st;
}

Result<std::string> Overlay::Readlink(const Base& base, std::string_view path) const {
  auto w = impl_->WalkExisting(base, path, false);
  if (!w) return w.error();
  if (w->found.type != FileType::kSymlink || w->last != Last::kName) {
    return Err(EINVAL, "not a symlink");
  }
  const DirNode& parent = w->stack.back();
  int dir = w->found.layer == Layer::kUpper ? parent.upper.get() : parent.lower.get();
  return fs::ReadlinkAt(dir, w->name);
}

Status Overlay::Access(const Base& base, std::string_view path, int mode, bool follow) const {
  impl_->CheckLive();
  if (mode & ~(R_OK | W_OK | X_OK)) return Err(EINVAL, "access mode");
  auto w = impl_->WalkExisting(base, path, follow);
  if (!w) return w.error();
  if (mode == F_OK) return OkStatus();
  if (impl_->options_.creds) return impl_->CheckPermission(w->found.st, mode);
  if ((mode & X_OK) && w->found.type != FileType::kDirectory && !(w->found.st.st_mode & 0111)) {
    return Err(EACCES, "not executable");
  }
  return OkStatus();
}

Result<std::vector<DirEntry>> Overlay::ListDir(const Base& base, std::string_view path) const {
  auto w = impl_->WalkExisting(base, path, true);
  if (!w) return w.error();
  if (w->found.type != FileType::kDirectory) return Err(ENOTDIR, w->res.path);
  if (w->last != Last::kName) return impl_->ListNode(w->stack.back());
  auto node = impl_->Descend(w->stack.back(), w->name, w->found);
  if (!node) return node.error();
  if (impl_->options_.creds) {
    if (auto s = impl_->CheckPermission(w->found.st, R_OK); !s) return s.error();
  }
  return impl_->ListNode(*node);
}

Result<std::string> Overlay::GetXattr(const Base& base, std::string_view path,
                                      const std::string& name, bool follow) const {
  auto w = impl_->WalkExisting(base, path, follow);
  if (!w) return w.error();
  if (w->found.type == FileType::kSymlink) return Err(ENODATA, "xattr of a symlink");
  auto fd = impl_->PathFdOf(*w);
  if (!fd) return fd.error();
  std::string p = fs::ProcFdPath(fd->get());
  ssize_t n = ::getxattr(p.c_str(), name.c_str(), nullptr, 0);
  if (n < 0) return ErrnoError("getxattr");
  std::string value(static_cast<size_t>(n), '\0');
  n = ::getxattr(p.c_str(), name.c_str(), value.data(), value.size());
  if (n < 0) return ErrnoError("getxattr");
  value.resize(static_cast<size_t>(n));
  return value;
}

Result<std::vector<std::string>> Overlay::ListXattr(const Base& base, std::string_view path,
                                                    bool follow) const {
  auto w = impl_->WalkExisting(base, path, follow);
  if (!w) return w.error();
  std::vector<std::string> out;
  if (w->found.type == FileType::kSymlink) return out;
  auto fd = impl_->PathFdOf(*w);
  if (!fd) return fd.error();
  std::string p = fs::ProcFdPath(fd->get());
  ssize_t n = ::listxattr(p.c_str(), nullptr, 0);
  if (n < 0) return ErrnoError("listxattr");
  std::string names(static_cast<size_t>(n), '\0');
  n = ::listxattr(p.c_str(), names.data(), names.size());
  if (n < 0) return ErrnoError("listxattr");
  for (size_t pos = 0; pos < static_cast<size_t>(n);) {
    std::string one = names.c_str() + pos;
    pos += one.size() + 1;
    if (!one.empty()) out.push_back(std::move(one));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sandtrace::cow
