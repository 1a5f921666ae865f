// Helpers for the Replay* and Corpus* tests: temp dirs, files, recording a
// copy-on-write run the way `trace record` does (supervisor + Recorder +
// CowSession; the supervisor forks the sandboxed child, so filters and
// Landlock apply only to that child), and editing traces record by record.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/records.h"

namespace sandtrace::replay_test {

// mkdtemp under `base`; removed (recursively) by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& base = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& contents, mode_t mode = 0644);
std::string ReadFile(const std::string& path);

struct RecordSpec {
  std::vector<std::string> argv;
  std::string workdir;
  std::string trace;  // output file (outside the workdir)
  uint64_t quota = 0;
  std::optional<uint64_t> seed;
  trace::SnapshotMode snapshot = trace::SnapshotMode::kMetadata;
  std::vector<std::string> write_paths;
  bool commit = false;       // commit when the command succeeds (else discard)
  bool name_storage = true;  // record the storage area in the header
};

struct Recorded {
  int exit_code = -1;
  uint64_t events = 0;
  std::string error;  // non-empty: the recording itself failed
};

// Records `spec.argv` under the COW handlers (plus the seed set with a
// seed) into spec.trace. The header names the storage area (policy option
// "storage") and the quota; the end of the trace has the snapshot, the
// change list and the commit/discard record, like `trace record`.
Recorded RecordCow(const RecordSpec& spec);

// Every record of a trace (throws on a read error), and writing records
// back as a new trace (with a fresh index and footer totals).
std::vector<trace::Record> ReadRecords(const std::string& path);
void WriteRecords(const std::string& path, const std::vector<trace::Record>& records);

// Runs `argv` (no shell) and returns its exit code (128+N for signal N),
// with stdout and stderr captured.
struct Ran {
  int code = -1;
  std::string out;
  std::string err;
};
Ran RunCommand(const std::vector<std::string>& argv);

}  // namespace sandtrace::replay_test
