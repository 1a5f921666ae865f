#include "tools/run_options.h"

#include <memory>

#include "tools/command.h"

namespace sandtrace::cli {

namespace {

trace::Disposition TraceDisposition(const CowFlags& f) {
  if (f.commit) return trace::Disposition::kCommit;
  if (f.discard) return trace::Disposition::kDiscard;
  if (f.dry_run) return trace::Disposition::kDryRun;
  if (f.keep) return trace::Disposition::kUnknown;  // the "disposition" option says "keep"
  return trace::Disposition::kCommitOnSuccess;
}

// CowRun (tools/cow_options.h) as the run's extension.
class CowExtension final : public record::RunExtension {
 public:
  explicit CowExtension(CowFlags flags) : flags_(std::move(flags)) {}

  Status Setup(HandlerRegistry& registry, RunOptions& run,
               cow::OverlayObserver* overlay_observer) override {
    auto c = CowRun::Setup(flags_, registry, run, overlay_observer);
    if (!c.ok()) {
      // CowRun's messages are whole lines already (a usage error's context
      // is; any other's Message() is).
      if (c.code() == EINVAL) return c.error();
      return Err(c.code(), c.error().Message());
    }
    cow_ = std::move(*c);
    return OkStatus();
  }
  cow::CowSession* session() override { return cow_ ? cow_->session() : nullptr; }
  int Finish(int exit_code, bool command_succeeded, bool stats, std::FILE* err,
             bool aborted) override {
    return cow_ ? cow_->Finish(exit_code, command_succeeded, stats, err, aborted) : exit_code;
  }
  void DescribePolicy(trace::Policy& policy) const override {
    if (!flags_.quota.empty()) policy.quota_bytes = ParseSize(flags_.quota).value_or(0);
    policy.disposition = TraceDisposition(flags_);
    policy.options.push_back({"handlers", flags_.handlers});
    const char* d = flags_.commit    ? "commit"
                    : flags_.discard ? "discard"
                    : flags_.keep    ? "keep"
                    : flags_.dry_run ? "dry-run"
                                     : "auto";
    policy.options.push_back({"disposition", d});
  }

 private:
  CowFlags flags_;
  std::unique_ptr<CowRun> cow_;
};

}  // namespace

void AddRunOptions(CLI::App* cmd, RunFlags* flags) {
  cmd->add_option("-r,--read", flags->read_paths,
                  "Allow read+exec only beneath PATH (repeatable; default: everywhere)");
  cmd->add_option("-w,--write", flags->write_paths,
                  "Allow writes beneath PATH (repeatable; must not overlap the workdir)");
  cmd->add_flag("--no-landlock", flags->no_landlock, "Run without Landlock");
  cmd->add_option("--seed", flags->seed,
                  "Make getrandom and /dev/urandom, /dev/random deterministic with seed N");
  cmd->add_flag("--seed-getrandom-only", flags->seed_getrandom_only,
                "With --seed, handle only getrandom (not opens of /dev/urandom, /dev/random)");
  cmd->add_option("--passthrough", flags->passthrough,
                  "Notify these syscalls (comma-separated names) and CONTINUE them (benchmarks)")
      ->delimiter(',');
  cmd->add_flag("--print-features", flags->print_features,
                "Print what the kernel supports and what would be enforced, then exit");
  cmd->add_flag("-v,--verbose", flags->verbose, "Print what was enforced (to stderr)");
  cmd->add_flag("--stats", flags->stats, "Print notification counts at the end (to stderr)");
  cmd->add_flag("--no-sync-wake-up", flags->no_sync_wake_up,
                "Do not set SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (for comparisons)");
  AddCowOptions(cmd, &flags->cow);
}

record::SandboxOptions ToSandboxOptions(const RunFlags& f) {
  record::SandboxOptions o;
  o.run.argv = f.argv;
  o.run.landlock = !f.no_landlock;
  o.run.read_paths = f.read_paths;
  o.run.write_paths = f.write_paths;
  o.run.sync_wake_up = !f.no_sync_wake_up;
  o.seed = f.seed;
  o.seed_getrandom_only = f.seed_getrandom_only;
  o.passthrough = f.passthrough;
  o.extension = std::make_shared<CowExtension>(f.cow);
  return o;
}

record::ReportOptions ToReportOptions(const RunFlags& f, std::string who) {
  record::ReportOptions r;
  r.who = std::move(who);
  r.verbose = f.verbose;
  r.stats = f.stats;
  r.print_features = f.print_features;
  return r;
}

}  // namespace sandtrace::cli
