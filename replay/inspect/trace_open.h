// Opening a trace for the inspection tools, and turning reader errors into
// the one line a user sees.
//
// Thread-safety: pure functions.
#pragma once

#include <memory>
#include <string>

#include "formats/trace_reader.h"
#include "tracer/base/result.h"

namespace sandtrace::inspect {

// Opens `path` with TraceReader. Fails (never throws) for a missing or
// unreadable file, a file that is not a trace, and a trace that needs a
// newer reader; ErrorLine() gives the message.
Result<std::unique_ptr<trace::TraceReader>> OpenTrace(const std::string& path);

// One line describing a reader error: the reader's own sentence when it
// wrote one ("t.capnp: not a sandtrace trace (...)"), else context plus
// strerror ("open t.capnp: No such file or directory").
std::string ErrorLine(const Error& error);

}  // namespace sandtrace::inspect
