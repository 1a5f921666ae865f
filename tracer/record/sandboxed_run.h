// SandboxedRun: the one code path behind `trace run` and `trace record`.
//
// Options in, exit status out: it builds the handler sets (passthrough,
// seed; the copy-on-write handlers plug in here too), the supervisor, runs
// the command and reports. `trace record` is the same run with a Recorder
// attached through RunHooks, so both make exactly the same decisions.
//
// Ownership: owns the registry (and what the handlers capture) and the
// supervisor; borrows the hooks' observers for the duration of Run.
// Thread-safety: one thread; Run at most once at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tracer/base/result.h"
#include "tracer/core/handler_registry.h"
#include "tracer/kernel_features.h"
#include "tracer/observer.h"
#include "tracer/supervisor.h"

namespace sandtrace::record {

struct SandboxOptions {
  RunOptions run;
  std::optional<uint64_t> seed;          // --seed: the "seed" handler set
  std::vector<std::string> passthrough;  // --passthrough: notified and CONTINUEd
};

// What a caller may attach to a run (all optional, borrowed).
struct RunHooks {
  SupervisorObserver* observer = nullptr;
  std::chrono::milliseconds tick_period{100};
  std::function<void()> tick;  // from the loop thread; may throw to abort the run
  // After the command ended, before the workdir's disposition: `lower_root`
  // is the canonical workdir (the lower layer).
  std::function<void(const std::string& lower_root)> after_run;
};

class SandboxedRun {
 public:
  // Builds the handler sets. EINVAL: a usage error (an unknown --passthrough
  // syscall name), with a message for the user in the context.
  static Result<std::unique_ptr<SandboxedRun>> Create(SandboxOptions options,
                                                      KernelFeatures features);

  // As Supervisor::Check / Describe.
  Status Check() const;
  Result<std::string> Describe() const;

  // Runs the command to completion (see Supervisor::Run).
  Result<RunResult> Run(const RunHooks& hooks = {});

  const SandboxOptions& options() const { return options_; }
  const HandlerRegistry& registry() const { return registry_; }
  const KernelFeatures& features() const { return supervisor_->features(); }
  // The canonical workdir.
  std::string Workdir() const;
  // The handler sets, with a short summary of each option that shaped them
  // (for the trace header's policy).
  std::vector<std::pair<std::string, std::string>> PolicyOptions() const;

 private:
  SandboxedRun(SandboxOptions options) : options_(std::move(options)) {}
  SandboxOptions options_;
  HandlerRegistry registry_;
  std::unique_ptr<Supervisor> supervisor_;
};

}  // namespace sandtrace::record
