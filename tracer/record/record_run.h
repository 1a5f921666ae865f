// RecordRun: `trace record` as a library call. The same SandboxedRun as
// `trace run` (same handlers, same decisions), with a Recorder attached:
//
//   open the trace (the supervisor writes it directly, never through the
//   copy-on-write view; inside the workdir it is left out of the snapshot)
//   -> header -> run (events, process and COW records; a frame flushed at
//   least every 100 ms) -> snapshot of the lower paths the run consulted
//   -> change list and disposition -> footer -> close (index, fsync).
//
// Failure behaviour:
//   SIGINT/SIGTERM/SIGHUP  the supervisor ends the tree; the trace still
//                          gets its snapshot and footer (the signals stay
//                          blocked until the trace is closed).
//   SIGKILL of `trace`     the watchdog kills the tree; the workdir is
//                          untouched; the trace is readable up to its last
//                          flushed frame (at most ~100 ms lost).
//   the trace's disk fills the write error aborts the run: the command is
//                          stopped, the workdir left untouched, and the
//                          trace is readable up to the failure.
//
// Thread-safety: call from the main thread, before starting other threads
// (or with the supervisor's signals blocked in them).
#pragma once

#include <string>

#include "formats/records.h"
#include "formats/trace_writer.h"
#include "tracer/record/recorder.h"
#include "tracer/record/sandboxed_run.h"

namespace sandtrace::record {

struct RecordOptions {
  std::string output = "trace.capnp";  // relative to the current directory
  trace::SnapshotMode snapshot = trace::SnapshotMode::kMetadata;
  bool record_env = false;
  bool process_monitor = true;
  trace::WriterOptions writer;
};

struct RecordResult {
  RunResult run;
  RecorderStats recorder;
  SnapshotStats snapshot;
  trace::WriterStats writer;
  std::string trace_path;   // absolute
  std::string trace_error;  // non-empty: the trace could not be written completely
  int stop_signal = 0;      // a signal that arrived after the run, while finishing the trace
};

// Opens the trace and runs. An error means nothing ran (the trace could not
// be created, the run could not start); the trace then holds at most a
// header.
Result<RecordResult> RecordRun(SandboxedRun& sandbox, const RecordOptions& options);

}  // namespace sandtrace::record
