#include "tools/commands.h"

namespace sandtrace::cli {

void AddRunCommand(CLI::App& app, Action* action);     // tools/cmd_run.cc
void AddRecordCommand(CLI::App& app, Action* action);  // tools/cmd_record.cc

void AddDumpCommand(CLI::App& app, Action* action);    // tools/cmd_dump.cc
void AddStatsCommand(CLI::App& app, Action* action);   // tools/cmd_stats.cc
void AddDiffCommand(CLI::App& app, Action* action);    // tools/cmd_diff.cc
void AddExportCommand(CLI::App& app, Action* action);  // tools/cmd_export.cc
void AddInfoCommand(CLI::App& app, Action* action);    // tools/cmd_info.cc
void AddRecoverCommand(CLI::App& app, Action* action);  // tools/cmd_recover.cc
void AddReplayCommand(CLI::App& app, Action* action);   // tools/cmd_replay.cc

void AddAllCommands(CLI::App& app, Action* action) {
  // Subcommands register here, one line each, as they are built.
  AddRunCommand(app, action);
  AddRecordCommand(app, action);
  AddDumpCommand(app, action);
  AddStatsCommand(app, action);
  AddDiffCommand(app, action);
  AddExportCommand(app, action);
  AddInfoCommand(app, action);
  AddRecoverCommand(app, action);
  AddReplayCommand(app, action);
  (void)app;
  (void)action;
}

}  // namespace sandtrace::cli
