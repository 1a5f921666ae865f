// Recorder: turns one sandboxed run into a trace file (DESIGN.md §1, §3).
//
// It is the supervisor's observer (tracer/observer.h) and the overlay
// engine's observer (cow/overlay.h), and writes through a TraceWriter:
//
//   Begin(header)               the Header record
//   WrapTracee / OnNotification one Event per notification: the Tracee calls
//                               in order with their results (RecordingTracee),
//                               the decision, the injected file and the fd the
//                               child got, the response outcome, the restart
//                               tag and the four timestamps
//   OnProcessEvent, Tick        Process records: the spawn from the
//                               supervisor; fork (with parent), exec (path,
//                               argv) and exit (status or signal) from the
//                               ProcessMonitor when available, else the
//                               exits the supervisor reaped
//   OnCopyUp/OnCreate/...       Cow records, tagged with the Event that
//                               caused them
//   OnLowerAccess               collected (not written) for the snapshot
//   EndRun, WriteSnapshot,      after the command: the snapshot of the lower
//   WriteChanges, Finish        paths the run consulted, the change list, the
//                               commit/discard result and the Footer
//
// Restarts: when a response finds the syscall interrupted (ResponseOutcome::
// kInterrupted), the kernel re-issues it as a new notification from the same
// tid with the same syscall and arguments; that Event gets restart_of_seq.
//
// Cost: one reused EventRecord, a pooled call log and the writer's reused
// scratch segment: nothing is allocated per notification once warmed up
// (except by handlers and the live Tracee themselves). Encoding and
// compression run inline on the loop thread, or with writer_thread (from
// the writer_thread_after-th event on) on a thread of their own
// (AsyncTraceWriter: the loop only swaps the record into a ring slot); the
// writer holds at most one frame in memory and the
// ring is bounded, so memory stays bounded however long the run.
//
// Errors: a write error (ENOSPC, EIO) latches in the writer. Supervisor
// callbacks then throw Fatal with one line naming the file and the error,
// which makes the supervisor stop the command and end the run; engine
// callbacks only remember it (throwing inside the engine could leave it
// half-way through an operation). Whatever reached the file stays readable.
//
// Ownership: borrows the writer, which must outlive the recorder (and may
// be attached after construction, in Begin). Owns the
// process monitor. Thread-safety: every method runs on the supervisor's
// loop thread (or, after the run, the thread that ran it).
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cow/overlay.h"
#include "formats/core_enums.h"
#include "formats/records.h"
#include "formats/trace_writer.h"
#include "tracer/observer.h"
#include "tracer/record/async_writer.h"
#include "tracer/record/process_monitor.h"
#include "tracer/record/recording_tracee.h"
#include "tracer/record/snapshot.h"

