// `trace dump`: every record of a trace as a line of text (event_text.h) or
// as JSON Lines (formats/json.h: every field, plus "syscall" on events),
// through the filter of filter.h. Streams: memory stays bounded by one
// record whatever the trace's length.
//
// Text mode prints events, process events and copy-on-write events; the
// header and footer are `trace info`'s business. JSON mode prints every
// record that passes the filter, header and footer included.
//
// Thread-safety: none; one call per reader.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "formats/trace_reader.h"
#include "replay/inspect/event_text.h"
#include "replay/inspect/filter.h"
#include "tracer/base/result.h"

namespace sandtrace::inspect {

struct DumpOptions {
  TextOptions text;
  bool json = false;
  FilterOptions filter;
};

struct DumpSummary {
  uint64_t records = 0;  // records written
  uint64_t events = 0;   // of which events
  std::string warning;   // the reader's truncation warning, if any
};

// Dumps `reader` from its current position (normally just opened). A bad
// filter option fails with EINVAL before anything is written; a read error
// fails after everything before it was written.
Result<DumpSummary> Dump(trace::TraceReader& reader, const DumpOptions& options, std::ostream& out);

}  // namespace sandtrace::inspect
