// Overlay construction, the public wrappers that need no walk of their own,
// quota re-measurement, Keep and Abort.
#include "cow/overlay.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "cow/commit.h"
#include "cow/fs_util.h"
#include "cow/overlay_impl.h"
#include "cow/state_file.h"
#include "cow/storage.h"

namespace sandtrace::cow {

FileType FileTypeFromMode(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return FileType::kRegular;
    case S_IFDIR:
      return FileType::kDirectory;
    case S_IFLNK:
      return FileType::kSymlink;
    case S_IFIFO:
      return FileType::kFifo;
    case S_IFSOCK:
      return FileType::kSocket;
    case S_IFCHR:
      return FileType::kCharDevice;
    case S_IFBLK:
      return FileType::kBlockDevice;
    default:
      return FileType::kNone;
  }
}

uint8_t DirentType(FileType type) {
  switch (type) {
    case FileType::kRegular:
      return DT_REG;
    case FileType::kDirectory:
      return DT_DIR;
    case FileType::kSymlink:
      return DT_LNK;
    case FileType::kFifo:
      return DT_FIFO;
    case FileType::kSocket:
      return DT_SOCK;
    case FileType::kCharDevice:
      return DT_CHR;
    case FileType::kBlockDevice:
      return DT_BLK;
    default:
      return DT_UNKNOWN;
  }
}

const char* FileTypeName(FileType type) {
  switch (type) {
    case FileType::kRegular:
      return "file";
    case FileType::kDirectory:
      return "dir";
    case FileType::kSymlink:
      return "symlink";
    case FileType::kFifo:
      return "fifo";
    case FileType::kSocket:
      return "socket";
    case FileType::kCharDevice:
      return "chardev";
    case FileType::kBlockDevice:
      return "blockdev";
    default:
      return "none";
  }
}

char ChangeKindLetter(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kAdded:
      return 'A';
    case ChangeKind::kModified:
      return 'M';
    case ChangeKind::kDeleted:
      return 'D';
  }
  return '?';
}

namespace {

Result<std::string> Canonical(const std::string& path, const char* what) {
  if (path.empty() || path.front() != '/')
    return Err(EINVAL, std::string(what) + " must be absolute");
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return ErrnoError(std::string(what) + " " + path);
  return std::string(buf);
}

}  // namespace

Overlay::Overlay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Overlay::~Overlay() = default;

Result<std::unique_ptr<Overlay>> Overlay::Create(const OverlayPaths& paths,
                                                 OverlayOptions options) {
  auto impl = std::make_unique<Impl>();
  auto lower = Canonical(paths.lower, "workdir");
  if (!lower) return lower.error();
  auto storage = Canonical(paths.storage, "storage");
  if (!storage) return storage.error();
  if (fs::PathWithin(*storage, *lower) || fs::PathWithin(*lower, *storage)) {
    return Err(EINVAL, "the storage area and the workdir must not contain each other");
  }
  if (options.recover_interrupted_commit) {
    auto recovered = RecoverWorkdir(*lower);
    if (!recovered) return recovered.error();
    for (const auto& r : *recovered) impl->recovery_messages_.push_back(r.message);
  }
  impl->lower_abs_ = *lower;
  impl->storage_abs_ = *storage;
  impl->upper_abs_ = *storage + "/upper";
  impl->lower_comps_ = fs::SplitComponents(impl->lower_abs_);
  impl->upper_comps_ = fs::SplitComponents(impl->upper_abs_);
  impl->options_ = std::move(options);

  auto lfd = fs::OpenAbsDir(*lower);
  if (!lfd) return lfd.error();
  impl->lower_fd_ = std::move(*lfd);
  int sfd = ::open(storage->c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sfd < 0) return ErrnoError("storage " + *storage);
  impl->storage_fd_.reset(sfd);
  if (::mkdirat(sfd, "upper", 0700) != 0) return ErrnoError("mkdir upper");
  if (::mkdirat(sfd, "work", 0700) != 0) return ErrnoError("mkdir work");
  if (::mkdirat(sfd, "fifos", 0700) != 0) return ErrnoError("mkdir fifos");
  auto ffd = fs::OpenAt(sfd, "fifos", O_PATH | O_DIRECTORY);
  if (!ffd) return ffd.error();
  impl->fifos_fd_ = std::move(*ffd);
  impl->fifos_abs_ = *storage + "/fifos";
  auto ufd = fs::OpenAt(sfd, "upper", O_PATH | O_DIRECTORY);
  if (!ufd) return ufd.error();
  impl->upper_fd_ = std::move(*ufd);
  auto wfd = fs::OpenAt(sfd, "work", O_PATH | O_DIRECTORY);
  if (!wfd) return wfd.error();
  impl->work_fd_ = std::move(*wfd);

  // The upper root stands for the workdir root: same mode, owner and times.
  auto lst = fs::StatFd(impl->lower_fd_.get());
  if (!lst) return lst.error();
  auto ust = fs::StatFd(impl->upper_fd_.get());
  if (!ust) return ust.error();
  impl->lower_dev_ = lst->st_dev;
  impl->unify_device_ = impl->options_.unify_device.value_or(lst->st_dev != ust->st_dev);
  if (auto s = impl->SetOwner(impl->upper_fd_.get(), "", *ust, lst->st_uid, lst->st_gid); !s) {
    return s.error();
  }
  if (::chmod(fs::ProcFdPath(impl->upper_fd_.get()).c_str(), lst->st_mode & 07777) != 0) {
    return ErrnoError("chmod upper root");
  }
  (void)fs::SetTimesFd(impl->upper_fd_.get(), *lst);
  impl->dirs_[""] = DirMeta{std::string(), {}};
  return std::unique_ptr<Overlay>(new Overlay(std::move(impl)));
}

