// Helpers for the Sandbox* integration tests: running commands (natively or
// under `trace run`) with a timeout, and snapshots of directory trees to
// compare a sandboxed run's committed result with a native run's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace sandtrace::cow::testing {

struct Ran {
  int status = -1;  // exit status, 128+N for signal N, -1 if it timed out
  std::string out;  // stdout
  std::string err;  // stderr
  bool timed_out = false;
};

// Runs argv in `cwd` with `env_extra` (NAME=value) added to the
// environment; kills the process group after `timeout_s`.
Ran RunProgram(const std::vector<std::string>& argv, const std::string& cwd,
               const std::vector<std::string>& env_extra = {}, int timeout_s = 120);

// The path of the `trace` binary and of a helper program (compile-time).
std::string TraceBin();

// A scratch directory removed (without following symlinks) at destruction.
class Scratch {
 public:
  explicit Scratch(const std::string& base = "/tmp");
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

void RemoveAll(const std::string& path);
void WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644);
std::string ReadFile(const std::string& path);

// What a tree holds. With `identity`, also the mtime and inode number of
// every entry (for "byte-identical": nothing touched).
struct Node {
  char type = '?';  // f d l p s c b
  mode_t mode = 0;
  std::string data;        // contents or symlink target
  std::string link_group;  // regular files with nlink > 1: the first path sharing the inode
  int64_t mtime_ns = 0;
  uint64_t ino = 0;
};
using Tree = std::map<std::string, Node>;
Tree Snapshot(const std::string& root, bool identity = false);
// A readable list of the differences ("" when equal).
std::string DiffTrees(const Tree& expected, const Tree& got);

// Removes the lines `trace` itself prints ("trace: ...", "trace run: ...").
std::string WithoutTraceLines(const std::string& text);
std::vector<std::string> TraceLines(const std::string& text);

}  // namespace sandtrace::cow::testing
