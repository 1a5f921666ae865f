#include "tools/commands.h"

namespace sandtrace::cli {

void AddAllCommands(CLI::App& app, Action* action) {
  // Subcommands register here, one line each, as they are built.
  (void)app;
  (void)action;
}

}  // namespace sandtrace::cli
