// How subcommands plug into `trace`: each Add*Command adds a CLI11
// subcommand to `app`; when it is the one selected, its parse callback
// stores in *action what main() will run. The action returns the exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace sandtrace::cli {

using Action = std::function<int()>;

// Exit statuses of `trace` itself (a sandboxed command's own status is passed
// through by run/record; see README "Exit status").
inline constexpr int kExitUsage = 2;       // bad flag, missing or unreadable input
inline constexpr int kExitInternal = 125;  // sandtrace itself failed (run/record)

}  // namespace sandtrace::cli
