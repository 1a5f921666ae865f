// The record filter shared by `trace dump` and `trace stats`.
//
//   -e trace=SET     syscalls to keep (syscall_sets.h); repeatable, the
//                    sets add up; a bare SET is accepted as trace=SET
//   -p TID           threads to keep (repeatable)
//   --path GLOB      events with a path argument or injected file matching
//                    GLOB (fnmatch without FNM_PATHNAME: `*` crosses `/`)
//   --decision KIND  continue | return (alias value) | errno | inject
//                    (alias inject_fd) | unknown; repeatable
//   --from/--to X    an event sequence number (`120`), or a time since the
//                    trace started with a unit (`1.5s`, `200ms`, `50us`,
//                    `10ns`); both ends inclusive
//
// Events must pass every given filter. Process events (spawn, fork, exec,
// exit) are kept unless -p excludes their pid or --path their exec path,
// the way strace shows "+++ exited" whatever -e says. Copy-on-write events
// carry no tid or syscall: they are kept only when none of -e, -p and
// --decision is given (--path applies to them). Header, snapshot and
// footer records are never filtered.
//
// Thread-safety: an EventFilter is stateful (it tracks the time base and
// the --to bound as records go by): one per pass over a trace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/records.h"
#include "tracer/base/result.h"

namespace sandtrace::inspect {

struct FilterOptions {
  std::vector<std::string> expressions;  // -e
  std::vector<uint32_t> tids;            // -p
  std::vector<std::string> paths;        // --path
  std::vector<std::string> decisions;    // --decision
  std::string from;                      // --from ("" = from the start)
  std::string to;                        // --to ("" = to the end)
};

class EventFilter {
 public:
  enum class Verdict { kSkip, kKeep, kStop };

  // EINVAL with a one-line context for a bad option value.
  static Result<EventFilter> Create(const FilterOptions& options,
                                    const trace::HeaderRecord& header);

  // Decides for the next record, in file order. kStop: this record and
  // every later one are past --to.
  Verdict Next(const trace::Record& record);

  // The first seq --from asks for (a reader may SeekToSeq there first).
  std::optional<uint64_t> from_seq() const { return from_seq_; }
  // Whether any option restricts events at all.
  bool restricts_events() const;

 private:
  EventFilter() = default;
  bool KeepEvent(const trace::EventRecord& event) const;
  bool MatchesPath(std::string_view path) const;
  bool InTimeRange(uint64_t time_ns);

  std::vector<std::vector<bool>> syscall_sets_;  // per arch, parallel to arches_
  std::vector<uint32_t> arches_;
  bool has_syscall_set_ = false;
  std::vector<uint32_t> tids_;
  std::vector<std::string> paths_;
  std::vector<trace::DecisionKind> decisions_;
  std::optional<uint64_t> from_seq_, to_seq_;
  std::optional<uint64_t> from_ns_, to_ns_;  // offsets from the time base
  std::optional<uint64_t> time_base_ns_;
  // Process and cow records before the first event of --from are skipped.
  bool reached_from_seq_ = false;
};

// Parses "1.5s", "200ms", "50us", "50µs", "10ns" into ns; nullopt if `text`
// is not a duration.
std::optional<uint64_t> ParseDuration(std::string_view text);

}  // namespace sandtrace::inspect
