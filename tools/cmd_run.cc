// `trace run [options] -- CMD [ARGS...]`: runs CMD under the supervisor, in a
// copy-on-write view of the workdir (tools/run_options.h lists the options;
// the run itself is tracer/record/sandboxed_run.h, shared with `trace
// record`).
//
// Exit status: CMD's own; 128+N if signal N killed it (or ended the run by
// reaching `trace`); 127 if CMD cannot be found or executed; 2 for usage
// errors (a bad flag, a -w that overlaps the workdir); 125 when sandtrace
// itself fails (Landlock unavailable without --no-landlock, a handler bug)
// or the changes of a successful command cannot be committed.
#include <cstdio>
#include <memory>

#include "tools/command.h"
#include "tools/run_options.h"
#include "tracer/record/sandboxed_run.h"

namespace sandtrace::cli {

void AddRunCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* run = app.add_subcommand(
      "run",
      "Run CMD under the supervisor: Landlock (read everywhere, write only to -w paths, "
      "/dev nodes, a private TMPDIR and /dev/shm, never the workdir) + seccomp (deny list, "
      "notify set)");
  AddRunOptions(run, flags.get());
  run->footer(
      "Exit status: CMD's own; 128+N if signal N killed it or ended the run; 127 if CMD "
      "cannot be executed; 2 on usage errors; 125 if sandtrace itself failed.");
  // Everything after `--` (or from the first non-option) is the command.
  run->add_option("command", flags->argv, "CMD [ARGS...] (after --)");
  run->positionals_at_end();
  run->callback([flags, action] {
    *action = [flags] {
      return record::RunSandboxed(ToSandboxOptions(*flags), ToReportOptions(*flags, "trace run"),
                                  stderr);
    };
  });
}

}  // namespace sandtrace::cli
