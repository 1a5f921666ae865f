#include "tracer/record/recorder.h"

#include <time.h>
#include <unistd.h>

#include "tracer/base/errors.h"
#include "tracer/record/sha256.h"

namespace sandtrace::record {

namespace {

uint64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

trace::ResponseOutcome ToTrace(ResponseOutcome outcome) {
  switch (outcome) {
    case ResponseOutcome::kSent:
      return trace::ResponseOutcome::kSent;
    case ResponseOutcome::kTargetGone:
      return trace::ResponseOutcome::kTargetGone;
    case ResponseOutcome::kInterrupted:
      return trace::ResponseOutcome::kInterrupted;
    case ResponseOutcome::kFailed:
      return trace::ResponseOutcome::kFailed;
    case ResponseOutcome::kWaiting:
      return trace::ResponseOutcome::kWaiting;
  }
  return trace::ResponseOutcome::kUnknown;
}

trace::FileType ToTrace(cow::FileType type) {
  switch (type) {
    case cow::FileType::kNone:
      return trace::FileType::kUnknown;
    case cow::FileType::kRegular:
      return trace::FileType::kRegular;
    case cow::FileType::kDirectory:
      return trace::FileType::kDirectory;
    case cow::FileType::kSymlink:
      return trace::FileType::kSymlink;
    case cow::FileType::kFifo:
      return trace::FileType::kFifo;
    case cow::FileType::kSocket:
      return trace::FileType::kSocket;
    case cow::FileType::kCharDevice:
      return trace::FileType::kCharDevice;
    case cow::FileType::kBlockDevice:
      return trace::FileType::kBlockDevice;
  }
  return trace::FileType::kUnknown;
}

trace::ChangeKind ToTrace(cow::ChangeKind kind) {
  switch (kind) {
    case cow::ChangeKind::kAdded:
      return trace::ChangeKind::kAdded;
    case cow::ChangeKind::kModified:
      return trace::ChangeKind::kModified;
    case cow::ChangeKind::kDeleted:
      return trace::ChangeKind::kDeleted;
  }
  return trace::ChangeKind::kUnknown;
}

Recorder::Recorder(trace::TraceWriter& writer, RecorderOptions options)
    : writer_(&writer), options_(std::move(options)) {
  event_.calls.reserve(16);
  processes_.reserve(64);
}

Recorder::Recorder(RecorderOptions options) : options_(std::move(options)) {
  event_.calls.reserve(16);
  processes_.reserve(64);
}

Recorder::~Recorder() {
  async_.reset();  // joins the writer thread before the writer can go away
  if (monitor_) monitor_->Stop();
}

Status Recorder::Check(Status s) {
  if (!s.ok() && !error_) error_ = s.error();
  return s;
}

void Recorder::ThrowIfFailed() const {
  if (error_) throw Fatal("cannot write the trace: " + error_->Message());
}

Status Recorder::Begin(trace::TraceWriter& writer, trace::HeaderRecord header) {
  if (writer_ != nullptr && writer_ != &writer) throw Fatal("Recorder: a second trace writer");
  writer_ = &writer;
  return Begin(std::move(header));
}

Status Recorder::BeginAtSpawn(trace::TraceWriter& writer,
                              std::function<trace::HeaderRecord()> make_header) {
  if (writer_ != nullptr && writer_ != &writer) throw Fatal("Recorder: a second trace writer");
  writer_ = &writer;
  StartMonitor();
  pending_header_ = std::move(make_header);
  return OkStatus();
}

void Recorder::StartMonitor() {
  if (!options_.process_monitor || monitor_) return;
  auto m = ProcessMonitor::Start();
  if (m.ok()) monitor_ = std::move(*m);
}

Status Recorder::EnsureHeader() {
  if (!pending_header_) return OkStatus();
  auto make = std::move(pending_header_);
  pending_header_ = nullptr;
  return WriteHeader(make());
}

Status Recorder::Begin(trace::HeaderRecord header) {
  if (writer_ == nullptr) throw Fatal("Recorder::Begin without a trace writer");
  StartMonitor();
  return WriteHeader(std::move(header));
}

Status Recorder::WriteHeader(trace::HeaderRecord header) {
  header.snapshot_mode = options_.snapshot;
  header.snapshot_hash =
      options_.snapshot == trace::SnapshotMode::kFull ? std::string(Sha256::kName) : std::string();
  header.features.push_back({"process.connector", monitor_ ? 1 : 0, monitor_ ? 1 : 0});
  if (Status s = Check(writer_->Write(header)); !s.ok()) return s;
  // The header gets a frame of its own at once, so that a trace cut short
  // at any later point (SIGKILL, a full disk) still opens.
  if (Status s = Check(writer_->Flush()); !s.ok()) return s;
  return OkStatus();
}

// ---- notifications ---------------------------------------------------------------

Tracee& Recorder::WrapTracee(const Notification& n, Tracee& live) {
  if (pending_header_) {
    (void)EnsureHeader();
    ThrowIfFailed();
  }
  // (Calls a handler that threw last time left behind are overwritten.)
  tracee_.Begin(live, event_.calls);
  in_event_ = true;
  current_seq_ = n.seq;
  return tracee_;
}

std::optional<uint64_t> Recorder::TakeRestart(const Notification& n) {
  for (size_t i = 0; i < interrupted_count_; ++i) {
    Interrupted& it = interrupted_[i];
    if (it.tid != n.tid) continue;
    std::optional<uint64_t> of;
    if (it.nr == n.nr && it.args == n.args) of = it.seq;
    // Whatever this tid does next, its interrupted call is settled.
    interrupted_[i] = interrupted_[--interrupted_count_];
    return of;
  }
  return std::nullopt;
}

void Recorder::OnNotification(const Notification& n, const DispatchResult& result,
                              const Response& response, const NotificationTimes& times) {
  trace::EventRecord& e = event_;
  tracee_.End();  // e.calls: exactly this event's
  e.seq = n.seq;
  e.id = n.id;
  e.tid = n.tid;
  e.arch = n.arch;
  e.nr = n.nr;
  e.ip = n.ip;
  e.args = n.args;
  e.received_ns = times.received;
  e.handler_start_ns = times.handler_start;
  e.handler_end_ns = times.handler_end;
  e.response_sent_ns = times.response_sent;

  const Decision& d = result.decision;
  trace::DecisionRecord& dr = e.decision;
  dr.Clear();
  dr.kind = ToTrace(d.kind);
  const bool restart = d.kind == DecisionKind::kRestart;
  if (d.kind == DecisionKind::kReturn || restart) dr.value = d.value;
  if (d.kind == DecisionKind::kErrno || restart) dr.error = d.error;
  if (restart) {
    dr.arg = d.arg;
    dr.arg2 = d.arg2;
    dr.value2 = d.value2;
  }
  if (d.kind == DecisionKind::kInjectFd) {
    dr.file.root = ToTrace(d.file.root);
    dr.file.path.assign(d.file.path);
    dr.file.open_flags = d.file.open_flags;
    dr.file.fd_flags = d.file.fd_flags;
    dr.file.waits = d.file.waits;
    dr.file.fd = response.outcome == ResponseOutcome::kSent ? response.child_fd : -1;
  }
  e.outcome = ToTrace(response.outcome);

  e.restart_of_seq = interrupted_count_ > 0 ? TakeRestart(n) : std::nullopt;
  if (e.restart_of_seq) ++stats_.restarts;
  if (response.outcome == ResponseOutcome::kInterrupted) {
    if (interrupted_count_ == kMaxInterrupted) {
      // Forget the oldest; a restart then goes untagged, nothing worse.
      for (size_t i = 1; i < kMaxInterrupted; ++i) interrupted_[i - 1] = interrupted_[i];
      --interrupted_count_;
    }
    interrupted_[interrupted_count_++] = Interrupted{n.tid, n.nr, n.args, n.seq};
  }

  if (!async_ && options_.writer_thread && stats_.events >= options_.writer_thread_after) {
    // Everything so far was written inline: the order holds.
    async_ = std::make_unique<AsyncTraceWriter>(*writer_);
  }
  Status s = Check(async_ ? async_->Write(e) : writer_->Write(e));
  // e.calls stays as it is (or as the writer thread's ring handed it back):
  // the next event overwrites those calls in place.
  in_event_ = false;
  if (s.ok()) ++stats_.events;
  ThrowIfFailed();
}

// ---- processes -----------------------------------------------------------------------

void Recorder::OnProcessEvent(const ProcessEvent& ev) {
  (void)EnsureHeader();
  ThrowIfFailed();
  if (ev.kind == ProcessEvent::Kind::kSpawn) {
    if (ev.root) {
      root_pid_ = ev.pid;
      if (monitor_) monitor_->SetRoot(ev.pid);
    }
    trace::ProcessRecord r;
    r.kind = trace::ProcessEventKind::kSpawn;
    r.pid = static_cast<uint32_t>(ev.pid);
    r.parent_pid = static_cast<uint32_t>(getpid());
    if (!ev.argv.empty()) r.exec_path = ev.argv[0];
    r.argv = ev.argv;
    r.timestamp_ns = ev.time;
    if (Check(Put(r)).ok()) ++stats_.process_records;
  } else if (!monitor_) {
    // Without the connector, the exits the supervisor reaped are all we know.
    trace::ProcessRecord r;
    r.kind = trace::ProcessEventKind::kExit;
    r.pid = static_cast<uint32_t>(ev.pid);
    r.exit_status = ev.signal == 0 ? ev.exit_status : 0;
    r.signal = ev.signal;
    r.timestamp_ns = ev.time;
    if (Check(Put(r)).ok()) ++stats_.process_records;
  }
  (void)DrainProcesses();
  ThrowIfFailed();
}

Status Recorder::DrainProcesses() {
  if (!monitor_) return OkStatus();
  processes_.clear();
  monitor_->Drain(processes_);
  for (const auto& r : processes_) {
    Status s = Check(Put(r));
    if (!s.ok()) return s;
    ++stats_.process_records;
  }
  return OkStatus();
}

void Recorder::Tick() {
  (void)EnsureHeader();
  (void)DrainProcesses();
  (void)Check(async_ ? async_->Tick() : writer_->Tick());
  ThrowIfFailed();
}

// ---- copy-on-write ---------------------------------------------------------------------

void Recorder::WriteCow(trace::CowEventKind kind, std::string_view path, std::string_view detail) {
  // Before Begin (a session being set up) there is no trace yet.
  if (finished_ || writer_ == nullptr) return;
  if (pending_header_ && !EnsureHeader().ok()) return;
  cow_.kind = kind;
  cow_.path.assign(path);
  cow_.detail.assign(detail);
  cow_.event_seq = in_event_ ? std::optional<uint64_t>(current_seq_) : std::nullopt;
  cow_.timestamp_ns = MonotonicNs();
  if (Check(Put(cow_)).ok()) ++stats_.cow_records;
}

void Recorder::OnCopyUp(std::string_view path, cow::FileType type, uint64_t bytes) {
  std::string detail = std::string(cow::FileTypeName(type)) + " " + std::to_string(bytes);
  WriteCow(trace::CowEventKind::kCopyUp, path, detail);
}

void Recorder::OnCreate(std::string_view path, cow::FileType type) {
  WriteCow(trace::CowEventKind::kCreate, path, cow::FileTypeName(type));
}

void Recorder::OnWhiteout(std::string_view path) {
  WriteCow(trace::CowEventKind::kWhiteout, path, {});
}

void Recorder::OnCommit(const Status& result, size_t changes) {
  WriteCow(trace::CowEventKind::kCommit, {},
           result.ok() ? "ok " + std::to_string(changes) + " changes"
                       : "failed: " + result.error().Message());
}

void Recorder::OnDiscard(const Status& result) {
  WriteCow(trace::CowEventKind::kDiscard, {},
           result.ok() ? std::string("ok") : "failed: " + result.error().Message());
}

void Recorder::OnLowerAccess(std::string_view layer_path, cow::LowerAccess kind) {
  if (!collecting_lower_) return;
  uint8_t bits = kAccessLookup;
  switch (kind) {
    case cow::LowerAccess::kLookup:
      bits = kAccessLookup;
      break;
    case cow::LowerAccess::kList:
      bits = kAccessLookup | kAccessList;
      break;
    case cow::LowerAccess::kRead:
      bits = kAccessLookup | kAccessRead;
      break;
  }
  lower_.Add(layer_path, bits);
}

// ---- the end ---------------------------------------------------------------------------

Status Recorder::EndRun() {
  collecting_lower_ = false;
  if (monitor_) monitor_->Stop();
  return DrainProcesses();
}

Result<SnapshotStats> Recorder::WriteSnapshot(const std::string& lower_root) {
  (void)EnsureHeader();
  if (error_) return *error_;
  if (options_.snapshot == trace::SnapshotMode::kNone) return SnapshotStats{};
  SnapshotOptions o;
  o.mode = options_.snapshot;
  o.exclude = options_.snapshot_exclude;
  o.placeholders = options_.snapshot_placeholders;
  return BuildSnapshot(lower_root, lower_, o,
                       [this](const trace::SnapshotChunk& chunk) { return Check(Put(chunk)); });
}

Status Recorder::WriteChanges(const cow::ChangeList& changes) {
  changes_.clear();
  changes_.reserve(changes.size());
  for (const auto& c : changes) {
    changes_.push_back({ToTrace(c.kind), c.path});
    char letter[2] = {cow::ChangeKindLetter(c.kind), 0};
    WriteCow(trace::CowEventKind::kChange, c.path, letter);
  }
  return error_ ? Status(*error_) : OkStatus();
}

Status Recorder::Finish(int exit_status, int signal, bool clean_end) {
  if (finished_) return error_ ? Status(*error_) : OkStatus();
  if (writer_ == nullptr) {  // never begun: no trace to close
    finished_ = true;
    return OkStatus();
  }
  // A run that failed before the spawn still gets its header.
  (void)EnsureHeader();
  // On an error, carry on: Close() still writes the index of what made it.
  (void)EndRun();
  trace::FooterRecord f;
  f.exit_status = signal == 0 ? exit_status : 0;
  f.signal = signal;
  f.changes = std::move(changes_);
  f.clean_end = clean_end && !error_;
  f.end_ns = MonotonicNs();
  if (!error_) (void)Check(Put(f));
  // Everything queued reaches the TraceWriter before it closes.
  if (async_) (void)Check(async_->Drain());
  finished_ = true;
  Status closed = writer_->Close();
  (void)Check(closed);
  return error_ ? Status(*error_) : OkStatus();
}

RecorderStats Recorder::stats() const {
  RecorderStats s = stats_;
  s.lower_paths = lower_.size();
  s.process_monitor = monitor_ != nullptr;
  s.process_events_dropped = monitor_ ? monitor_->dropped() : 0;
  return s;
}

}  // namespace sandtrace::record
