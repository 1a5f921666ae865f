#include "cow/fs_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sandtrace::cow::fs {

namespace {

constexpr uint64_t kConfined = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;

bool CopyFallbackErrno(int err) {
  return err == EXDEV || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP || err == EBADF ||
         err == ETXTBSY || err == EPERM;
}

}  // namespace

Result<UniqueFd> OpenIn(int root_fd, const std::string& rel, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = kConfined;
  const char* p = rel.empty() ? "." : rel.c_str();
  for (;;) {
    long fd = syscall(SYS_openat2, root_fd, p, &how, sizeof(how));
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // openat2 reports EAGAIN when a rename raced the lookup; retrying is the
    // documented answer.
    if (errno == EAGAIN || errno == EINTR) continue;
    return ErrnoError("openat2 " + rel);
  }
}

Result<UniqueFd> OpenAbsDir(const std::string& abs_path) {
  int fd = ::open(abs_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + abs_path);
  return UniqueFd(fd);
}

Result<UniqueFd> DupFd(int fd) {
  int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (d < 0) return ErrnoError("dup");
  return UniqueFd(d);
}

Result<UniqueFd> OpenDirIn(int root_fd, const std::string& rel) {
  return OpenIn(root_fd, rel, O_PATH | O_DIRECTORY);
}

Result<UniqueFd> OpenAt(int dir_fd, const std::string& name, int flags, mode_t mode) {
  int fd =
      ::openat(dir_fd, name.empty() ? "." : name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("openat " + name);
  return UniqueFd(fd);
}

Result<struct stat> StatAt(int dir_fd, const std::string& name) {
  struct stat st {};
  int rc = name.empty() ? ::fstat(dir_fd, &st)
                        : ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW);
  if (rc != 0) return ErrnoError("stat " + name);
  return st;
}

Result<struct stat> StatFd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoError("fstat");
  return st;
}

Result<std::string> ReadlinkAt(int dir_fd, const std::string& name) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dir_fd, name.c_str(), buf.data(), buf.size());
    if (n < 0) return ErrnoError("readlink " + name);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (buf.size() > 65536) return Err(ENAMETOOLONG, "readlink " + name);
    buf.resize(buf.size() * 4);
  }
}

std::string ProcFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Status CopyData(int src_fd, int dst_fd, uint64_t size) {
  if (size == 0) return OkStatus();
  if (::ioctl(dst_fd, FICLONE, src_fd) == 0) return OkStatus();
  uint64_t done = 0;
  bool use_cfr = true;
  bool use_sendfile = true;
  while (done < size) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(size - done, 1u << 30));
    ssize_t n = -1;
    if (use_cfr) {
      loff_t in_off = static_cast<loff_t>(done);
      loff_t out_off = static_cast<loff_t>(done);
      n = ::copy_file_range(src_fd, &in_off, dst_fd, &out_off, chunk, 0);
      if (n < 0 && CopyFallbackErrno(errno)) {
        use_cfr = false;
        continue;
      }
    } else if (use_sendfile) {
      off_t in_off = static_cast<off_t>(done);
      if (::lseek(dst_fd, static_cast<off_t>(done), SEEK_SET) < 0) return ErrnoError("lseek");
      n = ::sendfile(dst_fd, src_fd, &in_off, chunk);
      if (n < 0 && CopyFallbackErrno(errno)) {
        use_sendfile = false;
        continue;
      }
    } else {
      char buf[1 << 16];
      ssize_t r = ::pread(src_fd, buf, std::min(chunk, sizeof(buf)), static_cast<off_t>(done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("read");
      }
      n = r == 0 ? 0 : ::pwrite(dst_fd, buf, static_cast<size_t>(r), static_cast<off_t>(done));
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("copy");
    }
    if (n == 0) break;  // the source shrank meanwhile: copy what there is
    done += static_cast<uint64_t>(n);
  }
  return OkStatus();
}

