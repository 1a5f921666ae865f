#include "tracer/record/record_run.h"

#include <signal.h>
#include <unistd.h>

#include <cinttypes>
#include <climits>
#include <cstdlib>
#include <optional>

#include "tracer/base/errors.h"
#include "tracer/record/header.h"
#include "tracer/record/recorder.h"

namespace sandtrace::record {

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitInternal = 125;

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof buf) == nullptr) return path;
  return std::string(buf) + "/" + path;
}

// The canonical path of the trace (its directory exists; the file itself
// was just created).
std::string Canonical(const std::string& abs) {
  char buf[PATH_MAX];
  return realpath(abs.c_str(), buf) != nullptr ? std::string(buf) : abs;
}

// Blocks the signals that end a run for the whole recording (the
// supervisor reads them while the command runs), so that a SIGINT while
// the snapshot or footer is being written still leaves a complete trace.
class SignalBlock {
 public:
  SignalBlock() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalBlock() {
    (void)TakePending();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  // A signal that arrived outside the run: taken (not acted on twice) and
  // returned, 0 if none.
  int TakePending() {
    sigset_t pending;
    sigpending(&pending);
    int got = 0;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      if (!sigismember(&pending, sig) || sigismember(&old_, sig)) continue;
      sigset_t one;
      sigemptyset(&one);
      sigaddset(&one, sig);
      timespec zero{};
      if (sigtimedwait(&one, nullptr, &zero) == sig && got == 0) got = sig;
    }
    return got;
  }

 private:
  sigset_t old_;
};

}  // namespace

