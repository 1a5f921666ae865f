// The list of subcommands. Each is defined in its own tools/cmd_*.cc.
#pragma once

#include "tools/command.h"

namespace sandtrace::cli {

// Adds every subcommand below to `app`.
void AddAllCommands(CLI::App& app, Action* action);

}  // namespace sandtrace::cli