const std::vector<std::string>& Overlay::recovery_messages() const {
  return impl_->recovery_messages_;
}
const std::string& Overlay::lower_root() const { return impl_->lower_abs_; }
const std::string& Overlay::upper_root() const { return impl_->upper_abs_; }
const std::string& Overlay::storage_root() const { return impl_->storage_abs_; }
const std::string& Overlay::fifo_dir() const { return impl_->fifos_abs_; }

std::optional<std::string> Overlay::FifoLinkView(std::string_view real) const {
  if (!fs::PathWithin(real, impl_->fifos_abs_) || real.size() == impl_->fifos_abs_.size()) {
    return std::nullopt;
  }
  auto it = impl_->fifo_link_views_.find(std::string(real.substr(impl_->fifos_abs_.size() + 1)));
  if (it == impl_->fifo_link_views_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Overlay::ViewPathOf(std::string_view real_abs_path) const {
  return impl_->ViewPathOf(real_abs_path);
}

Base Overlay::BaseOf(std::string_view real_abs_path) const {
  auto view = impl_->ViewPathOf(real_abs_path);
  if (!view) return Base::Outside(std::string(real_abs_path));
  Base b = Base::View(*view);
  b.real_is_upper = fs::PathWithin(real_abs_path, impl_->upper_abs_);
  return b;
}

Result<Resolved> Overlay::Resolve(const Base& base, std::string_view path,
                                  const ResolveOptions& options) const {
  impl_->CheckLive();
  auto w = impl_->DoWalk(base, path, options);
  if (!w) return w.error();
  return std::move(w->res);
}

// ---- quota --------------------------------------------------------------------------

Status Overlay::Remeasure(const Base& base, std::string_view path) {
  Impl& im = *impl_;
  im.CheckLive();
  ResolveOptions o;
  o.follow_final = false;
  auto w = im.WalkInside(base, path, o);
  if (!w) return w.error();
  if (!w->res.exists || w->found.layer != Layer::kUpper || w->found.type != FileType::kRegular) {
    return OkStatus();
  }
  uint64_t& charged = im.data_charged_[w->found.st.st_ino];
  uint64_t now = static_cast<uint64_t>(w->found.st.st_size);
  if (now >= charged) {
    im.used_ += now - charged;
  } else {
    im.Credit(charged - now);
  }
  charged = now;
  if (im.options_.quota_bytes && im.used_ > im.options_.quota_bytes) {
    return Err(ENOSPC, "upper over quota after " + w->res.path);
  }
  return OkStatus();
}

namespace {

// Visits every regular file of the upper tree (by O_PATH dir fds, no follow).
void ForEachUpperFile(int dir_fd, const std::function<void(const struct stat&)>& fn) {
  std::vector<std::pair<std::string, uint8_t>> entries;
  (void)fs::ReadDir(dir_fd, [&](std::string name, uint8_t type, ino_t) {
    entries.emplace_back(std::move(name), type);
  });
  for (const auto& [name, type] : entries) {
    if (type == DT_DIR) {
      auto sub = fs::OpenAt(dir_fd, name, O_PATH | O_DIRECTORY);
      if (sub) ForEachUpperFile(sub->get(), fn);
    } else if (type == DT_REG) {
      auto st = fs::StatAt(dir_fd, name);
      if (st) fn(*st);
    }
  }
}

}  // namespace

Status Overlay::RemeasureAll() {
  Impl& im = *impl_;
  im.CheckLive();
  ForEachUpperFile(im.upper_fd_.get(), [&](const struct stat& st) {
    uint64_t& charged = im.data_charged_[st.st_ino];
    uint64_t now = static_cast<uint64_t>(st.st_size);
    if (now >= charged) {
      im.used_ += now - charged;
    } else {
      im.Credit(charged - now);
    }
    charged = now;
  });
  if (im.options_.quota_bytes && im.used_ > im.options_.quota_bytes) {
    return Err(ENOSPC, "upper over quota");
  }
  return OkStatus();
}

uint64_t Overlay::used_bytes() const { return impl_->used_; }

// ---- keep / abort --------------------------------------------------------------------

Status Overlay::Keep() {
  Impl& im = *impl_;
  im.CheckLive();
  im.ForgetDirs();
  im.finished_ = true;
  return WriteStateFile(im);
}

Status Overlay::Abort() {
  Impl& im = *impl_;
  im.CheckLive();
  im.ForgetDirs();
  im.finished_ = true;
  Status s = RemoveTree(im.storage_abs_);
  if (im.options_.observer) im.options_.observer->OnDiscard(s);
  return s;
}

}  // namespace sandtrace::cow