namespace sandtrace::record {

struct RecorderOptions {
  trace::SnapshotMode snapshot = trace::SnapshotMode::kMetadata;
  // Lower-relative paths left out of the snapshot, and paths recorded by
  // name only (SnapshotOptions::placeholders: the trace file itself when it
  // is written inside the workdir).
  std::vector<std::string> snapshot_exclude;
  std::vector<std::string> snapshot_placeholders;
  // Use the kernel's process-events connector when permitted.
  bool process_monitor = true;
  // Encode, compress and write on a thread of its own (AsyncTraceWriter)
  // instead of on the supervisor's loop thread, once the run has produced
  // writer_thread_after events: a short run pays less for writing them
  // inline than for starting and joining the thread (~0.6 ms, measured on
  // `trace record -- /bin/true`).
  bool writer_thread = false;
  uint64_t writer_thread_after = 2048;
};

struct RecorderStats {
  uint64_t events = 0;
  uint64_t process_records = 0;
  uint64_t cow_records = 0;
  uint64_t restarts = 0;
  uint64_t lower_paths = 0;  // distinct lower paths consulted
  bool process_monitor = false;
  uint64_t process_events_dropped = 0;
};

// Converters between the tracer's and the trace's enums (numbered
// differently: the trace's start with unknown @0).
trace::ResponseOutcome ToTrace(ResponseOutcome outcome);
trace::FileType ToTrace(cow::FileType type);
trace::ChangeKind ToTrace(cow::ChangeKind kind);

class Recorder final : public SupervisorObserver, public cow::OverlayObserver {
 public:
  explicit Recorder(trace::TraceWriter& writer, RecorderOptions options = {});
  // Without a writer yet: attach it with Begin(writer, header). Until then
  // the recorder can already be given to a COW session as its observer.
  explicit Recorder(RecorderOptions options = {});
  ~Recorder() override;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Writes the header (its snapshot mode and hash name are set from the
  // options) and starts the process monitor.
  Status Begin(trace::HeaderRecord header);
  Status Begin(trace::TraceWriter& writer, trace::HeaderRecord header);
  // Like Begin, but the header is built by `make_header` at the command's
  // spawn (the supervisor's first callback), when the run's listener
  // features (ADDFD SEND, SYNC_WAKE_UP) are known: no separate probe is
  // needed. The process monitor starts now. A run that fails before the
  // spawn gets its header when it is finished.
  Status BeginAtSpawn(trace::TraceWriter& writer, std::function<trace::HeaderRecord()> make_header);

  // ---- SupervisorObserver -------------------------------------------------
  Tracee& WrapTracee(const Notification& n, Tracee& live) override;
  void OnNotification(const Notification& n, const DispatchResult& result, const Response& response,
                      const NotificationTimes& times) override;
  void OnProcessEvent(const ProcessEvent& event) override;
  // The supervisor's tick: flushes a frame that is due and writes the
  // process events received meanwhile. Throws Fatal on a write error.
  void Tick();

  // ---- cow::OverlayObserver ---------------------------------------------------
  void OnCopyUp(std::string_view path, cow::FileType type, uint64_t bytes) override;
  void OnCreate(std::string_view path, cow::FileType type) override;
  void OnWhiteout(std::string_view path) override;
  void OnCommit(const Status& result, size_t changes) override;
  void OnDiscard(const Status& result) override;
  void OnLowerAccess(std::string_view layer_path, cow::LowerAccess kind) override;

  // ---- after the command ----------------------------------------------------------
  // Stops collecting lower accesses (what commit and the change list read
  // is not a handler's input) and writes the remaining process events.
  Status EndRun();
  // Writes the snapshot of the lower paths consulted during the run.
  Result<SnapshotStats> WriteSnapshot(const std::string& lower_root);
  // Writes one Cow record per change and keeps the list for the footer.
  Status WriteChanges(const cow::ChangeList& changes);
  // Writes the footer and closes the trace (flush, index, fsync).
  // `signal` != 0: the command was killed by it (exit_status ignored).
  Status Finish(int exit_status, int signal, bool clean_end);

  // Lower-relative paths to record by name only (replaces the options'
  // list; the trace's own path is known only once the workdir is).
  void set_snapshot_placeholders(std::vector<std::string> paths) {
    options_.snapshot_placeholders = std::move(paths);
  }

  // The first write error, if any.
  const std::optional<Error>& error() const { return error_; }
  RecorderStats stats() const;
  const LowerAccessSet& lower_accesses() const { return lower_; }

 private:
  struct Interrupted {
    uint32_t tid = 0;
    int32_t nr = -1;
    std::array<uint64_t, 6> args{};
    uint64_t seq = 0;
  };
  static constexpr size_t kMaxInterrupted = 64;

  // Records a write error; returns the status.
  Status Check(Status s);
  template <class R>
  Status Put(const R& record) {
    return async_ ? async_->Write(record) : writer_->Write(record);
  }
  void StartMonitor();
  Status WriteHeader(trace::HeaderRecord header);
  // Writes the header BeginAtSpawn deferred, if it is still pending.
  Status EnsureHeader();
  void ThrowIfFailed() const;
  void WriteCow(trace::CowEventKind kind, std::string_view path, std::string_view detail);
  Status DrainProcesses();
  std::optional<uint64_t> TakeRestart(const Notification& n);

  trace::TraceWriter* writer_ = nullptr;     // not owned
  std::unique_ptr<AsyncTraceWriter> async_;  // with options_.writer_thread
  std::function<trace::HeaderRecord()> pending_header_;
  RecorderOptions options_;
  std::unique_ptr<ProcessMonitor> monitor_;
  pid_t root_pid_ = -1;

  RecordingTracee tracee_;
  trace::EventRecord event_;
  trace::CowRecord cow_;
  std::vector<trace::ProcessRecord> processes_;
  bool in_event_ = false;
  uint64_t current_seq_ = 0;
  std::array<Interrupted, kMaxInterrupted> interrupted_{};
  size_t interrupted_count_ = 0;

  LowerAccessSet lower_;
  bool collecting_lower_ = true;
  std::vector<trace::Change> changes_;

  std::optional<Error> error_;
  bool finished_ = false;
  RecorderStats stats_;
};

}  // namespace sandtrace::record
