#include "tracer/record/sandboxed_run.h"

#include <climits>
#include <cstdlib>

#include "tracer/core/seed_handlers.h"

namespace sandtrace::record {

Result<std::unique_ptr<SandboxedRun>> SandboxedRun::Create(SandboxOptions options,
                                                           KernelFeatures features) {
  std::unique_ptr<SandboxedRun> r(new SandboxedRun(std::move(options)));
  const SandboxOptions& o = r->options_;
  if (!o.passthrough.empty()) {
    std::vector<std::string_view> names(o.passthrough.begin(), o.passthrough.end());
    Status s = r->registry_.AddByName("passthrough", names,
                                      [](const Notification&, Tracee&) -> std::optional<Decision> {
                                        return Decision::Continue();
                                      });
    if (!s.ok()) return Err(EINVAL, "--passthrough: " + s.error().context);
  }
  if (o.seed.has_value()) {
    if (Status s = AddSeedHandlers(r->registry_, *o.seed); !s.ok()) {
      return Err(s.code(), "--seed: " + s.error().Message());
    }
  }
  r->supervisor_ = std::make_unique<Supervisor>(r->registry_, std::move(features));
  return r;
}

Status SandboxedRun::Check() const { return supervisor_->Check(options_.run); }

Result<std::string> SandboxedRun::Describe() const {
  return supervisor_->Describe(options_.run);
}

std::string SandboxedRun::Workdir() const {
  char buf[PATH_MAX];
  const std::string& w = options_.run.workdir;
  const char* p = realpath(w.empty() ? "." : w.c_str(), buf);
  return p != nullptr ? std::string(p) : w;
}

std::vector<std::pair<std::string, std::string>> SandboxedRun::PolicyOptions() const {
  std::vector<std::pair<std::string, std::string>> out;
  const SandboxOptions& o = options_;
  out.emplace_back("landlock", o.run.landlock ? "on" : "off");
  out.emplace_back("sync_wake_up", o.run.sync_wake_up ? "on" : "off");
  if (!o.passthrough.empty()) {
    std::string names;
    for (const auto& n : o.passthrough) names += (names.empty() ? "" : ",") + n;
    out.emplace_back("passthrough", names);
  }
  if (o.seed) out.emplace_back("seed", std::to_string(*o.seed));
  return out;
}

Result<RunResult> SandboxedRun::Run(const RunHooks& hooks) {
  supervisor_->set_observer(hooks.observer);
  if (hooks.tick) supervisor_->set_tick(hooks.tick_period, hooks.tick);
  auto r = supervisor_->Run(options_.run);
  supervisor_->set_observer(nullptr);
  supervisor_->set_tick(std::chrono::milliseconds(0), nullptr);
  if (!r.ok()) return r;
  if (hooks.after_run) hooks.after_run(Workdir());
  return r;
}

}  // namespace sandtrace::record
