// Landlock policy for the sandboxed command (DESIGN.md §5).
//
// - read and execute: everywhere ("/") by default, or only beneath the
//   given read paths (plus the workdir, which the COW layer reads through);
// - write: only beneath the given write paths, the private temporary
//   directory (exported as TMPDIR) and the usual /dev nodes (null, zero,
//   full, tty, ptmx, pts, urandom, random); never the workdir;
// - with ABI >= 6, signals to processes outside the sandbox are scoped
//   (LANDLOCK_SCOPE_SIGNAL) so the child cannot signal its supervisor.
//
// The ruleset is built in the supervisor before fork; the child only calls
// LandlockRestrictSelf (async-signal-safe) after no_new_privs.
// Thread-safety: functions are independent; no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace {

struct LandlockPolicy {
  std::vector<std::string> read_paths;     // empty: read and execute everywhere
  std::vector<std::string> write_paths;    // -w; must not overlap the workdir
  std::string workdir;                     // absolute; readable, never writable
  std::string tmpdir;                      // private, writable
  std::vector<std::string> open_rw_paths;  // existing files: read and write only
};

// Refuses a write path that contains, equals or lies inside the workdir, or
// that does not exist. The message is one line naming the path.
Status CheckWritePaths(const std::vector<std::string>& write_paths, const std::string& workdir);

struct LandlockRuleset {
  UniqueFd fd;
  int abi = 0;
  uint64_t handled_fs = 0;
  uint64_t scoped = 0;
  std::string description;  // what is enforced, one line per rule kind
};

// Builds the ruleset for the best ABI <= `abi` the kernel offers (abi > 0).
// Missing /dev nodes are skipped; a missing read/write path is an error.
Result<LandlockRuleset> BuildLandlockRuleset(const LandlockPolicy& policy, int abi);

// Enforces `ruleset_fd` on the calling thread. Requires no_new_privs (or
// CAP_SYS_ADMIN). Async-signal-safe: returns 0 or -errno.
int LandlockRestrictSelf(int ruleset_fd);

// All filesystem access rights the given ABI knows.
uint64_t LandlockFsRights(int abi);

}  // namespace sandtrace
