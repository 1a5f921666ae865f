#include "tools/commands.h"

namespace sandtrace::cli {

void AddRunCommand(CLI::App& app, Action* action);     // tools/cmd_run.cc
void AddRecordCommand(CLI::App& app, Action* action);  // tools/cmd_record.cc
void AddRecoverCommand(CLI::App& app, Action* action);  // tools/cmd_recover.cc

void AddAllCommands(CLI::App& app, Action* action) {
  // Subcommands register here, one line each, as they are built.
  AddRunCommand(app, action);
  AddRecordCommand(app, action);
  AddRecoverCommand(app, action);
  (void)app;
  (void)action;
}

}  // namespace sandtrace::cli
