#include "tracer/record/header.h"

#include <time.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "tracer/core/syscall_table.h"

extern char** environ;

namespace sandtrace::record {

namespace {

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  return realpath(p.c_str(), buf) != nullptr ? std::string(buf) : p;
}

uint64_t ClockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

std::vector<trace::Feature> FeatureList(const KernelFeatures& f, const RunOptions& run) {
  std::vector<trace::Feature> out;
  out.push_back({"seccomp.user_notif", f.user_notif, f.user_notif});
  // The supervisor sets WAIT_KILLABLE_RECV whenever the kernel has it.
  out.push_back({"seccomp.wait_killable_recv", f.wait_killable_recv, f.wait_killable_recv});
  out.push_back({"seccomp.addfd_send", f.addfd_send, f.addfd_send});
  out.push_back({"seccomp.sync_wake_up", f.sync_wake_up, f.sync_wake_up && run.sync_wake_up});
  out.push_back({"landlock.abi", f.landlock_abi, run.landlock ? f.landlock_abi : 0});
  return out;
}

trace::HeaderRecord BuildHeader(const HeaderInputs& in) {
  trace::HeaderRecord h;
  h.tool_version = SANDTRACE_VERSION;
  h.kernel_release = in.features.release;
  h.features = FeatureList(in.features, in.run);
  h.arch = NativeSyscalls().audit_arch();
  h.argv = in.run.argv;
  if (in.record_env) {
    std::vector<std::string> env = in.run.env;
    if (env.empty()) {
      for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
    }
    h.env = std::move(env);
  }
  h.cwd = in.cwd.empty() ? RealPath(".") : in.cwd;
  h.workdir = !in.workdir.empty()       ? in.workdir
              : !in.run.workdir.empty() ? RealPath(in.run.workdir)
                                        : RealPath(".");
  h.policy = in.policy;
  if (h.policy.read_paths.empty()) h.policy.read_paths = in.run.read_paths;
  if (h.policy.write_paths.empty()) h.policy.write_paths = in.run.write_paths;
  h.handler_sets = in.handler_sets;
  h.start_realtime_ns = static_cast<int64_t>(ClockNs(CLOCK_REALTIME));
  h.start_monotonic_ns = ClockNs(CLOCK_MONOTONIC);
  return h;
}

}  // namespace sandtrace::record
