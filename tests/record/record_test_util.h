// Helpers for the recorder tests: temp dirs, reading a whole trace, a
// subprocess with a hard timeout, a RecordedTracee that serves a recorded
// call log back (what replay will do), and a Tee observer that checks the
// recorder against what the supervisor saw live.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/records.h"
#include "formats/trace_reader.h"
#include "tracer/core/tracee.h"
#include "tracer/observer.h"

namespace sandtrace::rtest {

// mkdtemp under `base`; removed (recursively) by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& base = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& contents, mode_t mode = 0644);
std::string ReadFile(const std::string& path);
void RemoveTree(const std::string& path);

// Every record of a trace, plus how the reading ended.
struct TraceContents {
  std::vector<trace::Record> records;
  std::optional<trace::HeaderRecord> header;
  std::optional<trace::FooterRecord> footer;
  std::vector<trace::EventRecord> events;
  std::vector<trace::ProcessRecord> processes;
  std::vector<trace::CowRecord> cows;
  std::vector<trace::SnapshotEntry> entries;
  std::vector<trace::SnapshotBlob> blobs;
  std::string open_error;  // TraceReader::Open failed
  std::string read_error;  // Next() failed
  std::string warning;     // truncated / unfinished tail
  std::optional<uint64_t> last_good_seq;
};
TraceContents ReadTrace(const std::string& path);

struct ProcResult {
  int status = -1;
  bool timed_out = false;
  std::string out, err;
  int code() const;  // exit code, 128+N for a signal, -1 on timeout
};

// A subprocess in its own process group with stdout/stderr captured.
class Subprocess {
 public:
  Subprocess(const std::vector<std::string>& argv, const std::string& cwd = "");
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  pid_t pid() const { return pid_; }
  // Waits for exit and EOF on both pipes; SIGKILLs the group after timeout_s.
  ProcResult Wait(int timeout_s);

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  bool waited_ = false;
};
ProcResult RunProcess(const std::vector<std::string>& argv, int timeout_s = 60,
                      const std::string& cwd = "");

// Pids of live processes whose /proc/<pid>/cmdline contains `needle`.
std::vector<pid_t> ProcessesWithArg(const std::string& needle);

// Serves a recorded call log in order; any call that differs from the next
// recorded one (kind or inputs) is a mismatch and fails with EIO.
class RecordedTracee final : public Tracee {
 public:
  explicit RecordedTracee(const std::vector<trace::TraceeCall>& calls) : calls_(calls) {}
  Result<size_t> ReadMemory(uint64_t addr, std::span<std::byte> out) override;
  Result<std::string> ReadString(uint64_t addr, size_t max_len) override;
  Result<std::string> ReadProcLink(ProcLink which, int fd) override;
  Result<mode_t> ReadUmask() override;
  bool IdValid() override;
  Result<size_t> WriteMemory(uint64_t addr, std::span<const std::byte> data) override;
  Result<ProcIds> ReadProcIds() override;
  Result<int64_t> SeekFd(int fd, int64_t offset, int whence) override;
  Result<int> InstallFd(int srcfd, uint32_t fd_flags, const InjectedFile& what) override;
  Result<uint64_t> ReadStackPointer() override;
  Result<std::string> ReadFileHead(int fd, size_t max) override;
  Result<std::string> HostCall(HostOp op, const std::string& path, int64_t arg,
                               const std::function<Result<std::string>()>& perform) override;
  Result<int> AddWatch(int fd, const std::string& path, uint32_t mask) override;

  // Mismatches so far, and whether every recorded call was consumed.
  const std::vector<std::string>& mismatches() const { return mismatches_; }
  bool all_consumed() const { return next_ == calls_.size(); }

 private:
  const trace::TraceeCall* Next(trace::TraceeCallKind kind, const std::string& what);
  const std::vector<trace::TraceeCall>& calls_;
  size_t next_ = 0;
  std::vector<std::string> mismatches_;
};

// What a test observer saw live for one notification.
struct LiveEvent {
  Notification n;
  DecisionKind kind = DecisionKind::kContinue;
  int64_t value = 0;
  int error = 0;
  InjectedFile file;
  Response response;
  std::vector<trace::TraceeCall> calls;  // logged independently, under the recorder
};

// Forwards to `inner` (the recorder) and keeps its own account of every
// notification: the decision and response, and the Tracee calls, logged by
// a plain logger placed between the recorder's decorator and the live
// Tracee.
class TeeObserver final : public SupervisorObserver {
 public:
  explicit TeeObserver(SupervisorObserver& inner);
  ~TeeObserver() override;
  Tracee& WrapTracee(const Notification& n, Tracee& live) override;
  void OnNotification(const Notification& n, const DispatchResult& result, const Response& response,
                      const NotificationTimes& times) override;
  void OnProcessEvent(const ProcessEvent& event) override;

  std::vector<LiveEvent> events;
  std::vector<ProcessEvent> processes;

 private:
  class Logger;
  SupervisorObserver& inner_;
  std::unique_ptr<Logger> logger_;
};

}  // namespace sandtrace::rtest
