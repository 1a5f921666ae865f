// `trace replay [options] FILE`: re-drive the recorded handlers from a trace
// and compare their decisions (the logic is replay/replay.h).
//
// Exit status: 0 identical; 1 diverged; 2 unreadable or unsupported trace
// (one line saying why) or a bad option; 3 identical but slower than the
// --baseline by more than the threshold.
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "replay/replay.h"
#include "tools/command.h"

namespace sandtrace::cli {
namespace {

constexpr int kExitRegressed = 3;
constexpr uint64_t kProgressMinEvents = 20000;

struct ReplayFlags {
  std::string file;
  bool json = false;
  uint64_t max_divergences = 0;
  std::optional<uint64_t> from;
  std::optional<uint64_t> to;
  bool cold = false;
  bool timing = false;
  int repeat = 1;
  std::string baseline;
  std::string percentile = "p99";
  double threshold_pct = 25;
  std::optional<uint64_t> quota;
  std::string scratch;
  bool keep_scratch = false;
  bool no_progress = false;
};

int ReplayMain(const ReplayFlags& f) {
  replay::ReplayOptions o;
  o.scratch.base = f.scratch;
  o.scratch.keep = f.keep_scratch;
  o.from_seq = f.from;
  o.to_seq = f.to;
  o.cold = f.cold;
  o.max_divergences = f.max_divergences;
  o.timing = f.timing || !f.baseline.empty();
  o.repeat = f.repeat;
  if (f.repeat < 1) {
    std::fprintf(stderr, "trace replay: --repeat must be at least 1\n");
    return kExitUsage;
  }
  if (f.from && f.to && *f.from > *f.to) {
    std::fprintf(stderr, "trace replay: --from %" PRIu64 " is after --to %" PRIu64 "\n", *f.from,
                 *f.to);
    return kExitUsage;
  }
  if (f.cold && !f.from) {
    std::fprintf(stderr, "trace replay: --cold needs --from\n");
    return kExitUsage;
  }
  o.quota_bytes = f.quota;
  std::string baseline_text;
  if (!f.baseline.empty()) {
    std::ifstream in(f.baseline);
    if (!in) {
      std::fprintf(stderr, "trace replay: cannot read the baseline %s\n", f.baseline.c_str());
      return kExitUsage;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    baseline_text = ss.str();
  }
  // A progress line on a terminal, for traces large enough to wait for.
  bool drew = false;
  if (!f.no_progress && isatty(STDERR_FILENO)) {
    o.progress = [&drew](uint64_t done, uint64_t total) {
      if (total < kProgressMinEvents) return;
      if (done >= total) {
        if (drew) std::fputs("\r\033[K", stderr);
        return;
      }
      std::fprintf(stderr, "\rreplay: %" PRIu64 "/%" PRIu64 " events (%" PRIu64 "%%)", done, total,
                   done * 100 / total);
      drew = true;
    };
  }

  auto report = Replay(f.file, o);
  if (!report.ok()) {
    std::fprintf(stderr, "trace replay: %s\n",
                 report.error().context.empty() ? report.error().Message().c_str()
                                                : report.error().context.c_str());
    return kExitUsage;
  }
  int status = report->ExitStatus();
  if (!baseline_text.empty() && report->timing) {
    replay::BaselineOptions bo;
    bo.percentile = f.percentile;
    bo.threshold = f.threshold_pct / 100.0;
    auto cmp = replay::CompareBaseline(baseline_text, *report->timing, bo);
    if (!cmp.ok()) {
      std::fprintf(stderr, "trace replay: %s: %s\n", f.baseline.c_str(),
                   cmp.error().context.c_str());
      return kExitUsage;
    }
    report->baseline = *cmp;
    if (status == 0 && !cmp->regressions.empty()) status = kExitRegressed;
  }
  const std::string out = f.json ? replay::FormatJson(*report) : replay::FormatText(*report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!report->read_error.empty()) {
    std::fflush(stdout);
    std::fprintf(stderr, "trace replay: %s\n", report->read_error.c_str());
  }
  return status;
}

}  // namespace

void AddReplayCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<ReplayFlags>();
  CLI::App* cmd = app.add_subcommand(
      "replay",
      "Re-drive the recorded handlers from a trace, without the command, and compare every "
      "decision");
  cmd->add_option("FILE", flags->file, "The trace file")->required();
  cmd->add_flag("--json", flags->json, "Print the report as one JSON object");
  cmd->add_option("--max-divergences", flags->max_divergences,
                  "Stop after N diverged events (default: replay everything)");
  cmd->add_option("--from", flags->from, "Compare events from this sequence number on");
  cmd->add_option("--to", flags->to, "Compare events up to this sequence number");
  cmd->add_flag("--cold", flags->cold,
                "With --from: seek there through the index instead of re-driving the events "
                "before it (faster; state starts from the snapshot)");
  cmd->add_flag("--timing", flags->timing,
                "Handler latency per syscall and per handler set (p50/p90/p99/max), next to the "
                "recorded live latency, and replay throughput");
  cmd->add_option("--repeat", flags->repeat, "Replay N times for stable timing figures");
  cmd->add_option("--baseline", flags->baseline,
                  "Compare the timing with a report saved by `trace replay --timing --json`; "
                  "exit 3 if it regressed");
  cmd->add_option("--baseline-percentile", flags->percentile,
                  "Percentile judged against the baseline: p50, p90, p99 (default) or max")
      ->check(CLI::IsMember({"p50", "p90", "p99", "max"}));
  cmd->add_option("--threshold", flags->threshold_pct,
                  "Regression threshold in percent (default 25)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--quota", flags->quota,
                  "Replay with this quota instead of the recorded one (K, M, G suffixes)")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--scratch", flags->scratch,
                  "Directory for the scratch workdir (default: $TMPDIR or /tmp)");
  cmd->add_flag("--keep-scratch", flags->keep_scratch, "Leave the scratch directory in place");
  cmd->add_flag("--no-progress", flags->no_progress, "No progress line on stderr");
  cmd->footer(
      "Rebuilds the workdir from the trace's snapshot in a scratch directory, creates the "
      "recorded handler sets over it (copy-on-write engine with the recorded quota, seed "
      "handlers with the recorded seed) and re-drives every event, serving the recorded "
      "answers of the child. Needs no root and nothing of the recording machine.\n\n"
      "Examples:\n"
      "  trace replay build.capnp\n"
      "  trace replay --timing --repeat 5 --json build.capnp > base.json\n"
      "  trace replay --timing --baseline base.json build.capnp\n\n"
      "Exit status: 0 identical; 1 diverged; 2 unreadable or unsupported trace, or a bad "
      "option; 3 identical but regressed against --baseline.");
  cmd->callback([flags, action] { *action = [flags] { return ReplayMain(*flags); }; });
}

}  // namespace sandtrace::cli
