// `trace stats FILE`: per-syscall counts, decisions and handler latency,
// like `strace -c`. The logic is replay/inspect/stats.h.
//
// Exit status: 0; 2 for an unreadable, damaged or newer-format trace or a
// bad option.
#include <cstdio>
#include <memory>
#include <string>

#include "replay/inspect/stats.h"
#include "replay/inspect/trace_open.h"
#include "tools/command.h"

namespace sandtrace::cli {

void AddFilterOptions(CLI::App& cmd, inspect::FilterOptions& f);  // tools/cmd_dump.cc
std::string SyscallClassHelp();                                   // tools/cmd_dump.cc

namespace {

struct StatsFlags {
  std::string file;
  bool json = false;
  std::string sort = "time";
  inspect::FilterOptions filter;
};

int StatsMain(const StatsFlags& f) {
  auto sort = inspect::ParseStatsSort(f.sort);
  if (!sort.ok()) {
    std::fprintf(stderr, "trace stats: %s\n", sort.error().context.c_str());
    return kExitUsage;
  }
  auto reader = inspect::OpenTrace(f.file);
  if (!reader.ok()) {
    std::fprintf(stderr, "trace stats: %s\n", inspect::ErrorLine(reader.error()).c_str());
    return kExitUsage;
  }
  auto report = inspect::CollectStats(**reader, f.filter, *sort);
  if (!report.ok()) {
    std::fprintf(stderr, "trace stats: %s\n", inspect::ErrorLine(report.error()).c_str());
    return kExitUsage;
  }
  const std::string text = f.json ? inspect::StatsJson(*report) : inspect::StatsText(*report);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "trace stats: writing the output failed\n");
    return kExitUsage;
  }
  if (!report->warning.empty()) {
    std::fprintf(stderr, "trace stats: warning: %s\n", report->warning.c_str());
  }
  return 0;
}

}  // namespace

void AddStatsCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "stats", "Per-syscall summary like strace -c: calls, errors, decisions, handler latency");
  cmd->add_option("FILE", flags->file, "The trace file")->required();
  cmd->add_flag("--json", flags->json, "One JSON object instead of the table (times in ns)");
  cmd->add_option("--sort", flags->sort, "Sort by time (default), calls, errors, name, avg or p99");
  AddFilterOptions(*cmd, flags->filter);
  cmd->footer(
      "Latency is the handler's time, from handler start to handler end as recorded. p50 and "
      "p99 are within 0.8% (log-linear histogram); errors are errno decisions. The filters "
      "are those of trace dump, so `trace stats` totals equal the number of event lines "
      "`trace dump` prints with the same filters.\n\n" +
      SyscallClassHelp() +
      "\nExamples:\n"
      "  trace stats build.capnp\n"
      "  trace stats --sort calls -e trace=%file build.capnp\n"
      "  trace stats --json build.capnp | jq '.syscalls[0]'\n\n"
      "Exit status: 0; 2 for a missing, unreadable, damaged or newer-format trace or a bad "
      "option.");
  cmd->callback([flags, action] { *action = [flags] { return StatsMain(*flags); }; });
}

}  // namespace sandtrace::cli
