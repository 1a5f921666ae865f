// `trace diff A B`: where two traces of the same command differ. The logic
// is replay/inspect/diff.h.
//
// Exit status: 0 identical, 1 different, 2 for an unreadable, damaged or
// newer-format trace or a bad option.
#include <cstdio>
#include <memory>
#include <string>

#include "replay/inspect/diff.h"
#include "replay/inspect/trace_open.h"
#include "tools/command.h"

namespace sandtrace::cli {
namespace {

struct DiffFlags {
  std::string a, b;
  inspect::DiffOptions options;
  bool no_tid_map = false;
  bool quiet = false;
};

int DiffMain(DiffFlags f) {
  auto a = inspect::OpenTrace(f.a);
  if (!a.ok()) {
    std::fprintf(stderr, "trace diff: %s\n", inspect::ErrorLine(a.error()).c_str());
    return kExitUsage;
  }
  auto b = inspect::OpenTrace(f.b);
  if (!b.ok()) {
    std::fprintf(stderr, "trace diff: %s\n", inspect::ErrorLine(b.error()).c_str());
    return kExitUsage;
  }
  f.options.map_tids = !f.no_tid_map;
  auto summary = inspect::DiffTraces(**a, **b, f.options);
  if (!summary.ok()) {
    std::fprintf(stderr, "trace diff: %s\n", inspect::ErrorLine(summary.error()).c_str());
    return kExitUsage;
  }
  if (!f.quiet) {
    const std::string text = inspect::DiffText(*summary, f.a, f.b);
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
        std::fflush(stdout) != 0) {
      std::fprintf(stderr, "trace diff: writing the output failed\n");
      return kExitUsage;
    }
  }
  return summary->same() ? 0 : 1;
}

}  // namespace

void AddDiffCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<DiffFlags>();
  CLI::App* cmd = app.add_subcommand(
      "diff", "Align two traces of the same command event by event and report the differences");
  cmd->add_option("A", flags->a, "The first trace")->required();
  cmd->add_option("B", flags->b, "The second trace")->required();
  cmd->add_option("--max", flags->options.max_reported,
                  "Show at most N differences in detail (all are counted; default 50)")
      ->check(CLI::Range(size_t{0}, size_t{1} << 30));
  cmd->add_option("--window", flags->options.window,
                  "Look ahead up to N events per thread to realign (default 64)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 16));
  cmd->add_flag("--no-tid-map", flags->no_tid_map,
                "Pair threads by equal tid instead of by order of first appearance");
  cmd->add_flag("-q,--quiet", flags->quiet, "Print nothing; the exit status says it");
  cmd->footer(
      "Threads are paired by order of first appearance (tids change between runs) and "
      "aligned one by one, so a different interleaving is not a difference. Compared per "
      "event: scalar arguments, payload (the handler's Tracee calls and their results), "
      "decision, injected file, outcome; then exit status and change list. Sequence numbers, "
      "ids, addresses and times are not compared.\n\n"
      "Examples:\n"
      "  trace diff before.capnp after.capnp\n"
      "  trace diff -q a.capnp b.capnp && echo same\n\n"
      "Exit status: 0 identical, 1 different, 2 for a missing, unreadable, damaged or "
      "newer-format trace or a bad option.");
  cmd->callback([flags, action] { *action = [flags] { return DiffMain(*flags); }; });
}

}  // namespace sandtrace::cli
