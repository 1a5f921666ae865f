// Rebuilding a trace's handler sets for replay.
//
// The header names the sets of the recorded run in registration order
// (HeaderRecord::handler_sets) and their policy (quota, seed, options).
// Replay registers the same sets, in the same order, in a fresh
// HandlerRegistry:
//   "cow"          a CowSession over the scratch lower and storage, with the
//                  recorded quota (cow/handlers/cow_session.h)
//   "seed"         AddSeedHandlers with the recorded seed (getrandom only
//                  with the "seed_getrandom_only" option)
//   "passthrough"  the names of the "passthrough" policy option, deciding
//                  nothing; and, registered after every other set, the
//                  COW syscalls all CONTINUEd (cow::AddPassthroughSet) when
//                  there are no such names or the "handlers" option says
//                  "passthrough" (tracer/record/sandboxed_run.h's order)
// A caller may override any of these or add its own sets by name
// (ReplayOptions::handler_sets): that is how a user replays traces against
// a handler variant, or a trace recorded with handlers of their own.
//
// Ownership: the factories put whatever the handlers need into
// SetContext::keep; the caller keeps the context alive as long as the
// registry. Thread-safety: one thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cow/handlers/cow_session.h"
#include "formats/records.h"
#include "tracer/base/result.h"
#include "tracer/core/handler_registry.h"

namespace sandtrace::replay {

struct SetContext {
  const trace::HeaderRecord* header = nullptr;
  std::string workdir;            // the scratch lower: the replayed workdir
  std::string storage;            // an empty scratch directory for an overlay's storage
  uint64_t quota_bytes = 0;       // the recorded quota, or ReplayOptions::quota_bytes
  bool check_permissions = true;  // for CowSessionOptions
  // Out: what the handlers need kept alive.
  std::vector<std::shared_ptr<void>> keep;
  // Out: the set's CowSession, if it has one: its change list is replayed.
  cow::CowSession* session = nullptr;
};

// Registers set `name` in `registry`.
using HandlerSetFactory =
    std::function<Status(std::string_view name, HandlerRegistry& registry, SetContext& ctx)>;

// The value of policy option `key` in the header, or "" when absent.
std::string PolicyOption(const trace::HeaderRecord& header, std::string_view key);

// Registers every set the header names, in order: `overrides` first, then
// the built-in factories above. EPROTONOSUPPORT (with a one-line context)
// for a set nobody knows; other errors from the factories.
Status BuildHandlerSets(const trace::HeaderRecord& header,
                        const std::map<std::string, HandlerSetFactory, std::less<>>& overrides,
                        HandlerRegistry& registry, SetContext& ctx);

}  // namespace sandtrace::replay
