// Copy-up, quota accounting and the side table of upper directories.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cow/fs_util.h"
#include "cow/overlay_impl.h"
#include "tracer/base/errors.h"

namespace sandtrace::cow {

void Overlay::Impl::CheckLive() const {
  if (finished_) throw Fatal("cow: overlay used after commit, abort or keep");
}

std::string Overlay::Impl::TempName() { return "t" + std::to_string(tmp_counter_++); }

Status Overlay::Impl::Charge(uint64_t bytes, const char* what) {
  if (options_.quota_bytes != 0 && used_ + bytes > options_.quota_bytes) {
    return Err(ENOSPC, std::string("quota: ") + what);
  }
  used_ += bytes;
  return OkStatus();
}

void Overlay::Impl::Credit(uint64_t bytes) { used_ = bytes > used_ ? 0 : used_ - bytes; }

void Overlay::Impl::CreditRemovedName(const struct stat& st) {
  Credit(kEntryCost);
  if (S_ISDIR(st.st_mode) || st.st_nlink <= 1) {
    auto it = data_charged_.find(st.st_ino);
    if (it != data_charged_.end()) {
      Credit(it->second);
      data_charged_.erase(it);
    }
    virtual_owner_.erase(st.st_ino);
    origin_ids_.erase(st.st_ino);
  }
}

Status Overlay::Impl::SetOwner(int dir_fd, const std::string& name, const struct stat& st,
                               uid_t uid, gid_t gid) {
  if (!options_.force_virtual_chown) {
    int flags = AT_SYMLINK_NOFOLLOW | (name.empty() ? AT_EMPTY_PATH : 0);
    if (::fchownat(dir_fd, name.c_str(), uid, gid, flags) == 0) {
      virtual_owner_.erase(st.st_ino);
      return OkStatus();
    }
    if (errno != EPERM && errno != EINVAL) return ErrnoError("fchownat " + name);
  }
  // We may not give this owner away (or were told not to): keep it virtual,
  // so the view still shows it. EINVAL is an id with no mapping here.
  if (uid == st.st_uid && gid == st.st_gid) {
    virtual_owner_.erase(st.st_ino);
  } else {
    virtual_owner_[st.st_ino] = {uid, gid};
  }
  return OkStatus();
}

void Overlay::Impl::RestoreDirTimes(const DirNode& dir, const struct stat& before) {
  // A copy-up adds an entry to the upper directory, which the view must not
  // show as a change of that directory.
  (void)fs::SetTimesFd(dir.upper.get(), before);
}

Status Overlay::Impl::EnsureUpperChain(std::vector<DirNode>& stack) {
  for (size_t i = 1; i < stack.size(); ++i) {
    if (stack[i].upper) continue;
    if (auto s = CopyUpDir(stack[i - 1], stack[i]); !s) return s;
  }
  return OkStatus();
}

Status Overlay::Impl::CopyUpDir(const DirNode& parent, DirNode& node) {
  if (node.upper) return OkStatus();
  if (!node.lower) throw Fatal("cow: copy-up of a directory with no layer: " + node.path);
  auto st = fs::StatFd(node.lower.get());
  if (!st) return st.error();
  auto before = fs::StatFd(parent.upper.get());
  if (!before) return before.error();
  if (auto s = Charge(kEntryCost, "directory copy-up"); !s) return s;
  const std::string name = fs::SplitLast(node.path).second;
  const std::string tmp = TempName();
  auto fail = [&](Error e) -> Status {
    (void)::unlinkat(work_fd_.get(), tmp.c_str(), AT_REMOVEDIR);
    Credit(kEntryCost);
    return e;
  };
  if (::mkdirat(work_fd_.get(), tmp.c_str(), 0700) != 0) return fail(ErrnoError("mkdir copy-up"));
  auto fd = fs::OpenAt(work_fd_.get(), tmp, O_RDONLY | O_DIRECTORY);
  if (!fd) return fail(fd.error());
  auto tst = fs::StatFd(fd->get());
  if (!tst) return fail(tst.error());
  if (auto s = SetOwner(work_fd_.get(), tmp, *tst, st->st_uid, st->st_gid); !s) {
    return fail(s.error());
  }
  if (::fchmod(fd->get(), st->st_mode & 07777) != 0) return fail(ErrnoError("fchmod"));
  (void)fs::CopyXattrs(node.lower.get(), fd->get());
  (void)fs::SetTimesFd(fd->get(), *st);
  if (::renameat(work_fd_.get(), tmp.c_str(), parent.upper.get(), name.c_str()) != 0) {
    return fail(ErrnoError("rename copy-up " + node.path));
  }
  auto up = fs::OpenAt(parent.upper.get(), name, O_PATH | O_DIRECTORY);
  if (!up) return up.error();
  node.upper = std::move(*up);
  ForgetDirs();  // a cached node of this path has no upper
  dirs_[node.path] = DirMeta{node.lower_path, {}};
  RestoreDirTimes(parent, *before);
  NotifyCopyUp(node.path, FileType::kDirectory, 0);
  return OkStatus();
}

Result<Found> Overlay::Impl::CopyUpFile(const DirNode& parent, const std::string& name,
                                        const Found& found, bool with_data) {
  const struct stat& st = found.st;
  const std::string path = fs::Join(parent.path, name);
  if (found.type == FileType::kCharDevice || found.type == FileType::kBlockDevice) {
    return Err(EPERM, "copy-up of a device: " + path);
  }
  auto before = fs::StatFd(parent.upper.get());
  if (!before) return before.error();
  const std::string tmp = TempName();
  uint64_t data = 0;
  uint64_t charged = 0;
  auto fail = [&](Error e) -> Result<Found> {
    (void)::unlinkat(work_fd_.get(), tmp.c_str(), 0);
    Credit(charged);
    return e;
  };

  switch (found.type) {
    case FileType::kRegular: {
      data = with_data ? static_cast<uint64_t>(st.st_size) : 0;
      if (auto s = Charge(kEntryCost + data, "copy-up"); !s) return s.error();
      charged = kEntryCost + data;
      // O_NONBLOCK: should the name have become a FIFO meanwhile, the open
      // must not wait for a writer; the type check below then refuses it.
      auto src = fs::OpenAt(parent.lower.get(), name, O_RDONLY | O_NONBLOCK);
      if (!src) return fail(src.error());
      auto sst = fs::StatFd(src->get());
      if (!sst) return fail(sst.error());
      if (!S_ISREG(sst->st_mode)) return fail(Err(EIO, "copy-up source changed type: " + path));
      auto dst = fs::OpenAt(work_fd_.get(), tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
      if (!dst) return fail(dst.error());
      if (with_data) {
        if (auto s = fs::CopyData(src->get(), dst->get(), data); !s) return fail(s.error());
        NotifyLowerAccess(found.layer_path, LowerAccess::kRead);
      }
      auto tst = fs::StatFd(dst->get());
      if (!tst) return fail(tst.error());
      if (auto s = SetOwner(work_fd_.get(), tmp, *tst, st.st_uid, st.st_gid); !s) {
        return fail(s.error());
      }
      if (::fchmod(dst->get(), st.st_mode & 07777) != 0) return fail(ErrnoError("fchmod"));
      (void)fs::CopyXattrs(src->get(), dst->get());
      struct timespec ts[2] = {st.st_atim, st.st_mtim};
      (void)::futimens(dst->get(), ts);
      data_charged_[tst->st_ino] = data;
      if (sst->st_nlink == 1) origin_ids_[tst->st_ino] = {sst->st_dev, sst->st_ino};
      break;
    }
    case FileType::kSymlink: {
      auto target = fs::ReadlinkAt(parent.lower.get(), name);
      if (!target) return target.error();
      data = target->size();
      if (auto s = Charge(kEntryCost + data, "copy-up"); !s) return s.error();
      charged = kEntryCost + data;
      if (::symlinkat(target->c_str(), work_fd_.get(), tmp.c_str()) != 0) {
        return fail(ErrnoError("symlink copy-up"));
      }
      auto tst = fs::StatAt(work_fd_.get(), tmp);
      if (!tst) return fail(tst.error());
      if (auto s = SetOwner(work_fd_.get(), tmp, *tst, st.st_uid, st.st_gid); !s) {
        return fail(s.error());
      }
      (void)fs::SetTimesAt(work_fd_.get(), tmp, st);
      data_charged_[tst->st_ino] = data;
      break;
    }
    case FileType::kFifo:
    case FileType::kSocket: {
      if (auto s = Charge(kEntryCost, "copy-up"); !s) return s.error();
      charged = kEntryCost;
      // Never opened: a FIFO is recreated as a FIFO, a socket as a socket node.
      mode_t type = found.type == FileType::kFifo ? S_IFIFO : S_IFSOCK;
      if (::mknodat(work_fd_.get(), tmp.c_str(), type | 0600, 0) != 0) {
        return fail(ErrnoError("mknod copy-up"));
      }
      auto tst = fs::StatAt(work_fd_.get(), tmp);
      if (!tst) return fail(tst.error());
      if (auto s = SetOwner(work_fd_.get(), tmp, *tst, st.st_uid, st.st_gid); !s) {
        return fail(s.error());
      }
      auto pfd = fs::OpenAt(work_fd_.get(), tmp, O_PATH);
      if (!pfd) return fail(pfd.error());
      if (::chmod(fs::ProcFdPath(pfd->get()).c_str(), st.st_mode & 07777) != 0) {
        return fail(ErrnoError("chmod copy-up"));
      }
      auto lpfd = fs::OpenAt(parent.lower.get(), name, O_PATH);
      if (lpfd) (void)fs::CopyXattrs(lpfd->get(), pfd->get());
      (void)fs::SetTimesFd(pfd->get(), st);
      break;
    }
    default:
      return Err(EPERM, "copy-up of " + path);
  }
  if (::renameat(work_fd_.get(), tmp.c_str(), parent.upper.get(), name.c_str()) != 0) {
    return fail(ErrnoError("rename copy-up " + path));
  }
  RestoreDirTimes(parent, *before);
  NotifyCopyUp(path, found.type, data);
  auto f = Lookup(parent, name);
  if (!f) return f.error();
  return *f;
}

Status Overlay::Impl::CopyUpObject(Walk& w, bool with_data) {
  if (auto s = EnsureUpperChain(w.stack); !s) return s;
  if (w.last != Last::kName) {
    auto f = FoundOfNode(w.stack.back());
    if (!f) return f.error();
    w.found = *f;
    return OkStatus();
  }
  if (w.found.layer != Layer::kLower) return OkStatus();
  DirNode& parent = w.stack.back();
  if (w.found.type == FileType::kDirectory) {
    auto node = Descend(parent, w.name, w.found);
    if (!node) return node.error();
    if (auto s = CopyUpDir(parent, *node); !s) return s;
    auto f = Lookup(parent, w.name);
    if (!f) return f.error();
    w.found = *f;
    return OkStatus();
  }
  auto f = CopyUpFile(parent, w.name, w.found, with_data);
  if (!f) return f.error();
  w.found = *f;
  return OkStatus();
}

// ---- side table ----------------------------------------------------------------

DirMeta& Overlay::Impl::Meta(const std::string& path) {
  auto it = dirs_.find(path);
  if (it == dirs_.end()) throw Fatal("cow: no record for upper directory " + path);
  return it->second;
}

void Overlay::Impl::AddWhiteout(const DirNode& parent, const std::string& name) {
  Meta(parent.path).whiteouts.insert(name);
  NotifyWhiteout(fs::Join(parent.path, name));
}

void Overlay::Impl::ClearWhiteout(const DirNode& parent, const std::string& name) {
  auto it = dirs_.find(parent.path);
  if (it != dirs_.end()) it->second.whiteouts.erase(name);
}

void Overlay::Impl::RekeySubtree(const std::string& from, const std::string& to) {
  std::vector<std::pair<std::string, DirMeta>> moved;
  for (auto it = dirs_.lower_bound(from);
       it != dirs_.end() && it->first.compare(0, from.size(), from) == 0;) {
    if (fs::PathWithin(it->first, from)) {
      moved.emplace_back(to + it->first.substr(from.size()), std::move(it->second));
      it = dirs_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [k, v] : moved) dirs_[k] = std::move(v);
}

void Overlay::Impl::SwapSubtrees(const std::string& a, const std::string& b) {
  const std::string marker = std::string("\x01swap");  // never a valid view path prefix
  RekeySubtree(a, marker);
  RekeySubtree(b, a);
  RekeySubtree(marker, b);
}

void Overlay::Impl::DropSubtree(const std::string& path) {
  for (auto it = dirs_.lower_bound(path);
       it != dirs_.end() && it->first.compare(0, path.size(), path) == 0;) {
    if (fs::PathWithin(it->first, path)) {
      it = dirs_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace sandtrace::cow
