// Plain C++ values for the records of a trace file (formats/trace.capnp).
//
// These are what the recorder hands to TraceWriter and what TraceReader
// hands back; no Cap'n Proto type leaks out of formats/. Each struct mirrors
// one schema struct field for field (see the schema for the meaning of
// each field); the enums mirror the schema's enums with the same numeric
// values, and also mirror tracer/core (DecisionKind, FileRoot, ProcLink)
// without depending on it: the recorder converts.
//
// Canonical form: only the fields that apply to a kind are stored (a
// kReturn decision stores `value`, not `error`), so a record read back
// equals the one written if the fields that do not apply were left at
// their defaults.
//
// Reuse: a producer may keep one EventRecord per thread and refill it for
// every event; `calls.clear()` keeps the vector's capacity, and moving the
// Tracee's result strings into `TraceeCall::bytes` avoids copies. The
// writer itself does not allocate per record.
//
// Thread-safety: plain values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sandtrace::trace {

// The format version this code writes and reads (Header.formatVersion).
inline constexpr uint32_t kFormatVersion = 3;
// The oldest reader able to read what this code writes.
inline constexpr uint32_t kMinReaderVersion = 2;
// Header.magic: "SNDTRACE" in little-endian bytes.
inline constexpr uint64_t kTraceMagic = 0x4543415254444e53ULL;

// ------------------------------------------------------------------ enums

enum class DecisionKind : uint8_t { kUnknown, kContinue, kReturn, kErrno, kInjectFd, kRestart };
inline constexpr size_t kDecisionKinds = 6;
enum class FileRoot : uint8_t { kUnknown, kUpper, kLower, kOutside };
enum class ProcLink : uint8_t { kUnknown, kCwd, kFd, kRoot, kExe };
enum class ResponseOutcome : uint8_t {
  kUnknown,
  kSent,
  kTargetGone,
  kInterrupted,
  kFailed,
  kWaiting,
};
enum class TraceeCallKind : uint8_t {
  kUnknown,
  kReadMemory,
  kReadString,
  kReadProcLink,
  kReadUmask,
  kIdValid,
  kWriteMemory,
  kReadProcIds,
  kSeekFd,
  kInstallFd,
  kReadStackPointer,
  kBindSocket,
  kConnectSocket,
  kReadFileHead,
  kHostCall,
  kAddWatch,
};
// A handler's own call on the host (TraceeCall.hostCall in the schema).
enum class HostOp : uint8_t { kUnknown, kStat, kAccess, kReadlink, kReach, kOpen, kChange };
enum class ProcessEventKind : uint8_t { kUnknown, kSpawn, kFork, kExec, kExit };
enum class CowEventKind : uint8_t {
  kUnknown,
  kCopyUp,
  kWhiteout,
  kCreate,
  kRename,
  kCommit,
  kDiscard,
  kChange,
  kQuota,
};
enum class Disposition : uint8_t { kUnknown, kCommitOnSuccess, kCommit, kDiscard, kDryRun };
enum class SnapshotMode : uint8_t { kUnknown, kNone, kMetadata, kFull };
enum class FileType : uint8_t {
  kUnknown,
  kRegular,
  kDirectory,
  kSymlink,
  kFifo,
  kSocket,
  kCharDevice,
  kBlockDevice,
};
enum class ChangeKind : uint8_t { kUnknown, kAdded, kModified, kDeleted };

// Lower-case names as in the schema ("inject_fd" style), for dumps.
std::string_view Name(DecisionKind v);
std::string_view Name(FileRoot v);
std::string_view Name(ProcLink v);
std::string_view Name(ResponseOutcome v);
std::string_view Name(TraceeCallKind v);
std::string_view Name(HostOp v);
std::string_view Name(ProcessEventKind v);
std::string_view Name(CowEventKind v);
std::string_view Name(Disposition v);
std::string_view Name(SnapshotMode v);
std::string_view Name(FileType v);
std::string_view Name(ChangeKind v);

// ------------------------------------------------------------------ header

struct Feature {
  std::string name;
  int64_t found = 0;
  int64_t used = 0;
  bool operator==(const Feature&) const = default;
};

struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};

struct Policy {
  std::vector<std::string> read_paths;
  std::vector<std::string> write_paths;
  uint64_t quota_bytes = 0;
  uint64_t seed = 0;
  Disposition disposition = Disposition::kUnknown;
  std::vector<KeyValue> options;
  bool operator==(const Policy&) const = default;
};

// The writer stores `magic` itself; the versions are written as given so a
// test (or a future writer) can mark a trace as needing a newer reader.
struct HeaderRecord {
  uint32_t format_version = kFormatVersion;
  uint32_t min_reader_version = kMinReaderVersion;
  std::string tool_version;
  std::string kernel_release;
  std::vector<Feature> features;
  uint32_t arch = 0;
  std::vector<std::string> argv;
  std::optional<std::vector<std::string>> env;  // nullopt: not recorded
  std::string cwd;
  std::string workdir;
  Policy policy;
  std::vector<std::string> handler_sets;
  SnapshotMode snapshot_mode = SnapshotMode::kUnknown;
  std::string snapshot_hash;
  int64_t start_realtime_ns = 0;
  uint64_t start_monotonic_ns = 0;
  bool operator==(const HeaderRecord&) const = default;
};

// ------------------------------------------------------------------ event

// One Tracee call and its result. Which fields apply depends on `kind`:
//   kReadMemory:   addr, length (asked), bytes (returned), error
//   kReadString:   addr, length (max_len incl. NUL), bytes (without NUL), error
//   kReadProcLink: link, fd (kFd only), bytes (the target), error
//   kReadUmask:    result (the mask), error
//   kIdValid:      result (1 valid, 0 not)
//   kWriteMemory:  addr, bytes (written by the handler), result (count), error
//   kReadProcIds:  tgid, ppid, start_time, error
//   kSeekFd:       fd, offset, whence (as asked), result (the resulting
//                  offset, as int64 bits), error
//   kInstallFd:    file (root, path, open_flags, fd_flags as described by the
//                  handler; fd = the number the child got, -1 on error), error
//   kReadStackPointer: result (the user stack pointer), error
//   kBindSocket: fd, bytes (the name), result (the mode), address, error
//   kConnectSocket: fd, bytes (the name), error
//   kReadFileHead: length (the most asked for), bytes (what was read), error
//   kHostCall: host_op, address (the path), offset (the op's argument),
//                  bytes (its result), error
//   kAddWatch: fd (the child's inotify fd), address (the watched path),
//                  offset (the mask), result (the watch descriptor), error
// `error` is a positive errno, 0 on success.
struct InjectedFileRecord {
  FileRoot root = FileRoot::kUnknown;
  std::string path;  // relative to root; absolute for kOutside
  int32_t open_flags = 0;
  uint32_t fd_flags = 0;
  int32_t fd = -1;     // the number the child got
  bool waits = false;  // decisions: opened by a waiter thread (see InjectedFd.waits)
  // Back to the defaults, keeping the path's capacity (records are reused).
  void Clear();
  bool operator==(const InjectedFileRecord&) const = default;
};

struct TraceeCall {
  TraceeCallKind kind = TraceeCallKind::kUnknown;
  uint64_t addr = 0;
  uint64_t length = 0;
  ProcLink link = ProcLink::kUnknown;
  int32_t fd = 0;
  int32_t error = 0;
  uint64_t result = 0;
  std::string bytes;
  int32_t tgid = 0;
  int32_t ppid = 0;
  uint64_t start_time = 0;
  int64_t offset = 0;
  int32_t whence = 0;
  InjectedFileRecord file;
  std::string address;  // kBindSocket: the address the kernel stores ("" = a /proc path);
                        // kHostCall: the path
  HostOp host_op = HostOp::kUnknown;
  // Back to the defaults (kind kUnknown), keeping the buffers' capacity.
  void Clear();
  bool operator==(const TraceeCall&) const = default;
};

