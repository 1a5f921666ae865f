// The options `trace run` and `trace record` share, and their translation
// into the library's SandboxOptions (tracer/record/sandboxed_run.h): both
// commands then take exactly the same code path. The copy-on-write options
// and glue come from tools/cow_options.h, plugged in as a RunExtension.
//
// Thread-safety: used from main's thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/cow_options.h"
#include "tracer/record/sandboxed_run.h"

namespace sandtrace::cli {

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
  CowFlags cow;
  std::vector<std::string> argv;
};

// Adds every option of `trace run` to `command` (not the CMD positional).
void AddRunOptions(CLI::App* command, RunFlags* flags);

// The library's view of the flags (the COW glue as the run's extension).
record::SandboxOptions ToSandboxOptions(const RunFlags& flags);
record::ReportOptions ToReportOptions(const RunFlags& flags, std::string who);

}  // namespace sandtrace::cli
