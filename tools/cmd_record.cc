// `trace record [trace run options] [-o FILE] [--snapshot meta|content]
// [--record-env] -- CMD [ARGS...]`: `trace run` with every notification,
// decision and injected payload recorded (tracer/record/record_run.h).
//
// Exit status: as `trace run` (CMD's own, 128+N, 127, 2 for usage errors),
// and 125 when the trace cannot be created or written completely (the
// command is then stopped).
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/command.h"
#include "tracer/record/record_run.h"
#include "tracer/record/sandboxed_run.h"

namespace sandtrace::cli {

namespace {

struct RecordFlags {
  std::vector<std::string> read_paths;
  std::vector<std::string> write_paths;
  bool no_landlock = false;
  std::optional<uint64_t> seed;
  std::vector<std::string> passthrough;
  bool verbose = false;
  bool stats = false;
  bool no_sync_wake_up = false;
  std::string output = "trace.capnp";
  std::string snapshot = "meta";
  bool record_env = false;
  bool no_process_events = false;
  std::vector<std::string> argv;
};

int RecordMain(const RecordFlags& f) {
  record::SandboxOptions so;
  so.run.argv = f.argv;
  so.run.landlock = !f.no_landlock;
  so.run.read_paths = f.read_paths;
  so.run.write_paths = f.write_paths;
  so.run.sync_wake_up = !f.no_sync_wake_up;
  so.seed = f.seed;
  so.passthrough = f.passthrough;
  if (f.argv.empty()) {
    std::fprintf(stderr,
                 "trace record: no command given (usage: trace record [options] -- CMD ...)\n");
    return kExitUsage;
  }
  if (f.output.empty()) {
    std::fprintf(stderr, "trace record: -o needs a file name\n");
    return kExitUsage;
  }
  // The listener features (ADDFD SEND, SYNC_WAKE_UP) go into the header,
  // so probe them now rather than only on the run's listener.
  auto sandbox = record::SandboxedRun::Create(std::move(so), ProbeKernelFeatures(true));
  if (!sandbox.ok()) {
    std::fprintf(stderr, "trace record: %s\n", sandbox.error().context.c_str());
    return sandbox.code() == EINVAL ? kExitUsage : kExitInternal;
  }
  if (Status s = (*sandbox)->Check(); !s.ok()) {
    std::fprintf(stderr, "trace record: %s\n",
                 s.code() == EINVAL ? s.error().context.c_str() : s.error().Message().c_str());
    return s.code() == EINVAL ? kExitUsage : kExitInternal;
  }

  record::RecordOptions ro;
  ro.output = f.output;
  ro.snapshot = f.snapshot == "content" ? trace::SnapshotMode::kFull
                                        : trace::SnapshotMode::kMetadata;
  ro.record_env = f.record_env;
  ro.process_monitor = !f.no_process_events;
  auto r = record::RecordRun(**sandbox, ro);
  if (!r.ok()) {
    std::fprintf(stderr, "trace record: %s\n", r.error().Message().c_str());
    return kExitInternal;
  }
  const RunResult& run = r->run;
  if (f.verbose) std::fputs(run.enforced.c_str(), stderr);
  if (!run.exec_error.empty()) std::fprintf(stderr, "trace record: %s\n", run.exec_error.c_str());
  if (f.stats) {
    std::fprintf(stderr,
                 "trace record: %" PRIu64 " notifications (%" PRIu64 " target gone, %" PRIu64
                 " interrupted, %" PRIu64 " failed); %" PRIu64 " events, %" PRIu64
                 " process and %" PRIu64 " cow records, %" PRIu64 " snapshot entries; %" PRIu64
                 " bytes in %s\n",
                 run.notifications, run.target_gone, run.interrupted, run.failed,
                 r->recorder.events, r->recorder.process_records, r->recorder.cow_records,
                 r->snapshot.entries, r->writer.file_bytes, r->trace_path.c_str());
  }
  if (!r->trace_error.empty()) {
    std::fprintf(stderr,
                 "trace record: %s; the command was stopped and the workdir left untouched "
                 "(the trace is readable up to the failure)\n",
                 r->trace_error.c_str());
    return kExitInternal;
  }
  if (!run.abort_error.empty()) {
    std::fprintf(stderr, "trace record: aborted: %s\n", run.abort_error.c_str());
    return kExitInternal;
  }
  if (r->stop_signal != 0 && run.stop_signal == 0) return 128 + r->stop_signal;
  return run.exit_code;
}

}  // namespace

void AddRecordCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<RecordFlags>();
  CLI::App* cmd = app.add_subcommand(
      "record",
      "Run CMD exactly as `trace run` does and record every notification, decision and "
      "injected payload into a trace file");
  cmd->add_option("-o,--output", flags->output,
                  "Trace file to write (default: trace.capnp in the current directory)");
  cmd->add_option("--snapshot", flags->snapshot,
                  "What of the workdir to record for replay: meta (names, types, modes, sizes, "
                  "times, symlink targets) or content (also the bytes of files read)")
      ->check(CLI::IsMember({"meta", "content"}));
  cmd->add_flag("--record-env", flags->record_env,
                "Record the environment's values in the header (not recorded by default)");
  cmd->add_flag("--no-process-events", flags->no_process_events,
                "Do not use the kernel's process-events connector (fork/exec/exit records)");
  cmd->add_option("-r,--read", flags->read_paths,
                  "Allow read+exec only beneath PATH (repeatable; default: everywhere)");
  cmd->add_option("-w,--write", flags->write_paths,
                  "Allow writes beneath PATH (repeatable; must not overlap the workdir)");
  cmd->add_flag("--no-landlock", flags->no_landlock, "Run without Landlock");
  cmd->add_option("--seed", flags->seed,
                  "Make getrandom and /dev/urandom, /dev/random deterministic with seed N");
  cmd->add_option("--passthrough", flags->passthrough,
                  "Notify these syscalls (comma-separated names) and CONTINUE them (benchmarks)")
      ->delimiter(',');
  cmd->add_flag("-v,--verbose", flags->verbose, "Print what was enforced (to stderr)");
  cmd->add_flag("--stats", flags->stats, "Print notification and record counts (to stderr)");
  cmd->add_flag("--no-sync-wake-up", flags->no_sync_wake_up,
                "Do not set SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (for comparisons)");
  cmd->footer(
      "Exit status: CMD's own; 128+N if signal N killed it or ended the run; 127 if CMD "
      "cannot be executed; 2 on usage errors; 125 if sandtrace itself failed or the trace "
      "could not be written.");
  cmd->add_option("command", flags->argv, "CMD [ARGS...] (after --)");
  cmd->positionals_at_end();
  cmd->callback([flags, action] { *action = [flags] { return RecordMain(*flags); }; });
}

}  // namespace sandtrace::cli
