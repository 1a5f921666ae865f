// `trace export --format chrome`: the Chrome trace-event JSON format
// (the JSON Object Format: {"traceEvents": [...]}) that ui.perfetto.dev and
// chrome://tracing open.
//
//  - Every notification is a complete slice ("ph": "X") on the track of its
//    tid, spanning receive to response (ts and dur in µs), named after the
//    syscall, with args: seq, the decoded call, path, decision, handler
//    time and outcome.
//  - All threads live under one process, the traced command (pid = the
//    spawned pid, or 1), with thread_name metadata.
//  - Each process's lifetime (spawn or fork to exit) is a nestable async
//    slice ("ph": "b"/"e", cat "process"), which the viewers draw as a
//    track of its own; exec is an instant ("ph": "n") on it.
//
// Streams: each record is written as soon as it is read, and the state
// kept is one entry per live process and per thread seen, so memory stays
// flat on a trace of millions of events.
//
// Thread-safety: none; one call per reader.
#pragma once

#include <cstdint>
#include <ostream>

#include "formats/trace_reader.h"
#include "tracer/base/result.h"

namespace sandtrace::inspect {

struct ExportSummary {
  uint64_t slices = 0;     // "X" events written
  uint64_t processes = 0;  // async process slices
  std::string warning;     // the reader's truncation warning, if any
};

// Writes the whole trace to `out`. A read error fails after the JSON
// written so far has been closed, so the output still parses.
Result<ExportSummary> ExportChrome(trace::TraceReader& reader, std::ostream& out);

}  // namespace sandtrace::inspect
