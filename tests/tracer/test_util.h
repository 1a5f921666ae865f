// Helpers for the tracer tests: run a program as a subprocess with a hard
// timeout (the test fails instead of hanging), temp dirs, /proc scans.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sandtrace::testing {

struct ProcResult {
  int status = -1;         // raw wait status
  bool timed_out = false;  // killed by the harness
  std::string out, err;

  // The exit code, 128+N for a signal, -1 if it timed out.
  int code() const;
};

// A started subprocess in its own process group; stdout/stderr captured.
class Subprocess {
 public:
  Subprocess(const std::vector<std::string>& argv, const std::string& cwd = "");
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  pid_t pid() const { return pid_; }
  // Waits for exit and EOF on both pipes; after `timeout_s` seconds SIGKILLs
  // the process group (and so anything it left holding the pipes) and marks
  // the result timed out.
  ProcResult Wait(int timeout_s);

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  bool waited_ = false;
};

ProcResult RunProcess(const std::vector<std::string>& argv, int timeout_s = 60,
                      const std::string& cwd = "");

// mkdtemp under /tmp (or base); removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& base = "/tmp");
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Pids of live processes whose command line (argv joined with spaces) is
// exactly `cmdline`.
std::vector<pid_t> FindProcesses(const std::string& cmdline);

std::string ReadFile(const std::string& path);

}  // namespace sandtrace::testing
