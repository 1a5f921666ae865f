// `trace record [trace run options] [-o FILE] [--snapshot meta|content]
// [--record-env] -- CMD [ARGS...]`: `trace run` with every notification,
// decision and injected payload recorded (tracer/record/record_run.h).
//
// Exit status: as `trace run` (CMD's own, 128+N, 127, 2 for usage errors),
// and 125 when the trace cannot be created or written completely (the
// command is then stopped and its changes discarded).
#include <cstdio>
#include <memory>
#include <string>

#include "tools/command.h"
#include "tools/run_options.h"
#include "tracer/record/record_run.h"

namespace sandtrace::cli {

namespace {

struct RecordFlags {
  RunFlags run;
  std::string output = "trace.capnp";
  std::string snapshot = "meta";
  bool record_env = false;
  bool no_process_events = false;
  std::string writer = "auto";
};

int RecordMain(const RecordFlags& f) {
  record::RecordOptions ro;
  ro.output = f.output;
  ro.snapshot =
      f.snapshot == "content" ? trace::SnapshotMode::kFull : trace::SnapshotMode::kMetadata;
  ro.record_env = f.record_env;
  ro.process_monitor = !f.no_process_events;
  if (f.writer != "auto") ro.writer_thread = f.writer == "thread";
  ro.writer.compress_thread = f.writer == "auto" || f.writer == "split";
  return record::RecordSandboxed(ToSandboxOptions(f.run), ro,
                                 ToReportOptions(f.run, "trace record"), stderr);
}

}  // namespace

void AddRecordCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<RecordFlags>();
  CLI::App* cmd = app.add_subcommand(
      "record",
      "Run CMD exactly as `trace run` does and record every notification, decision and "
      "injected payload into a trace file");
  cmd->add_option("-o,--output", flags->output,
                  "Trace file to write (default: trace.capnp in the current directory; written "
                  "by the supervisor, left out of the snapshot)");
  cmd->add_option("--snapshot", flags->snapshot,
                  "What of the workdir to record for replay: meta (names, types, modes, sizes, "
                  "times, symlink targets of what the run looked at) or content (also the bytes "
                  "of the files it read)")
      ->check(CLI::IsMember({"meta", "content"}));
  cmd->add_flag("--record-env", flags->record_env,
                "Record the environment's values in the header (not recorded by default)");
  cmd->add_flag("--no-process-events", flags->no_process_events,
                "Do not use the kernel's process-events connector (fork/exec/exit records)");
  cmd->add_option("--writer", flags->writer,
                  "Where the trace is encoded and written: inline (all on the supervisor's "
                  "loop), split (encoded on the loop, compressed and written by a thread), "
                  "thread (all on a thread of its own, for trace storage slow enough to "
                  "stall the loop) or auto (split)")
      ->check(CLI::IsMember({"auto", "split", "thread", "inline"}));
  AddRunOptions(cmd, &flags->run);
  cmd->footer(
      "Exit status: CMD's own; 128+N if signal N killed it or ended the run; 127 if CMD "
      "cannot be executed; 2 on usage errors; 125 if sandtrace itself failed or the trace "
      "could not be written.");
  cmd->add_option("command", flags->run.argv, "CMD [ARGS...] (after --)");
  cmd->positionals_at_end();
  cmd->callback([flags, action] { *action = [flags] { return RecordMain(*flags); }; });
}

}  // namespace sandtrace::cli
