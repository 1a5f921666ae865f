// The traces the inspect tests read: a hand-made, build-like trace that
// exercises every decoder path (flags, modes, escaping, buffers, process
// and cow events, interrupted and restarted notifications, an unknown
// syscall), and helpers to write records deterministically.
//
// The checked-in files under tests/inspect/golden/ were written by
// inspect_golden_gen (golden_gen.cc) from these functions.
#pragma once

#include <string>
#include <vector>

#include "formats/records.h"
#include "tracer/base/result.h"

namespace sandtrace::inspect_test {

// The hand-made trace, header first, footer last.
std::vector<trace::Record> BuildTraceRecords();

// Writes `records` to `path` with a fixed clock (so frame cuts do not
// depend on timing) and small frames (so there are several).
Status WriteRecords(const std::string& path, const std::vector<trace::Record>& records,
                    size_t frame_bytes = 2048);

// Writes the synthetic stream of formats/synthetic_trace.h (seed, events).
Status WriteSynthetic(const std::string& path, uint64_t events, uint64_t seed,
                      size_t frame_bytes = 512 * 1024);

}  // namespace sandtrace::inspect_test
