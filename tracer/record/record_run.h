// RecordSandboxed: `trace record` end to end. The same SandboxedRun as
// `trace run` (same handlers, same decisions) with a Recorder attached:
//
//   open the trace (the supervisor writes it directly, never through the
//   copy-on-write view; inside the workdir, its bytes are left out of the
//   snapshot, which holds its name only, as an empty file, when the run
//   consulted it: the child sees it in listings)
//   -> header -> run (events, process and COW records; a frame reaches the
//   file at least every 100 ms) -> snapshot of the lower paths the run
//   consulted -> change list -> disposition (commit/discard record) ->
//   footer -> close (seek index, fsync).
//
// Failure behaviour:
//   SIGINT/SIGTERM/SIGHUP  the supervisor ends the tree; the trace still
//                          gets its snapshot and footer (the signals stay
//                          blocked until the trace is closed).
//   SIGKILL of `trace`     the watchdog kills the tree; the workdir is
//                          untouched (nothing is committed); the trace is
//                          readable up to its last flushed frame.
//   the trace's disk fills the write error aborts the run: the command is
//                          stopped with one line on stderr, the changes are
//                          discarded (workdir untouched), and the trace is
//                          readable up to the failure. Exit status 125.
//
// Thread-safety: call from main's thread, before starting other threads
// (or with the supervisor's signals blocked in them).
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "formats/records.h"
#include "formats/trace_writer.h"
#include "tracer/record/sandboxed_run.h"

namespace sandtrace::record {

struct RecordOptions {
  std::string output = "trace.capnp";  // relative to the current directory
  trace::SnapshotMode snapshot = trace::SnapshotMode::kMetadata;
  bool record_env = false;
  bool process_monitor = true;
  // RecorderOptions::writer_thread, from the first event; unset: inline.
  // On the 2-vCPU VM this was measured on, the thread cost more than it
  // saved (bench/record/compare.sh, seven paired runs, twice: cp -r + rm -rf
  // 21.2-21.5 % over `trace run` with the thread, 16.1-16.4 % inline; the
  // other workloads equal within noise; pinned to one CPU, 11.2 % against
  // 6.1 %): swapping each record into the ring and recycling the one that
  // comes back costs the loop about as much as encoding it, and the
  // thread's compression competes with the command for the CPUs. The
  // thread is for trace storage slow enough that writing a frame would
  // stall the loop.
  std::optional<bool> writer_thread;
  // writer.compress_thread (`--writer split`, the CLI's default) keeps the
  // encoding on the loop and hands each full frame to the writer's own
  // compressor thread: the loop's cost without the per-record hand-over.
  trace::WriterOptions writer;
};

// Returns the exit status of `trace` (as RunSandboxed; 125 also when the
// trace cannot be created or written completely). With report.stats it
// also prints what was recorded.
int RecordSandboxed(SandboxOptions options, const RecordOptions& record,
                    const ReportOptions& report, std::FILE* err);

}  // namespace sandtrace::record
