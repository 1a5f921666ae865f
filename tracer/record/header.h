// The trace header of a recorded run (DESIGN.md §3): versions, kernel
// release, the seccomp / Landlock features found and used, arch, argv, cwd,
// workdir, policy and handler sets. Environment values are recorded only
// when asked (they often hold secrets).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "formats/records.h"
#include "tracer/kernel_features.h"
#include "tracer/supervisor.h"

namespace sandtrace::record {

struct HeaderInputs {
  // Probed with ProbeKernelFeatures(true) so the listener features (ADDFD
  // SEND, SYNC_WAKE_UP) are known before the run.
  KernelFeatures features;
  RunOptions run;
  std::string cwd;      // "" = the current directory
  std::string workdir;  // "" = run.workdir, else the current directory (canonical)
  bool record_env = false;
  trace::Policy policy;  // read/write paths are taken from `run`
  std::vector<std::string> handler_sets;
};

trace::HeaderRecord BuildHeader(const HeaderInputs& in);

// The features list alone: ("seccomp.user_notif", found, used), ...,
// ("landlock.abi", found ABI, ABI used or 0).
std::vector<trace::Feature> FeatureList(const KernelFeatures& f, const RunOptions& run);

}  // namespace sandtrace::record