Status CopyXattrs(int src_fd, int dst_fd) {
  std::string src = ProcFdPath(src_fd);
  std::string dst = ProcFdPath(dst_fd);
  ssize_t len = ::listxattr(src.c_str(), nullptr, 0);
  if (len < 0) {
    if (errno == ENOTSUP || errno == EPERM) return OkStatus();
    return ErrnoError("listxattr");
  }
  if (len == 0) return OkStatus();
  std::string names(static_cast<size_t>(len), '\0');
  len = ::listxattr(src.c_str(), names.data(), names.size());
  if (len < 0) return ErrnoError("listxattr");
  names.resize(static_cast<size_t>(len));
  for (size_t pos = 0; pos < names.size();) {
    std::string name = names.c_str() + pos;
    pos += name.size() + 1;
    if (name.empty()) continue;
    ssize_t vlen = ::getxattr(src.c_str(), name.c_str(), nullptr, 0);
    if (vlen < 0) continue;
    std::string value(static_cast<size_t>(vlen), '\0');
    vlen = ::getxattr(src.c_str(), name.c_str(), value.data(), value.size());
    if (vlen < 0) continue;
    value.resize(static_cast<size_t>(vlen));
    // A name the destination refuses (trusted.* unprivileged, a security
    // module's label) is skipped: the copy stays usable.
    (void)::setxattr(dst.c_str(), name.c_str(), value.data(), value.size(), 0);
  }
  return OkStatus();
}

Status SetTimesAt(int dir_fd, const std::string& name, const struct stat& st) {
  struct timespec ts[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dir_fd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError("utimensat " + name);
  }
  return OkStatus();
}

Status SetTimesFd(int path_fd, const struct stat& st) {
  struct timespec ts[2] = {st.st_atim, st.st_mtim};
  // utimensat(fd, "", AT_EMPTY_PATH) works on O_PATH fds of any type.
  if (::utimensat(path_fd, "", ts, AT_EMPTY_PATH) != 0) return ErrnoError("utimensat");
  return OkStatus();
}

std::string Join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out.append(dir).push_back('/');
  out.append(name);
  return out;
}

std::pair<std::string, std::string> SplitLast(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"", std::string(path)};
  return {std::string(path.substr(0, slash)), std::string(path.substr(slash + 1))};
}

std::vector<std::string> SplitComponents(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool PathWithin(std::string_view path, std::string_view prefix) {
  if (prefix.empty()) return true;
  if (prefix == "/") return !path.empty() && path[0] == '/';
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::string NormalAbsolute(const std::string& path) {
  if (path.find("//") == std::string::npos && path.find("/./") == std::string::npos) return path;
  std::string out;
  out.reserve(path.size());
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      if (out.empty() || out.back() != '/') out += '/';
      ++i;
      continue;
    }
    const size_t end = path.find('/', i);
    const size_t len = (end == std::string::npos ? path.size() : end) - i;
    if (len == 1 && path[i] == '.' && end != std::string::npos) {
      i = end;  // "./" in the middle
      continue;
    }
    out.append(path, i, len);
    i += len;
  }
  return out;
}

Status ReadDir(int dir_path_fd, const std::function<void(std::string, uint8_t, ino_t)>& add) {
  auto fd = fs::OpenAt(dir_path_fd, "", O_RDONLY | O_DIRECTORY);
  if (!fd) return fd.error();
  alignas(8) char buf[32768];
  for (;;) {
    long n = ::syscall(SYS_getdents64, fd->get(), buf, sizeof(buf));
    if (n < 0) return ErrnoError("getdents64");
    if (n == 0) return OkStatus();
    for (long pos = 0; pos < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + pos);
      pos += d->d_reclen;
      std::string name = d->d_name;
      if (name == "." || name == "..") continue;
      uint8_t type = d->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st {};
        if (::fstatat(fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = static_cast<uint8_t>(IFTODT(st.st_mode));
      }
      add(std::move(name), type, d->d_ino);
    }
  }
}

Status FsyncDirAt(int root_fd, const std::string& rel) {
  auto fd = OpenIn(root_fd, rel, O_RDONLY | O_DIRECTORY);
  if (!fd) return fd.error();
  if (::fsync(fd->get()) != 0) return ErrnoError("fsync " + rel);
  return OkStatus();
}

}  // namespace sandtrace::cow::fs