int RecordSandboxed(SandboxOptions options, const RecordOptions& record,
                    const ReportOptions& report, std::FILE* err) {
  const char* who = report.who.c_str();
  if (report.print_features) return RunSandboxed(std::move(options), report, err);
  if (options.run.argv.empty()) {
    std::fprintf(err, "%s: no command given (usage: %s [options] -- CMD ...)\n", who, who);
    return kExitUsage;
  }
  if (record.output.empty()) {
    std::fprintf(err, "%s: -o needs a file name\n", who);
    return kExitUsage;
  }
  SignalBlock block;

  // The recorder exists before the COW session, whose engine reports to
  // it; the trace file is created only once the options are known good, so
  // a usage error never truncates an existing trace.
  RecorderOptions ro;
  ro.snapshot = record.snapshot;
  ro.process_monitor = record.process_monitor;
  // Inline unless asked (see RecordOptions::writer_thread); asked for, the
  // thread writes from the first event.
  ro.writer_thread = record.writer_thread.value_or(false);
  ro.writer_thread_after = 0;
  auto recorder = std::make_unique<Recorder>(ro);

  // The listener features (ADDFD SEND, SYNC_WAKE_UP) for the header come
  // from the run's own listener: the header is written at the spawn.
  auto sandbox =
      SandboxedRun::Create(std::move(options), ProbeKernelFeatures(false), recorder.get());
  if (!sandbox.ok()) {
    // The handler sets' messages are whole lines already.
    const Error& e = sandbox.error();
    std::fprintf(err, "%s: %s\n", who, e.context.empty() ? e.Message().c_str() : e.context.c_str());
    return sandbox.code() == EINVAL ? kExitUsage : kExitInternal;
  }
  SandboxedRun& s = **sandbox;
  if (Status c = s.Check(); !c.ok()) {
    std::fprintf(err, "%s: %s\n", who,
                 c.code() == EINVAL ? c.error().context.c_str() : c.error().Message().c_str());
    return c.code() == EINVAL ? kExitUsage : kExitInternal;
  }

  const std::string trace_path = Absolute(record.output);
  auto writer = trace::TraceWriter::Open(trace_path, record.writer);
  if (!writer.ok()) {
    std::fprintf(err, "%s: cannot create the trace: %s\n", who, writer.error().Message().c_str());
    return kExitInternal;
  }
  const std::string canonical = Canonical(trace_path);
  const std::string workdir = s.Workdir();
  if (canonical.size() > workdir.size() && canonical.compare(0, workdir.size(), workdir) == 0 &&
      (workdir == "/" || canonical[workdir.size()] == '/')) {
    // Written by the supervisor into the real workdir: its bytes are not
    // the command's, but the command sees its name (a listing): recorded by
    // name only.
    recorder->set_snapshot_placeholders(
        {canonical.substr(workdir == "/" ? 1 : workdir.size() + 1)});
  }

  auto make_header = [&s, workdir, record_env = record.record_env] {
    HeaderInputs hi;
    hi.features = s.features();  // with the run's listener probed
    hi.run = s.options().run;
    hi.workdir = workdir;
    hi.record_env = record_env;
    hi.policy = s.Policy();
    hi.handler_sets = s.registry().set_names();
    return BuildHeader(hi);
  };
  if (Status b = recorder->BeginAtSpawn(**writer, make_header); !b.ok()) {
    std::fprintf(err, "%s: cannot write the trace: %s\n", who, b.error().Message().c_str());
    return kExitInternal;
  }

  RunHooks hooks;
  hooks.observer = recorder.get();
  hooks.tick = [&recorder] { recorder->Tick(); };
  auto r = s.Run(hooks);
  if (!r.ok()) {
    std::fprintf(err, "%s: %s\n", who, r.error().Message().c_str());
    (void)recorder->Finish(0, 0, false);
    return s.Finish(kExitInternal, false, false, err, /*aborted=*/true);
  }

  // The lower layer is still untouched: the change list (computed while the
  // recorder still collects the lower paths the engine reads, so that a
  // replay can recompute it from the snapshot: a renamed directory's
  // entries, say), then the snapshot of what the run consulted, then commit
  // or discard (recorded by the engine).
  std::optional<cow::ChangeList> changes;
  if (s.session() != nullptr && !recorder->error()) {
    auto c = s.session()->overlay().Changes();
    if (c.ok()) changes = std::move(*c);
  }
  (void)recorder->EndRun();
  auto snapshot = recorder->WriteSnapshot(workdir);
  if (!snapshot.ok() && !recorder->error()) {
    std::fprintf(err, "%s: the workdir snapshot is incomplete: %s\n", who,
                 snapshot.error().Message().c_str());
  }
  if (changes && !recorder->error()) (void)recorder->WriteChanges(*changes);

  ReportRun(*r, report, err);
  const bool write_failed = recorder->error().has_value();
  const bool aborted = !r->abort_error.empty() || write_failed;
  int code = r->exit_code;
  if (write_failed) {
    std::fprintf(err,
                 "%s: %s; the command was stopped, its changes discarded and the workdir left "
                 "untouched (the trace is readable up to the failure)\n",
                 who, recorder->error()->Message().c_str());
    code = kExitInternal;
  } else if (!r->abort_error.empty()) {
    std::fprintf(err, "%s: aborted: %s\n", who, r->abort_error.c_str());
    code = kExitInternal;
  }
  code = s.Finish(code, !aborted && r->exited && r->status == 0, report.stats, err, aborted);

  Status fin = recorder->Finish(r->exited ? r->status : 0, r->exited ? 0 : r->term_signal,
                                r->abort_error.empty());
  if (!fin.ok() && !write_failed) {
    std::fprintf(err, "%s: the trace is incomplete: %s\n", who, fin.error().Message().c_str());
    if (code == 0) code = kExitInternal;
  }
  if (report.stats) {
    const RecorderStats st = recorder->stats();
    const auto ws = (*writer)->stats();
    std::fprintf(err,
                 "%s: %" PRIu64 " events, %" PRIu64 " process and %" PRIu64 " cow records, %" PRIu64
                 " snapshot entries; %" PRIu64 " bytes in %s\n",
                 who, st.events, st.process_records, st.cow_records,
                 snapshot.ok() ? snapshot->entries : 0, ws.file_bytes, canonical.c_str());
  }
  int late = block.TakePending();
  if (late != 0 && r->stop_signal == 0 && code == r->exit_code) code = 128 + late;
  return code;
}

}  // namespace sandtrace::record
