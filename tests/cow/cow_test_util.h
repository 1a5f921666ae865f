// Helpers for the cow tests: scratch directories and a comparable snapshot
// of a directory tree.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

#include "cow/overlay.h"
#include "cow/storage.h"

namespace sandtrace::cow::testing {

// A fresh directory under $COW_TEST_TMP (default /dev/shm when writable,
// else /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = ::getenv("COW_TEST_TMP");
    if (!base) base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string tmpl = std::string(base) + "/cowtest-XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    path_ = tmpl;
  }
  ~TempDir() { (void)RemoveTree(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) std::abort();
  if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) std::abort();
  ::close(fd);
  ::chmod(path.c_str(), mode);
}

inline std::string ReadFd(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::pread(fd, buf, sizeof(buf), static_cast<off_t>(out.size()))) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

inline std::string ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  std::string out = ReadFd(fd);
  ::close(fd);
  return out;
}

inline bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// One entry of a real tree: type, permission bits and content (data or
// symlink target).
struct Node {
  char type = '?';
  mode_t mode = 0;
  std::string content;
  bool operator==(const Node& o) const {
    return type == o.type && mode == o.mode && content == o.content;
  }
};
using Tree = std::map<std::string, Node>;

Tree SnapshotReal(const std::string& root, bool with_mode = true);
// The same through the overlay's merged view (Stat, ListDir, Open, Readlink).
Tree SnapshotView(Overlay& ov, bool with_mode = true);
std::string DescribeDiff(const Tree& want, const Tree& got);

}  // namespace sandtrace::cow::testing
