// `trace diff A B`: aligns two traces of the same command (recorded, say,
// with two versions of a handler) event by event and reports where they
// differ.
//
// Alignment. Threads are paired by order of first appearance (the k-th
// thread seen in A with the k-th seen in B), since tids differ from run to
// run; with map_tids = false they are paired by equal tid. Each pair of
// threads is aligned on its own, so a different interleaving of threads is
// not a difference. Within a thread, events (and process events) are
// matched when their key agrees (syscall and the path strings read;
// process: kind and exec path). On a mismatch the aligner looks ahead up
// to `window` items on each side for the nearest point where the streams
// agree again and reports what it skipped as only-in-A / only-in-B (a
// skipped pair with the same syscall is compared instead, so a changed
// path shows as a payload difference). Copy-on-write events form one more
// stream. Memory: the items waiting for their counterpart, at most about
// `max_buffered` per side (beyond that the oldest are reported unmatched).
//
// Compared per matched event, ignoring what legitimately varies between
// runs (seq, notification id, ip, addresses, times, process start times,
// inode numbers and timestamps in the stat and getdents64 buffers a
// handler wrote (normalise.h); pids are compared through the thread
// pairing; each run's workdir and storage directory, from the header, are
// replaced by placeholders in bytes and paths): the scalar arguments, the payload (the ordered
// Tracee calls and their results), the decision, the injected file and the response outcome.
// Footers: exit status and the change list.
//
// Thread-safety: none; one call per pair of readers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/trace_reader.h"
#include "replay/inspect/event_text.h"
#include "tracer/base/result.h"

namespace sandtrace::inspect {

struct DiffOptions {
  size_t max_reported = 50;  // differences kept in detail (all are counted)
  size_t window = 64;        // lookahead when realigning
  size_t max_buffered = 1 << 16;
  bool map_tids = true;
  TextOptions text;
};

enum class DiffKind : uint8_t {
  kArgs,
  kPayload,
  kDecision,
  kInjectedFile,
  kOutcome,
  kProcess,  // a process event differs (exit status, exec argv)
  kCow,      // a copy-on-write event's detail differs
  kOnlyInA,
  kOnlyInB,
};
inline constexpr size_t kDiffKinds = 9;
std::string_view Name(DiffKind kind);

struct DiffEntry {
  std::optional<uint64_t> seq_a, seq_b;                   // events only
  std::string where;                                      // "#12 [41000] openat(...)"
  std::vector<std::pair<DiffKind, std::string>> aspects;  // what differs, A vs B
  uint64_t order = 0;                                     // for sorting: the A (else B) position
};

struct DiffSummary {
  uint64_t events_a = 0, events_b = 0;
  uint64_t matched = 0;    // aligned pairs (events and process events)
  uint64_t identical = 0;  // of which identical
  uint64_t different = 0;  // of which different
  uint64_t only_a = 0, only_b = 0;
  std::array<uint64_t, kDiffKinds> by_kind{};
  std::vector<DiffEntry> entries;  // at most max_reported, in trace order
  uint64_t unreported = 0;         // differences beyond max_reported
  std::vector<std::string> footer_differences;
  std::vector<std::string> notes;  // not differences: different argv, a warning...
  bool same() const {
    return different == 0 && only_a == 0 && only_b == 0 && footer_differences.empty();
  }
};

// Reads both traces to the end. Fails only on a read error.
Result<DiffSummary> DiffTraces(trace::TraceReader& a, trace::TraceReader& b,
                               const DiffOptions& options);

// The report: one block per difference, then the summary (ends with "\n").
std::string DiffText(const DiffSummary& summary, const std::string& name_a,
                     const std::string& name_b);

}  // namespace sandtrace::inspect
