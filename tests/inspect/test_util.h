// Helpers shared by the inspect tests: temporary directories, files, and
// running a program (the `trace` binary, python3) as a subprocess with its
// output, exit status and peak memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sandtrace::inspect_test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents by
// the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& contents);

struct RunResult {
  int status = -1;  // exit status, or 128 + signal
  std::string out;  // stdout (empty when redirected to a file)
  std::string err;  // stderr
  long max_rss_kib = 0;
};

// Runs argv[0] (a path) with `argv`; stdout goes to `stdout_file` when
// given, else is captured. stdin is /dev/null.
RunResult RunCommand(const std::vector<std::string>& argv, const std::string& stdout_file = "");

// Lines of `text` (without the newlines).
std::vector<std::string> Lines(const std::string& text);

}  // namespace sandtrace::inspect_test
