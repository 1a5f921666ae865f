// `trace dump FILE`: every event of a trace, one line each in strace's
// style, or JSON Lines with --json. The logic is replay/inspect/dump.h.
//
// Exit status: 0; 2 for a missing or unreadable file, a file that is not
// a trace, a trace from a newer format, a bad option, or a damaged trace
// (after printing everything before the damage). A truncated trace prints
// what it holds and a warning on stderr, and exits 0.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "replay/inspect/dump.h"
#include "replay/inspect/syscall_sets.h"
#include "replay/inspect/trace_open.h"
#include "tools/command.h"

namespace sandtrace::cli {

// Shared with tools/cmd_stats.cc: the filter options of inspect/filter.h.
void AddFilterOptions(CLI::App& cmd, inspect::FilterOptions& f) {
  cmd.add_option("-e,--expr", f.expressions,
                 "trace=SET: the syscalls to keep. SET is a comma list of names, %classes "
                 "(below), /REGEX, all or none; ?ITEM ignores an unknown name; a leading ! "
                 "negates the set. Repeatable; a bare SET also works");
  cmd.add_option("-p,--tid", f.tids, "Only this thread or process id (repeatable, comma list)")
      ->delimiter(',');
  cmd.add_option("--path", f.paths,
                 "Only events whose path argument or injected file matches GLOB (`*` also "
                 "matches /; repeatable)");
  cmd.add_option("--decision", f.decisions,
                 "Only events decided so: continue, return (or value), errno, inject, unknown "
                 "(repeatable, comma list)")
      ->delimiter(',');
  cmd.add_option("--from", f.from,
                 "Start at event number N, or at a time since the start (1.5s, 200ms, 50us)");
  cmd.add_option("--to", f.to, "Stop after event number N, or after a time since the start");
}

// The classes, for the help footers.
std::string SyscallClassHelp() {
  std::string out = "Syscall classes for -e trace=:\n";
  for (const auto& c : inspect::SyscallClasses()) {
    char line[128];
    std::snprintf(line, sizeof line, "  %-10s %s\n", std::string(c.name).c_str(),
                  std::string(c.description).c_str());
    out += line;
  }
  return out;
}

namespace {

struct DumpFlags {
  std::string file;
  inspect::DumpOptions options;
};

int DumpMain(const DumpFlags& f) {
  auto reader = inspect::OpenTrace(f.file);
  if (!reader.ok()) {
    std::fprintf(stderr, "trace dump: %s\n", inspect::ErrorLine(reader.error()).c_str());
    return kExitUsage;
  }
  std::ios::sync_with_stdio(false);
  auto summary = inspect::Dump(**reader, f.options, std::cout);
  std::cout.flush();
  if (summary.ok() && !std::cout) summary = Err(EIO, "writing the output failed");
  if (!summary.ok()) {
    std::fprintf(stderr, "trace dump: %s\n", inspect::ErrorLine(summary.error()).c_str());
    return kExitUsage;
  }
  if (!summary->warning.empty()) {
    std::fprintf(stderr, "trace dump: warning: %s\n", summary->warning.c_str());
  }
  return 0;
}

}  // namespace

void AddDumpCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<DumpFlags>();
  CLI::App* cmd = app.add_subcommand(
      "dump", "Print a trace's events, one line each in strace's style (or JSON Lines)");
  cmd->add_option("FILE", flags->file, "The trace file")->required();
  cmd->add_flag("--json", flags->options.json,
                "JSON Lines: every record with every field (Cap'n Proto's JSON mapping of "
                "formats/trace.capnp; 64-bit numbers as strings; non-UTF-8 bytes as "
                "{\"base64\": ...}), plus \"syscall\" on events");
  cmd->add_option("-s,--string-limit", flags->options.text.string_limit,
                  "Cut strings and buffers after N bytes, like strace -s (paths are shown whole)")
      ->default_val(32)
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  cmd->add_flag("-n,--seq", flags->options.text.show_seq,
                "Prefix each event with its number (#seq)");
  cmd->add_flag("-t,--time", flags->options.text.show_time,
                "Prefix each line with the seconds since the trace started");
  AddFilterOptions(*cmd, flags->options.filter);
  cmd->footer(
      "Each line: [tid] syscall(decoded args) = decision <handler time>. Decisions: "
      "`= continue` (the kernel ran it), `= N` (returned), `= -1 ENOENT (...)`, `= inject fd N "
      "(upper|lower|outside [\"path\"])`. Process events show as +++ ... +++, copy-on-write "
      "events as --- cow ... ---. Strings are the ones the handler read.\n\n" +
      SyscallClassHelp() +
      "\nExamples:\n"
      "  trace dump build.capnp\n"
      "  trace dump -e trace=%file --decision errno build.capnp\n"
      "  trace dump -p 41002 --from 1.5s --to 2s -n build.capnp\n"
      "  trace dump --path 'src/*.c' build.capnp\n"
      "  trace dump --json build.capnp | jq -r 'select(.event) | .syscall' | sort | uniq -c\n\n"
      "Exit status: 0; 2 for a missing, unreadable, damaged or newer-format trace or a bad "
      "option. A truncated trace is dumped up to the cut with a warning, status 0.");
  cmd->callback([flags, action] { *action = [flags] { return DumpMain(*flags); }; });
}

}  // namespace sandtrace::cli
