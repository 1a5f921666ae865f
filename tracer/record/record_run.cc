#include "tracer/record/record_run.h"

#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "tracer/base/errors.h"
#include "tracer/record/header.h"

namespace sandtrace::record {

namespace {

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof buf) == nullptr) return path;
  return std::string(buf) + "/" + path;
}

// The canonical form of the trace's path (its directory exists; the file
// itself was just created).
std::string Canonical(const std::string& abs) {
  char buf[PATH_MAX];
  return realpath(abs.c_str(), buf) != nullptr ? std::string(buf) : abs;
}

// Blocks the signals that end a run for the whole recording (the
// supervisor handles them while the command runs), so that a SIGINT while
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
    // A signal that arrived after the run: report it, do not act on it twice.
    TakePending();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  int TakePending() {
    sigset_t pending;
    sigpending(&pending);
    int got = 0;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      if (sigismember(&pending, sig) && !sigismember(&old_, sig)) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        timespec zero{};
        if (sigtimedwait(&one, nullptr, &zero) == sig && got == 0) got = sig;
      }
    }
    return got;
  }

 private:
  sigset_t old_;
};

}  // namespace

Result<RecordResult> RecordRun(SandboxedRun& sandbox, const RecordOptions& options) {
  SignalBlock block;
  RecordResult out;
  out.trace_path = Absolute(options.output);
  auto writer = trace::TraceWriter::Open(out.trace_path, options.writer);
  if (!writer.ok()) return writer.error();
  out.trace_path = Canonical(out.trace_path);

  const std::string workdir = sandbox.Workdir();
  RecorderOptions ro;
  ro.snapshot = options.snapshot;
  ro.process_monitor = options.process_monitor;
  if (out.trace_path.size() > workdir.size() &&
      out.trace_path.compare(0, workdir.size(), workdir) == 0 &&
      (workdir == "/" || out.trace_path[workdir.size()] == '/')) {
    ro.snapshot_exclude.push_back(out.trace_path.substr(workdir == "/" ? 1 : workdir.size() + 1));
  }
  Recorder recorder(**writer, ro);

  HeaderInputs hi;
  hi.features = sandbox.features();
  hi.run = sandbox.options().run;
  hi.workdir = workdir;
  hi.record_env = options.record_env;
  hi.policy.seed = sandbox.options().seed.value_or(0);
  // Until the copy-on-write handlers are wired in, nothing is ever committed.
  hi.policy.disposition = trace::Disposition::kDiscard;
  for (auto& [k, v] : sandbox.PolicyOptions()) hi.policy.options.push_back({k, v});
  hi.handler_sets = sandbox.registry().set_names();
  if (Status s = recorder.Begin(BuildHeader(hi)); !s.ok()) return s.error();

  RunHooks hooks;
  hooks.observer = &recorder;
  hooks.tick = [&recorder] { recorder.Tick(); };
  hooks.after_run = [&](const std::string& lower_root) {
    (void)recorder.EndRun();
    auto snap = recorder.WriteSnapshot(lower_root);
    if (snap.ok()) out.snapshot = *snap;
  };
  auto run = sandbox.Run(hooks);
  if (!run.ok()) {
    (void)recorder.Finish(0, 0, false);
    return run.error();
  }
  out.run = std::move(*run);
  int exit_status = out.run.exited ? out.run.status : 0;
  int signal = out.run.exited ? 0 : out.run.term_signal;
  bool clean = out.run.abort_error.empty();
  Status fin = recorder.Finish(exit_status, signal, clean);
  if (!fin.ok()) out.trace_error = fin.error().Message();
  out.recorder = recorder.stats();
  out.writer = (*writer)->stats();
  out.stop_signal = block.TakePending();
  return out;
}

}  // namespace sandtrace::record
