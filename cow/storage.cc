#include "cow/storage.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "cow/fs_util.h"

namespace sandtrace::cow {

namespace {

// A directory we may keep private files in: a real directory (lstat, so not
// a symlink), ours, and closed to group and others.
Status CheckPrivateDir(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return ErrnoError("storage parent " + path);
  if (!S_ISDIR(st.st_mode)) return Err(ENOTDIR, "storage parent is not a directory: " + path);
  if (st.st_uid != ::geteuid()) return Err(EPERM, "storage parent is not ours: " + path);
  if (st.st_mode & 077) return Err(EPERM, "storage parent is open to others: " + path);
  return OkStatus();
}

Result<std::string> MakePrivateDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("mkdir " + path);
  if (auto s = CheckPrivateDir(path); !s) return s.error();
  return path;
}

}  // namespace

Result<std::string> StorageParentDir() {
  const char* xdg = ::getenv("XDG_RUNTIME_DIR");
  if (xdg && xdg[0] == '/') {
    std::string runtime = xdg;
    if (CheckPrivateDir(runtime)) return MakePrivateDir(runtime + "/sandtrace");
  }
  const char* tmp = ::getenv("TMPDIR");
  std::string base = (tmp && tmp[0] == '/') ? tmp : "/tmp";
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return MakePrivateDir(base + "/sandtrace-" + std::to_string(::geteuid()));
}

Result<std::string> CreateStorageArea() {
  auto parent = StorageParentDir();
  if (!parent) return parent.error();
  std::string tmpl = *parent + "/run-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return ErrnoError("mkdtemp " + tmpl);
  return tmpl;
}

Status RemoveTreeAt(int parent_fd, const std::string& name) {
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError("remove " + name);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parent_fd, name.c_str(), 0) != 0) return ErrnoError("unlink " + name);
    return OkStatus();
  }
  // A directory the child made unreadable or unwritable is still ours.
  if ((st.st_mode & 0700) != 0700) (void)::fchmodat(parent_fd, name.c_str(), 0700, 0);
  auto dir = fs::OpenAt(parent_fd, name, O_RDONLY | O_DIRECTORY);
  if (!dir) return dir.error();
  std::vector<std::string> names;
  if (auto s = fs::ReadDir(dir->get(),
                           [&](std::string n, uint8_t, ino_t) { names.push_back(std::move(n)); });
      !s) {
    return s;
  }
  for (const auto& n : names) {
    if (auto s = RemoveTreeAt(dir->get(), n); !s && s.code() != ENOENT) return s;
  }
  if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0) return ErrnoError("rmdir " + name);
  return OkStatus();
}

Status RemoveTree(const std::string& abs_path) {
  auto [parent, name] = fs::SplitLast(abs_path);
  if (name.empty()) return Err(EINVAL, "remove " + abs_path);
  int fd = ::open(parent.empty() ? "/" : parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + parent);
  UniqueFd owned(fd);
  return RemoveTreeAt(owned.get(), name);
}

}  // namespace sandtrace::cow
