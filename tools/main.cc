// `trace`: the command-line front end. Thin by design: it parses options and
// calls the libraries; each subcommand lives in its own cmd_*.cc.
#include <cstdio>
#include <exception>

#include "tools/command.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  using namespace sandtrace::cli;
  CLI::App app{"sandtrace: run a command in a copy-on-write sandbox and record what its "
               "supervisor did",
               "trace"};
  app.set_version_flag("--version", std::string("trace (sandtrace) ") + SANDTRACE_VERSION);
  app.require_subcommand(1);
  Action action;
  AddAllCommands(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "trace: %s\n", e.what());
    return kExitUsage;
  }
  try {
    return action ? action() : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trace: error: %s\n", e.what());
    return kExitInternal;
  }
}
