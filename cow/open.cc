// Open on the merged view: read-only opens of unchanged files use the lower,
// anything that may write copies up and opens the upper.
#include <fcntl.h>
#include <unistd.h>

#include "cow/fs_util.h"
#include "cow/overlay_impl.h"

namespace sandtrace::cow {

namespace {

// Flags passed through to the engine's own open of an existing object.
constexpr int kPassFlags = O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME |
                           O_LARGEFILE | O_NOCTTY | O_DIRECTORY | O_ASYNC;

}  // namespace

Result<OpenedFile> Overlay::Open(const Base& base, std::string_view path, int flags, mode_t mode,
                                 const ResolveOptions& ropts) {
  Impl& im = *impl_;
  im.CheckLive();
  const int acc = flags & O_ACCMODE;
  if (acc == O_ACCMODE) return Err(EINVAL, "open access mode");
  mode &= 07777;

  if ((flags & O_TMPFILE) == O_TMPFILE) {
    if (acc == O_RDONLY) return Err(EINVAL, "O_TMPFILE needs write access");
    ResolveOptions o = ropts;
    auto w = im.WalkInside(base, path, o);
    if (!w) return w.error();
    if (!w->res.exists) return Err(ENOENT, w->res.path);
    if (w->found.type != FileType::kDirectory) return Err(ENOTDIR, w->res.path);
    if (auto s = im.CopyUpObject(*w, false); !s) return s.error();
    // The directory node itself, now with an upper.
    UniqueFd dir;
    if (w->last == Last::kName) {
      auto fd = fs::OpenAt(w->stack.back().upper.get(), w->name, O_PATH | O_DIRECTORY);
      if (!fd) return fd.error();
      dir = std::move(*fd);
    } else {
      auto fd = fs::OpenAt(w->stack.back().upper.get(), "", O_PATH | O_DIRECTORY);
      if (!fd) return fd.error();
      dir = std::move(*fd);
    }
    if (im.options_.creds) {
      if (auto s = im.CheckPermission(w->found.st, W_OK | X_OK); !s) return s.error();
    }
    // Nothing is charged until LinkTmpfile gives it a name: an unnamed
    // O_TMPFILE file vanishes on its last close.
    int open_flags = O_TMPFILE | acc | (flags & (kPassFlags & ~O_DIRECTORY)) | O_CLOEXEC;
    int fd = ::openat(dir.get(), ".", open_flags, mode);
    if (fd < 0) return ErrnoError("O_TMPFILE");
    return OpenedFile{UniqueFd(fd), Layer::kUpper, w->res.path, open_flags};
  }

  const bool creat = flags & O_CREAT;
  const bool excl = creat && (flags & O_EXCL);
  const bool trunc = flags & O_TRUNC;
  ResolveOptions o = ropts;
  o.follow_final = !(flags & O_NOFOLLOW) && !excl;
  // O_CREAT with a trailing slash fails before the last component is even
  // looked up (so a final symlink is not followed).
  const bool creat_slash = creat && !path.empty() && path.back() == '/';
  if (creat_slash) o.follow_final = false;
  auto wr = im.WalkInside(base, path, o, creat);
  if (!wr) return wr.error();
  Walk& w = *wr;
  // As in the kernel's open_last_lookups()/do_open(): O_CREAT on ".", ".."
  // or the root is EEXIST with O_EXCL, else EISDIR; with a trailing slash
  // it is EISDIR whatever is there.
  if (creat && w.last != Last::kName) return Err(excl ? EEXIST : EISDIR, w.res.path);
  if (creat && w.res.trailing_slash) return Err(EISDIR, w.res.path);

  if (!w.res.exists) {
    if (!creat) return Err(ENOENT, w.res.path);
    if (w.res.trailing_slash || w.last != Last::kName) return Err(EISDIR, w.res.path);
    if (flags & O_DIRECTORY) return Err(EINVAL, "O_CREAT | O_DIRECTORY");
    DirNode& parent = w.stack.back();
    if (auto s = im.CheckDirWrite(parent); !s) return s.error();
    if (auto s = im.EnsureUpperChain(w.stack); !s) return s.error();
    if (auto s = im.Charge(kEntryCost, "create"); !s) return s.error();
    int open_flags = O_CREAT | O_EXCL | acc | (flags & kPassFlags) | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(w.stack.back().upper.get(), w.name.c_str(), open_flags, mode);
    if (fd < 0) {
      im.Credit(kEntryCost);
      return ErrnoError("create " + w.res.path);
    }
    im.ClearWhiteout(w.stack.back(), w.name);
    im.NotifyCreate(w.res.path, FileType::kRegular);
    return OpenedFile{UniqueFd(fd), Layer::kUpper, w.res.path, open_flags};
  }

  if (excl) return Err(EEXIST, w.res.path);
  const FileType type = w.found.type;
  if (flags & O_PATH) {
    // O_PATH never reads or writes: open the object where it is.
    if (type == FileType::kSymlink && !(flags & O_NOFOLLOW)) {
      throw Fatal("cow: unresolved symlink in open");
    }
    if ((flags & O_DIRECTORY) && type != FileType::kDirectory) return Err(ENOTDIR, w.res.path);
    auto fd = im.PathFdOf(w);
    if (!fd) return fd.error();
    int open_flags = O_PATH | O_NOFOLLOW | O_CLOEXEC | (flags & O_DIRECTORY);
    return OpenedFile{std::move(*fd), w.found.layer, w.found.layer_path, open_flags};
  }
  if (type == FileType::kSymlink) return Err(ELOOP, w.res.path);
  if ((flags & O_DIRECTORY) && type != FileType::kDirectory) return Err(ENOTDIR, w.res.path);
  const bool writes = acc != O_RDONLY || trunc;
  if (im.options_.creds) {
    int want = (acc == O_RDONLY || acc == O_RDWR ? R_OK : 0) | (writes ? W_OK : 0);
    if (auto s = im.CheckPermission(w.found.st, want); !s) return s.error();
  }

  switch (type) {
    case FileType::kDirectory: {
      if (writes || creat) return Err(EISDIR, w.res.path);
      int open_flags = O_RDONLY | O_DIRECTORY | (flags & kPassFlags) | O_CLOEXEC;
      UniqueFd fd;
      if (w.last == Last::kName) {
        const DirNode& parent = w.stack.back();
        int dir = w.found.layer == Layer::kUpper ? parent.upper.get() : parent.lower.get();
        auto r = fs::OpenAt(dir, w.name, open_flags);
        if (!r) return r.error();
        fd = std::move(*r);
      } else {
        const DirNode& node = w.stack.back();
        auto r = fs::OpenAt(node.upper ? node.upper.get() : node.lower.get(), "", open_flags);
        if (!r) return r.error();
        fd = std::move(*r);
      }
      return OpenedFile{std::move(fd), w.found.layer, w.found.layer_path, open_flags};
    }
    case FileType::kCharDevice:
    case FileType::kBlockDevice:
      return Err(EPERM, "device in the workdir: " + w.res.path);
    case FileType::kSocket:
      return Err(ENXIO, w.res.path);
    case FileType::kFifo: {
      // No data to copy: a FIFO is used where it is.
      const DirNode& parent = w.stack.back();
      const bool upper = w.found.layer == Layer::kUpper;
      int dir = upper ? parent.upper.get() : parent.lower.get();
      if (upper && !(flags & O_NONBLOCK) && acc != O_RDWR && w.last == Last::kName) {
        // The child waits for the other end itself, through a link it may open.
        auto link = im.FifoLink(dir, w.name, w.found.st.st_ino, w.res.path);
        if (!link) return link.error();
        OpenedFile f{UniqueFd(), w.found.layer, w.found.layer_path, acc | (flags & kPassFlags)};
        f.fifo_path = std::move(*link);
        return f;
      }
      if (!(flags & O_NONBLOCK) && acc != O_RDWR) {
        // A FIFO the workdir had, opened to wait for its other end (for
        // writing, or for reading when the kernel cannot reach it by the
        // child's path): an O_PATH fd, for a supervisor thread that may
        // block to open it.
        auto path_fd = fs::OpenAt(dir, w.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (!path_fd) return path_fd.error();
        OpenedFile f{std::move(*path_fd), w.found.layer, w.found.layer_path,
                     acc | (flags & kPassFlags) | O_CLOEXEC};
        f.waits = true;
        return f;
      }
      // O_NONBLOCK keeps the supervisor from waiting for the other end.
      int open_flags = acc | (flags & kPassFlags) | O_NONBLOCK | O_CLOEXEC;
      auto fd = fs::OpenAt(dir, w.name, open_flags);
      if (!fd) return fd.error();
      if (!(flags & O_NONBLOCK)) {
        (void)::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) & ~O_NONBLOCK);
        open_flags &= ~O_NONBLOCK;
      }
      return OpenedFile{std::move(*fd), w.found.layer, w.found.layer_path, open_flags};
    }
    case FileType::kRegular:
      break;
    default:
      return Err(EINVAL, "open of " + w.res.path);
  }

