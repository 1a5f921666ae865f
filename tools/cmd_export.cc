// `trace export FILE --format chrome -o OUT.json`: a trace in the Chrome
// trace-event format for ui.perfetto.dev and chrome://tracing. The logic is
// replay/inspect/chrome_export.h.
//
// Exit status: 0; 2 for an unreadable, damaged or newer-format trace, an
// output that cannot be written, or a bad option.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "replay/inspect/chrome_export.h"
#include "replay/inspect/fd_ostream.h"
#include "replay/inspect/trace_open.h"
#include "tools/command.h"

namespace sandtrace::cli {
namespace {

struct ExportFlags {
  std::string file;
  std::string format = "chrome";
  std::string output = "-";
};

int ExportMain(const ExportFlags& f) {
  auto reader = inspect::OpenTrace(f.file);
  if (!reader.ok()) {
    std::fprintf(stderr, "trace export: %s\n", inspect::ErrorLine(reader.error()).c_str());
    return kExitUsage;
  }
  std::unique_ptr<inspect::FdOstream> file;
  std::ostream* out = &std::cout;
  if (f.output != "-") {
    auto created = inspect::FdOstream::Create(f.output);
    if (!created.ok()) {
      std::fprintf(stderr, "trace export: %s\n", created.error().Message().c_str());
      return kExitUsage;
    }
    file = std::move(*created);
    out = file.get();
  } else {
    std::ios::sync_with_stdio(false);
  }
  auto summary = inspect::ExportChrome(**reader, *out);
  Status closed = file ? file->Close() : OkStatus();
  if (!file) std::cout.flush();
  if (!summary.ok()) {
    std::fprintf(stderr, "trace export: %s\n", inspect::ErrorLine(summary.error()).c_str());
    return kExitUsage;
  }
  if (!closed.ok() || !*out) {
    std::fprintf(stderr, "trace export: %s\n",
                 closed.ok() ? "writing the output failed" : closed.error().Message().c_str());
    return kExitUsage;
  }
  if (!summary->warning.empty()) {
    std::fprintf(stderr, "trace export: warning: %s\n", summary->warning.c_str());
  }
  return 0;
}

}  // namespace

void AddExportCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "export", "Convert a trace for other tools (chrome: trace-event JSON for Perfetto)");
  cmd->add_option("FILE", flags->file, "The trace file")->required();
  cmd->add_option("-f,--format", flags->format, "Output format: chrome (the default)")
      ->check(CLI::IsMember({"chrome"}));
  cmd->add_option("-o,--output", flags->output, "Write to OUT instead of standard output");
  cmd->footer(
      "chrome: one track per thread, one slice per notification from receive to response "
      "(args: seq, decoded call, path, decision, handler time, outcome); each process's "
      "lifetime as an async track. Streams: memory stays flat however long the trace. Open "
      "the output in ui.perfetto.dev or chrome://tracing.\n\n"
      "Examples:\n"
      "  trace export build.capnp --format chrome -o build.json\n"
      "  trace export build.capnp | gzip > build.json.gz\n\n"
      "Exit status: 0; 2 for a missing, unreadable, damaged or newer-format trace, an "
      "unwritable output or a bad option.");
  cmd->callback([flags, action] { *action = [flags] { return ExportMain(*flags); }; });
}

}  // namespace sandtrace::cli
