// SandboxedRun: the one code path behind `trace run` and `trace record`.
//
// Options in, exit status out: it builds the handler sets (passthrough,
// seed, then whatever the RunExtension adds: the copy-on-write set and its
// session), the supervisor, runs the command, and hands the end of the run
// to the extension (the disposition of the changes). `trace record` is the
// same run with a Recorder attached through the overlay observer and
// RunHooks, so both make exactly the same decisions. tools/cmd_run.cc and
// tools/cmd_record.cc only parse options (tools/run_options.h).
//
// Order of the handler sets (the first decision wins): "passthrough" (it
// only adds syscalls to the notify set; it decides nothing), "seed", then
// the extension's ("cow", or its syscalls CONTINUEd as "passthrough").
//
// Ownership: owns the registry (and what the handlers capture), the
// extension and the supervisor; borrows the observers. Thread-safety: one
// thread; call from main's thread (see Supervisor about signals).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cow/handlers/cow_session.h"
#include "cow/overlay.h"
#include "formats/records.h"
#include "tracer/base/result.h"
#include "tracer/core/handler_registry.h"
#include "tracer/kernel_features.h"
#include "tracer/observer.h"
#include "tracer/supervisor.h"

namespace sandtrace::record {

// A part of the run that lives outside this library: the copy-on-write
// glue of tools/cow_options.h (its flags, session and disposition). Both
// `trace run` and `trace record` plug in the same one.
class RunExtension {
 public:
  virtual ~RunExtension() = default;
  // Registers its handler sets (after "passthrough" and "seed") and adjusts
  // the run (workdir, environment, read paths). The engine of a session it
  // creates reports to `overlay_observer` (may be null). EINVAL: a usage
  // error, with a one-line message in the context.
  virtual Status Setup(HandlerRegistry& registry, RunOptions& run,
                       cow::OverlayObserver* overlay_observer) = 0;
  // The session Setup created, if any.
  virtual cow::CowSession* session() = 0;
  // After the run: warnings, statistics and the disposition of the changes
  // (messages to `err`); returns the exit status of `trace` (see
  // SandboxedRun::Finish). Called at most once.
  virtual int Finish(int exit_code, bool command_succeeded, bool stats, std::FILE* err,
                     bool aborted) = 0;
  // What shaped the run, for the trace header's policy (quota,
  // disposition, options).
  virtual void DescribePolicy(trace::Policy& policy) const {}
};

struct SandboxOptions {
  RunOptions run;
  std::optional<uint64_t> seed;             // --seed: the "seed" handler set
  bool seed_getrandom_only = false;         // --seed-getrandom-only
  std::vector<std::string> passthrough;     // --passthrough: notified, decided by later sets
  std::shared_ptr<RunExtension> extension;  // may be null (library users, tests)
};

// How the run reports to the user.
struct ReportOptions {
  std::string who = "trace run";  // message prefix
  bool verbose = false;           // print what was enforced
  bool stats = false;             // notification counts and handler statistics
  bool print_features = false;    // print what would be enforced, run nothing
};

// What a caller may attach to a run (all optional, borrowed).
struct RunHooks {
  SupervisorObserver* observer = nullptr;
  std::chrono::milliseconds tick_period{100};
  std::function<void()> tick;  // from the loop thread; may throw to abort the run
};

class SandboxedRun {
 public:
  // Builds the handler sets, the extension's included (a COW session's
  // engine reports to `overlay_observer`, if given). EINVAL: a usage error,
  // with a one-line message in the context (an unknown --passthrough name,
  // a bad workdir).
  static Result<std::unique_ptr<SandboxedRun>> Create(
      SandboxOptions options, KernelFeatures features,
      cow::OverlayObserver* overlay_observer = nullptr);

  // As Supervisor::Check / Describe.
  Status Check() const;
  Result<std::string> Describe() const;

  // Runs the command to completion (see Supervisor::Run).
  Result<RunResult> Run(const RunHooks& hooks = {});

  // After the run, through the extension: the handlers' warnings and (with
  // `stats`) statistics, then the disposition of the changes (messages to
  // `err`). Returns the exit status of `trace`: `exit_code`, or 125 when the
  // command succeeded but its changes could not be committed. `aborted`
  // (sandtrace failed during the run): the changes are discarded, unless
  // kept on request. Without an extension, returns `exit_code`.
  int Finish(int exit_code, bool command_succeeded, bool stats, std::FILE* err,
             bool aborted = false);

  const SandboxOptions& options() const { return options_; }
  const HandlerRegistry& registry() const { return registry_; }
  const KernelFeatures& features() const { return supervisor_->features(); }
  cow::CowSession* session() {
    return options_.extension ? options_.extension->session() : nullptr;
  }
  // The canonical workdir (the lower layer).
  std::string Workdir() const;
  // The trace header's policy: seed, quota, disposition and the options
  // that shaped the handler sets ("passthrough", "seed", "storage"...).
  trace::Policy Policy() const;

 private:
  explicit SandboxedRun(SandboxOptions options) : options_(std::move(options)) {}
  SandboxOptions options_;
  HandlerRegistry registry_;
  std::unique_ptr<Supervisor> supervisor_;
  bool finished_ = false;
};

// `trace run` end to end: checks, runs and reports; one-line messages to
// `err`. Returns the exit status of `trace` (the command's own, 128+N,
// 127, 2 for usage errors, 125 when sandtrace failed).
int RunSandboxed(SandboxOptions options, const ReportOptions& report, std::FILE* err);

// Shared by RunSandboxed and RecordSandboxed: prints what Run reported
// (enforcement with verbose, the exec error, the notification counts).
void ReportRun(const RunResult& r, const ReportOptions& report, std::FILE* err);

}  // namespace sandtrace::record