// kReturn: value. kErrno: error. kInjectFd: file. kRestart: argument `arg`
// set to `value`, `error` if that was impossible.
struct DecisionRecord {
  DecisionKind kind = DecisionKind::kUnknown;
  int64_t value = 0;
  int32_t error = 0;
  int32_t arg = 0;
  int32_t arg2 = -1;  // kRestart: a second argument, or -1
  uint64_t value2 = 0;
  InjectedFileRecord file;
  // Back to the defaults (kind kUnknown), keeping the path's capacity.
  void Clear();
  bool operator==(const DecisionRecord&) const = default;
};

struct EventRecord {
  uint64_t seq = 0;
  uint64_t id = 0;
  uint32_t tid = 0;
  uint32_t arch = 0;
  int32_t nr = -1;
  uint64_t ip = 0;
  std::array<uint64_t, 6> args{};
  uint64_t received_ns = 0;
  uint64_t handler_start_ns = 0;
  uint64_t handler_end_ns = 0;
  uint64_t response_sent_ns = 0;
  std::vector<TraceeCall> calls;
  DecisionRecord decision;
  ResponseOutcome outcome = ResponseOutcome::kUnknown;
  std::optional<uint64_t> restart_of_seq;  // the interrupted notification this re-issues
  bool operator==(const EventRecord&) const = default;
};

// ------------------------------------------------------------------ others

// kSpawn/kExec: exec_path, argv. kExit: exit_status or signal.
struct ProcessRecord {
  ProcessEventKind kind = ProcessEventKind::kUnknown;
  uint32_t pid = 0;
  uint32_t parent_pid = 0;
  std::string exec_path;
  std::vector<std::string> argv;
  int32_t exit_status = 0;
  int32_t signal = 0;
  uint64_t timestamp_ns = 0;
  bool operator==(const ProcessRecord&) const = default;
};

struct CowRecord {
  CowEventKind kind = CowEventKind::kUnknown;
  std::string path;
  std::string detail;
  std::optional<uint64_t> event_seq;  // the event that caused it
  uint64_t timestamp_ns = 0;
  bool operator==(const CowRecord&) const = default;
};

struct SnapshotEntry {
  std::string path;
  FileType type = FileType::kUnknown;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string symlink_target;
  std::string content_hash;  // empty: contents not recorded
  uint64_t rdev = 0;
  bool operator==(const SnapshotEntry&) const = default;
};

struct SnapshotBlob {
  std::string hash;
  uint64_t offset = 0;
  std::string bytes;
  bool operator==(const SnapshotBlob&) const = default;
};

// Keep a chunk well under TraceWriter::kMaxRecordBytes (a few MiB at most):
// split large files into several blobs across chunks.
struct SnapshotChunk {
  std::vector<SnapshotEntry> entries;
  std::vector<SnapshotBlob> blobs;
  bool operator==(const SnapshotChunk&) const = default;
};

struct Totals {
  uint64_t records = 0;
  uint64_t events = 0;
  uint64_t process_events = 0;
  uint64_t cow_events = 0;
  uint64_t snapshot_chunks = 0;
  uint64_t decisions_continue = 0;
  uint64_t decisions_return = 0;
  uint64_t decisions_errno = 0;
  uint64_t decisions_inject_fd = 0;
  uint64_t decisions_unknown = 0;
  uint64_t decisions_restart = 0;
  uint64_t record_bytes = 0;
  uint64_t compressed_bytes = 0;
  bool operator==(const Totals&) const = default;
};

struct Change {
  ChangeKind kind = ChangeKind::kUnknown;
  std::string path;
  bool operator==(const Change&) const = default;
};

// The writer fills `totals` (see WriterOptions::fill_footer_totals).
struct FooterRecord {
  Totals totals;
  int32_t exit_status = 0;
  int32_t signal = 0;
  std::vector<Change> changes;
  bool clean_end = false;
  uint64_t end_ns = 0;
  bool operator==(const FooterRecord&) const = default;
};

using Record =
    std::variant<HeaderRecord, EventRecord, ProcessRecord, CowRecord, SnapshotChunk, FooterRecord>;

// The time a record carries (received_ns for events), or nullopt.
std::optional<uint64_t> RecordTime(const Record& record);

}  // namespace sandtrace::trace