  if (!writes) {
    const DirNode& parent = w.stack.back();
    int dir = w.found.layer == Layer::kUpper ? parent.upper.get() : parent.lower.get();
    int open_flags = O_RDONLY | (flags & kPassFlags) | O_CLOEXEC;
    auto fd = fs::OpenAt(dir, w.name, open_flags);
    if (!fd) return fd.error();
    if (w.found.layer == Layer::kLower) {
      im.NotifyLowerAccess(w.found.layer_path, LowerAccess::kRead);
    }
    return OpenedFile{std::move(*fd), w.found.layer, w.found.layer_path, open_flags};
  }

  // Writable: the upper copy (O_TRUNC copies no data).
  if (auto s = im.CopyUpObject(w, !trunc); !s) return s.error();
  int open_flags = acc | (flags & kPassFlags) | (trunc ? O_TRUNC : 0) | O_CLOEXEC;
  auto fd = fs::OpenAt(w.stack.back().upper.get(), w.name, open_flags);
  if (!fd) return fd.error();
  if (trunc) {
    auto it = im.data_charged_.find(w.found.st.st_ino);
    if (it != im.data_charged_.end()) {
      im.Credit(it->second);
      it->second = 0;
    }
  }
  return OpenedFile{std::move(*fd), Layer::kUpper, w.res.path, open_flags};
}

