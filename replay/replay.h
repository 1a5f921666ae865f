// Replay: re-drive a recorded run's handlers from its trace and compare
// (DESIGN.md §6). The library behind `trace replay`, usable from a user's
// own GoogleTest suite:
//
//   auto report = sandtrace::Replay("build.capnp");
//   ASSERT_TRUE(report.ok()) << report.error().context;
//   EXPECT_EQ(report->ExitStatus(), 0) << sandtrace::replay::FormatText(*report);
//
// Design note
// -----------
// 1. The trace header names the recorded run's handler sets and policy;
//    the end of the trace holds the workdir snapshot. Replay reads the
//    snapshot first (through the seek index when there is one), rebuilds
//    the lower layer in a scratch directory (replay/scratch.h) and builds
//    the same handler sets over it (replay/handler_sets.h): a fresh
//    copy-on-write engine with the recorded quota, the seed handlers with
//    the recorded seed.
// 2. Every event is then dispatched, in recorded order, through the same
//    HandlerRegistry code with a RecordedTracee (replay/recorded_tracee.h)
//    serving the recorded Tracee results. Per event it compares the Tracee
//    calls, the bytes written into the child, the installed and injected
//    files and the decision, after the normalisation of replay/compare.h.
// 3. A divergence is recorded and the replay goes on. Its state may then be
//    off (a handler that failed half-way, an overlay that differs), so later
//    divergences may be consequences of the first; the report says so.
// 4. At the end the replayed overlay's change list is compared with the
//    recorded one, and a recorded commit is replayed into the scratch lower.
//
// Hermetic: no root, no seccomp, no child, nothing of the recording
// machine's filesystem, nothing of the replaying machine's outside the
// scratch: what the handlers asked of the host outside the workdir (stat,
// access, readlink, opens and metadata changes of objects reached through
// symlinks made in the run, metadata changes where -w lets the child
// write) comes from the trace (Tracee::HostCall), and nothing is made
// there. Traces before format 3 did not record those answers: replay then
// looks at its own host for the lookups, answers opens with stand-ins and
// metadata changes with success, and counts those events as "outside"
// rather than comparing them.
//
// Thread-safety: Replay may run concurrently with itself (no shared state).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "replay/compare.h"
#include "replay/handler_sets.h"
#include "replay/scratch.h"
#include "replay/timing.h"
#include "tracer/base/result.h"

namespace sandtrace::replay {

struct ReplayOptions {
  ScratchOptions scratch;
  // Compare only events with from_seq <= seq <= to_seq. Events before
  // from_seq are still re-driven (not compared) to rebuild the handlers'
  // state, unless `cold`: then the reader seeks to from_seq through the
  // index and the handlers start from the snapshot's state.
  std::optional<uint64_t> from_seq;
  std::optional<uint64_t> to_seq;
  bool cold = false;
  // Stop after this many diverged events (0 = never).
  uint64_t max_divergences = 0;
  // Keep the details of at most this many diverged events (the rest are
  // counted).
  size_t max_details = 1000;
  // Measure handler latency (replay/timing.h), `repeat` times.
  bool timing = false;
  int repeat = 1;
  // Replay with another quota than the recorded one (what-if).
  std::optional<uint64_t> quota_bytes;
  // DAC checks of the replayed overlay; default: on when running as root
  // (as a root recording had them), off otherwise (an unprivileged replay
  // of a root recording would fail where root did not).
  std::optional<bool> check_permissions;
  // Handler sets by name, overriding or adding to the built-in ones.
  std::map<std::string, HandlerSetFactory, std::less<>> handler_sets;
  // Called about every 1,000 events with (events done, expected total or 0).
  std::function<void(uint64_t, uint64_t)> progress;
};

// One diverged event.
struct Divergence {
  uint64_t seq = 0;
  uint32_t tid = 0;
  std::string syscall;  // "openat"
  std::string call;     // decoded: `openat(AT_FDCWD, "a.txt", O_RDONLY)`
  std::vector<Difference> differences;
};

struct SyscallTally {
  std::string name;
  uint64_t events = 0;
  uint64_t identical = 0;
  uint64_t diverged = 0;
  uint64_t outside = 0;
};

struct ReplayReport {
  std::string trace;  // the path given
  std::string command;
  std::vector<std::string> handler_sets;
  std::string scratch;  // the scratch root (still there only if kept)

  uint64_t events = 0;  // compared (in range)
  uint64_t identical = 0;
  uint64_t diverged = 0;
  uint64_t outside = 0;                  // metadata changes outside the workdir: not compared
  uint64_t warmed_up = 0;                // re-driven before from_seq, not compared
  bool stopped_early = false;            // max_divergences reached
  std::vector<Divergence> divergences;   // the first max_details
  std::vector<SyscallTally> by_syscall;  // most frequent first

  // The end of the run (only when the replay covered the whole trace).
  bool changes_compared = false;
  uint64_t changes_recorded = 0;
  uint64_t changes_replayed = 0;
  std::vector<Difference> change_differences;  // includes a commit outcome difference

  std::string read_error;             // the trace turned unreadable part-way (exit 2)
  std::vector<std::string> warnings;  // truncated trace, path lengths, snapshot...
  std::optional<TimingReport> timing;
  std::optional<BaselineResult> baseline;  // filled in by the caller

  bool Identical() const { return diverged == 0 && change_differences.empty(); }
  // 0 identical, 1 diverged, 2 the trace became unreadable part-way.
  int ExitStatus() const { return !read_error.empty() ? 2 : Identical() ? 0 : 1; }
};

// The report as text for a person: one block per divergence (event number,
// tid, syscall with decoded arguments, expected vs got), then the summary.
std::string FormatText(const ReplayReport& report, bool with_timing = true);
// The report as one JSON document.
std::string FormatJson(const ReplayReport& report);

}  // namespace sandtrace::replay

namespace sandtrace {

// Replays the trace at `path`. An error means the trace cannot be replayed
// at all (exit status 2): unreadable or not a trace, needs a newer reader,
// another architecture, a handler set this replay does not know, no
// snapshot for a copy-on-write run, no usable scratch directory. Its context
// is one line for the user.
Result<replay::ReplayReport> Replay(const std::string& path,
                                    const replay::ReplayOptions& options = {});

}  // namespace sandtrace
