#include "tracer/record/sandboxed_run.h"

#include <cinttypes>
#include <climits>
#include <cstdlib>

#include "tracer/core/seed_handlers.h"

namespace sandtrace::record {

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitInternal = 125;

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  const char* r = realpath(p.empty() ? "." : p.c_str(), buf);
  return r != nullptr ? std::string(r) : p;
}

}  // namespace

Result<std::unique_ptr<SandboxedRun>> SandboxedRun::Create(SandboxOptions options,
                                                           KernelFeatures features,
                                                           cow::OverlayObserver* overlay_observer) {
  std::unique_ptr<SandboxedRun> r(new SandboxedRun(std::move(options)));
  SandboxOptions& o = r->options_;
  if (!o.passthrough.empty()) {
    std::vector<std::string_view> names(o.passthrough.begin(), o.passthrough.end());
    Status s = r->registry_.AddByName(
        "passthrough", names,
        // No decision: later sets (seed, cow) still decide
        // what they handle; the rest is CONTINUEd.
        [](const Notification&, Tracee&) -> std::optional<Decision> { return std::nullopt; });
    if (!s.ok()) return Err(EINVAL, "--passthrough: " + s.error().context);
  }
  if (o.seed.has_value()) {
    if (Status s = AddSeedHandlers(r->registry_, *o.seed, !o.seed_getrandom_only); !s.ok()) {
      return Err(s.code(), "--seed: " + s.error().Message());
    }
  }
  if (o.extension) {
    if (Status s = o.extension->Setup(r->registry_, o.run, overlay_observer); !s.ok()) {
      return s.error();
    }
  }
  r->supervisor_ = std::make_unique<Supervisor>(r->registry_, std::move(features));
  return r;
}

Status SandboxedRun::Check() const { return supervisor_->Check(options_.run); }

Result<std::string> SandboxedRun::Describe() const { return supervisor_->Describe(options_.run); }

std::string SandboxedRun::Workdir() const {
  cow::CowSession* s = options_.extension ? options_.extension->session() : nullptr;
  return s != nullptr ? s->workdir() : RealPath(options_.run.workdir);
}

trace::Policy SandboxedRun::Policy() const {
  trace::Policy p;
  const SandboxOptions& o = options_;
  p.read_paths = o.run.read_paths;
  p.write_paths = o.run.write_paths;
  p.seed = o.seed.value_or(0);
  p.options.push_back({"landlock", o.run.landlock ? "on" : "off"});
  p.options.push_back({"sync_wake_up", o.run.sync_wake_up ? "on" : "off"});
  if (!o.passthrough.empty()) {
    std::string names;
    for (const auto& n : o.passthrough) names += (names.empty() ? "" : ",") + n;
    p.options.push_back({"passthrough", names});
  }
  if (o.seed) {
    p.options.push_back({"seed", std::to_string(*o.seed)});
    if (o.seed_getrandom_only) p.options.push_back({"seed_getrandom_only", "on"});
  }
  if (o.extension) {
    o.extension->DescribePolicy(p);
    if (cow::CowSession* s = o.extension->session(); s != nullptr) {
      // As the handlers judge them (canonical): replay judges by these.
      p.read_paths = s->readable_paths();
      p.write_paths = s->writable_paths();
      p.options.push_back({"storage", s->storage()});
      if (!s->private_tmpdir().empty()) p.options.push_back({"tmpdir", s->private_tmpdir()});
      p.options.push_back({"unify_device", s->unify_device() ? "on" : "off"});
    }
  }
  return p;
}

Result<RunResult> SandboxedRun::Run(const RunHooks& hooks) {
  supervisor_->set_observer(hooks.observer);
  if (hooks.tick) supervisor_->set_tick(hooks.tick_period, hooks.tick);
  auto r = supervisor_->Run(options_.run);
  supervisor_->set_observer(nullptr);
  supervisor_->set_tick(std::chrono::milliseconds(0), nullptr);
  return r;
}

int SandboxedRun::Finish(int exit_code, bool command_succeeded, bool stats, std::FILE* err,
                         bool aborted) {
  if (!options_.extension || finished_) return exit_code;
  finished_ = true;
  return options_.extension->Finish(exit_code, command_succeeded, stats, err, aborted);
}

void ReportRun(const RunResult& r, const ReportOptions& report, std::FILE* err) {
  const char* who = report.who.c_str();
  if (report.verbose) std::fputs(r.enforced.c_str(), err);
  if (!r.exec_error.empty()) std::fprintf(err, "%s: %s\n", who, r.exec_error.c_str());
  if (!r.restart_error.empty())
    std::fprintf(err, "%s: warning: %s\n", who, r.restart_error.c_str());
  if (report.stats) {
    std::fprintf(err,
                 "%s: %" PRIu64 " notifications (%" PRIu64 " target gone, %" PRIu64
                 " interrupted, %" PRIu64 " failed, %" PRIu64 " answered after a FIFO wait)\n",
                 who, r.notifications, r.target_gone, r.interrupted, r.failed, r.waited);
  }
}

int RunSandboxed(SandboxOptions options, const ReportOptions& report, std::FILE* err) {
  const char* who = report.who.c_str();
  const bool no_command = options.run.argv.empty();
  auto sandbox =
      SandboxedRun::Create(std::move(options), ProbeKernelFeatures(report.print_features));
  if (!sandbox.ok()) {
    // The handler sets' messages are whole lines already.
    const Error& e = sandbox.error();
    std::fprintf(err, "%s: %s\n", who, e.context.empty() ? e.Message().c_str() : e.context.c_str());
    return sandbox.code() == EINVAL ? kExitUsage : kExitInternal;
  }
  SandboxedRun& s = **sandbox;
  if (report.print_features) {
    auto d = s.Describe();
    if (!d.ok()) {
      std::fprintf(err, "%s: %s\n", who, d.error().Message().c_str());
      return kExitInternal;
    }
    std::fputs(d->c_str(), stdout);
    return 0;
  }
  if (no_command) {
    std::fprintf(err, "%s: no command given (usage: %s [options] -- CMD ...)\n", who, who);
    return kExitUsage;
  }
  if (Status c = s.Check(); !c.ok()) {
    std::fprintf(err, "%s: %s\n", who,
                 c.code() == EINVAL ? c.error().context.c_str() : c.error().Message().c_str());
    return c.code() == EINVAL ? kExitUsage : kExitInternal;
  }
  auto r = s.Run();
  if (!r.ok()) {
    std::fprintf(err, "%s: %s\n", who, r.error().Message().c_str());
    return s.Finish(kExitInternal, false, false, err, /*aborted=*/true);
  }
  ReportRun(*r, report, err);
  if (!r->abort_error.empty()) {
    std::fprintf(err, "%s: aborted: %s\n", who, r->abort_error.c_str());
    return s.Finish(kExitInternal, false, report.stats, err, /*aborted=*/true);
  }
  return s.Finish(r->exit_code, r->exited && r->status == 0, report.stats, err);
}

}  // namespace sandtrace::record