Status Overlay::LinkTmpfile(int upper_fd, const Base& base, std::string_view path) {
  Impl& im = *impl_;
  im.CheckLive();
  ResolveOptions o;
  o.follow_final = false;
  auto w = im.WalkInside(base, path, o);
  if (!w) return w.error();
  if (w->res.exists) return Err(EEXIST, w->res.path);
  if (w->last != Last::kName || w->res.trailing_slash) return Err(EEXIST, w->res.path);
  if (auto s = im.CheckDirWrite(w->stack.back()); !s) return s;
  auto st = fs::StatFd(upper_fd);
  if (!st) return st.error();
  if (!S_ISREG(st->st_mode)) return Err(EINVAL, "not a regular file");
  if (auto s = im.EnsureUpperChain(w->stack); !s) return s;
  const uint64_t cost = kEntryCost + static_cast<uint64_t>(st->st_size);
  if (auto s = im.Charge(cost, "tmpfile link"); !s) return s;
  // linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc/self/fd form
  // does not, and names only our own fd.
  std::string proc = fs::ProcFdPath(upper_fd);
  if (::linkat(AT_FDCWD, proc.c_str(), w->stack.back().upper.get(), w->name.c_str(),
               AT_SYMLINK_FOLLOW) != 0) {
    im.Credit(cost);
    return ErrnoError("link tmpfile");
  }
  im.data_charged_[st->st_ino] = static_cast<uint64_t>(st->st_size);
  im.ClearWhiteout(w->stack.back(), w->name);
  im.NotifyCreate(w->res.path, FileType::kRegular);
  return OkStatus();
}

Result<std::string> Overlay::SocketLink(const Base& base, std::string_view path, bool follow) {
  auto w = impl_->WalkExisting(base, path, follow);
  if (!w) return w.error();
  if (w->found.type != FileType::kSocket || w->last != Last::kName)
    return Err(ENOTSOCK, w->res.path);
  if (w->found.layer != Layer::kUpper) return Err(EXDEV, "a socket of the lower layer");
  return impl_->FifoLink(w->stack.back().upper.get(), w->name, w->found.st.st_ino, w->res.path);
}

Result<std::string> Overlay::Impl::FifoLink(int dir, const std::string& name, ino_t ino,
                                            const std::string& view) {
  auto it = fifo_links_.find(ino);
  if (it != fifo_links_.end()) {
    struct stat st {};
    if (::fstatat(fifos_fd_.get(), it->second.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        st.st_ino == ino) {
      fifo_link_views_[it->second] = view;
      return fifos_abs_ + "/" + it->second;
    }
    fifo_links_.erase(it);
  }
  std::string link = std::to_string(++fifo_counter_);
  if (::linkat(dir, name.c_str(), fifos_fd_.get(), link.c_str(), 0) != 0) {
    return ErrnoError("link FIFO " + name);
  }
  fifo_links_[ino] = link;
  fifo_link_views_[link] = view;
  return fifos_abs_ + "/" + link;
}

}  // namespace sandtrace::cow
