// `trace run [options] -- CMD [ARGS...]`: runs CMD under the supervisor.
//
// Exit status: CMD's own; 128+N if signal N killed it (or ended the run by
// reaching `trace`); 127 if CMD cannot be found or executed; 2 for usage
// errors (a bad flag, a -w that overlaps the workdir); 125 when sandtrace
// itself fails (Landlock unavailable without --no-landlock, a handler bug).
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/command.h"
#include "tracer/core/handler_registry.h"
#include "tracer/core/seed_handlers.h"
#include "tracer/supervisor.h"

namespace sandtrace::cli {

namespace {

struct RunFlags {
  std::vector<std::string> read_paths;
  std::vector<std::string> write_paths;
  bool no_landlock = false;
  std::optional<uint64_t> seed;
  bool seed_getrandom_only = false;
  std::vector<std::string> passthrough;
  bool print_features = false;
  bool verbose = false;
  bool stats = false;
  bool no_sync_wake_up = false;
  std::vector<std::string> argv;
};

int RunMain(const RunFlags& f, const std::vector<std::string>& argv) {
  HandlerRegistry registry;
  if (!f.passthrough.empty()) {
    std::vector<std::string_view> names(f.passthrough.begin(), f.passthrough.end());
    Status s = registry.AddByName("passthrough", names,
                                  [](const Notification&, Tracee&) -> std::optional<Decision> {
                                    return Decision::Continue();
                                  });
    if (!s.ok()) {
      std::fprintf(stderr, "trace run: --passthrough: %s\n", s.error().context.c_str());
      return kExitUsage;
    }
  }
  if (f.seed.has_value()) {
    if (Status s = AddSeedHandlers(registry, *f.seed, !f.seed_getrandom_only); !s.ok()) {
      std::fprintf(stderr, "trace run: --seed: %s\n", s.error().Message().c_str());
      return kExitInternal;
    }
  }

  RunOptions opts;
  opts.argv = argv;
  opts.landlock = !f.no_landlock;
  opts.read_paths = f.read_paths;
  opts.write_paths = f.write_paths;
  opts.sync_wake_up = !f.no_sync_wake_up;

  Supervisor supervisor(registry, ProbeKernelFeatures(f.print_features));
  if (f.print_features) {
    auto d = supervisor.Describe(opts);
    if (!d.ok()) {
      std::fprintf(stderr, "trace run: %s\n", d.error().Message().c_str());
      return kExitInternal;
    }
    std::fputs(d->c_str(), stdout);
    return 0;
  }
  if (argv.empty()) {
    std::fprintf(stderr, "trace run: no command given (usage: trace run [options] -- CMD ...)\n");
    return kExitUsage;
  }
  if (Status s = supervisor.Check(opts); !s.ok()) {
    std::fprintf(stderr, "trace run: %s\n",
                 s.code() == EINVAL ? s.error().context.c_str() : s.error().Message().c_str());
    return s.code() == EINVAL ? kExitUsage : kExitInternal;
  }
  auto r = supervisor.Run(opts);
  if (!r.ok()) {
    std::fprintf(stderr, "trace run: %s\n", r.error().Message().c_str());
    return kExitInternal;
  }
  if (f.verbose) std::fputs(r->enforced.c_str(), stderr);
  if (!r->exec_error.empty()) std::fprintf(stderr, "trace run: %s\n", r->exec_error.c_str());
  if (f.stats) {
    std::fprintf(stderr,
                 "trace run: %" PRIu64 " notifications (%" PRIu64 " target gone, %" PRIu64
                 " interrupted, %" PRIu64 " failed)\n",
                 r->notifications, r->target_gone, r->interrupted, r->failed);
  }
  if (!r->abort_error.empty()) {
    std::fprintf(stderr, "trace run: aborted: %s\n", r->abort_error.c_str());
    return kExitInternal;
  }
  return r->exit_code;
}

}  // namespace

void AddRunCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* run = app.add_subcommand(
      "run",
      "Run CMD under the supervisor: Landlock (read everywhere, write only to -w paths, "
      "/dev nodes and a private TMPDIR, never the workdir) + seccomp (deny list, notify set)");
  run->add_option("-r,--read", flags->read_paths,
                  "Allow read+exec only beneath PATH (repeatable; default: everywhere)");
  run->add_option("-w,--write", flags->write_paths,
                  "Allow writes beneath PATH (repeatable; must not overlap the workdir)");
  run->add_flag("--no-landlock", flags->no_landlock, "Run without Landlock");
  run->add_option("--seed", flags->seed,
                  "Make getrandom and /dev/urandom, /dev/random deterministic with seed N");
  run->add_flag("--seed-getrandom-only", flags->seed_getrandom_only,
                "With --seed, handle only getrandom (not opens of /dev/urandom, /dev/random)");
  run->add_option("--passthrough", flags->passthrough,
                  "Notify these syscalls (comma-separated names) and CONTINUE them (benchmarks)")
      ->delimiter(',');
  run->add_flag("--print-features", flags->print_features,
                "Print what the kernel supports and what would be enforced, then exit");
  run->add_flag("-v,--verbose", flags->verbose, "Print what was enforced (to stderr)");
  run->add_flag("--stats", flags->stats, "Print notification counts at the end (to stderr)");
  run->add_flag("--no-sync-wake-up", flags->no_sync_wake_up,
                "Do not set SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (for comparisons)");
  run->footer(
      "Exit status: CMD's own; 128+N if signal N killed it or ended the run; 127 if CMD "
      "cannot be executed; 2 on usage errors; 125 if sandtrace itself failed.");
  // Everything after `--` (or from the first non-option) is the command.
  run->add_option("command", flags->argv, "CMD [ARGS...] (after --)");
  run->positionals_at_end();
  run->callback([flags, action] { *action = [flags] { return RunMain(*flags, flags->argv); }; });
}

}  // namespace sandtrace::cli
