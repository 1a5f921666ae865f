// `trace info FILE`: header, footer, change list, frame and index
// statistics. The logic is replay/inspect/info.h.
//
// Exit status: 0 (a truncated trace too: info says where it stopped); 2 for
// a missing, non-trace or newer-format file or a bad option, and for a
// damaged trace (after printing what could be read).
#include <cstdio>
#include <memory>
#include <string>

#include "replay/inspect/info.h"
#include "replay/inspect/trace_open.h"
#include "tools/command.h"

namespace sandtrace::cli {
namespace {

struct InfoFlags {
  std::string file;
  bool json = false;
};

int InfoMain(const InfoFlags& f) {
  auto reader = inspect::OpenTrace(f.file);
  if (!reader.ok()) {
    std::fprintf(stderr, "trace info: %s\n", inspect::ErrorLine(reader.error()).c_str());
    return kExitUsage;
  }
  const inspect::InfoReport report = inspect::CollectInfo(**reader);
  const std::string text = f.json ? inspect::InfoJson(report) : inspect::InfoText(report);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "trace info: writing the output failed\n");
    return kExitUsage;
  }
  if (!report.error.empty()) {
    std::fprintf(stderr, "trace info: %s\n", report.error.c_str());
    return kExitUsage;
  }
  return 0;
}

}  // namespace

void AddInfoCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<InfoFlags>();
  CLI::App* cmd = app.add_subcommand(
      "info", "Describe a trace: header, footer, change list, frame and index statistics");
  cmd->add_option("FILE", flags->file, "The trace file")->required();
  cmd->add_flag("--json", flags->json,
                "One JSON object (header and footer in Cap'n Proto's JSON mapping)");
  cmd->footer(
      "Reads the whole file once. `end:` says whether the trace ended cleanly, or where it "
      "stopped (the byte offset and the last complete event) when the recorder was killed.\n\n"
      "Examples:\n"
      "  trace info build.capnp\n"
      "  trace info --json build.capnp | jq .footer\n\n"
      "Exit status: 0 (also for a truncated trace); 2 for a missing, non-trace, newer-format "
      "or damaged file or a bad option.");
  cmd->callback([flags, action] { *action = [flags] { return InfoMain(*flags); }; });
}

}  // namespace sandtrace::cli
