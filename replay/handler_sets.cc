#include "replay/handler_sets.h"

#include "tracer/core/seed_handlers.h"

namespace sandtrace::replay {

namespace {

Status CowSet(std::string_view name, HandlerRegistry& registry, SetContext& ctx) {
  if (ctx.session != nullptr) return Err(EINVAL, "two copy-on-write sets in one trace");
  cow::CowSessionOptions o;
  o.workdir = ctx.workdir;
  o.storage = ctx.storage;
  o.quota_bytes = ctx.quota_bytes;
  o.check_permissions = ctx.check_permissions;
  // Replay never acts on the host outside its scratch directories.
  o.apply_outside_metadata = false;
  // The policy's paths as the recording judged them (canonical there).
  o.writable_paths = ctx.header->policy.write_paths;
  o.readable_paths = ctx.header->policy.read_paths;
  o.paths_canonical = true;
  o.private_tmpdir = PolicyOption(*ctx.header, "tmpdir");
  o.recorded_workdir = ctx.header->workdir;
  // Exec rewrites write "/dev/fd/N" or "/proc/self/fd/N" into the child:
  // the recorded choice, when the header has it.
  const std::string dev_fd = PolicyOption(*ctx.header, "dev_fd_is_proc");
  if (dev_fd == "on" || dev_fd == "off") o.dev_fd_is_proc = dev_fd == "on";
  // The recorded choice (older traces: the engine decides, as it did then).
  const std::string unify = PolicyOption(*ctx.header, "unify_device");
  if (unify == "on" || unify == "off") o.unify_device = unify == "on";
  auto session = cow::CowSession::Create(o);
  if (!session.ok()) return Err(session.code(), "copy-on-write set: " + session.error().Message());
  std::shared_ptr<cow::CowSession> owned(std::move(*session));
  if (Status s = owned->Register(registry, name); !s.ok()) return s;
  ctx.session = owned.get();
  ctx.keep.push_back(std::move(owned));
  return OkStatus();
}

Status SeedSet(std::string_view name, HandlerRegistry& registry, SetContext& ctx) {
  if (name != kSeedSetName) return Err(EINVAL, "the seed handlers register as \"seed\" only");
  const bool files = PolicyOption(*ctx.header, "seed_getrandom_only") != "on";
  return AddSeedHandlers(registry, ctx.header->policy.seed, files);
}

// The "passthrough" names of `trace run --passthrough`: notified, decided by
// nobody (later sets still decide what they handle; the rest is CONTINUEd).
Status PassthroughNames(std::string_view name, HandlerRegistry& registry,
                        const std::string& names) {
  std::vector<std::string> list;
  size_t i = 0;
  while (i <= names.size()) {
    size_t j = names.find(',', i);
    if (j == std::string::npos) j = names.size();
    if (j > i) list.push_back(names.substr(i, j - i));
    i = j + 1;
  }
  std::vector<std::string_view> views(list.begin(), list.end());
  return registry.AddByName(name, views,
                            [](const Notification&, Tracee&) { return std::optional<Decision>(); });
}

}  // namespace

std::string PolicyOption(const trace::HeaderRecord& header, std::string_view key) {
  for (const trace::KeyValue& kv : header.policy.options) {
    if (kv.key == key) return kv.value;
  }
  return {};
}

Status BuildHandlerSets(const trace::HeaderRecord& header,
                        const std::map<std::string, HandlerSetFactory, std::less<>>& overrides,
                        HandlerRegistry& registry, SetContext& ctx) {
  ctx.header = &header;
  static const HandlerSetFactory kBuiltinPassthrough;  // handled below, by name
  static const std::map<std::string, HandlerSetFactory, std::less<>> kBuiltin = {
      {std::string(cow::kCowSetName), CowSet},
      {std::string(kSeedSetName), SeedSet},
  };
  bool continue_all = false;
  for (const std::string& name : header.handler_sets) {
    const HandlerSetFactory* f = nullptr;
    if (auto it = overrides.find(name); it != overrides.end()) {
      f = &it->second;
    } else if (auto b = kBuiltin.find(name); b != kBuiltin.end()) {
      f = &b->second;
    } else if (name == cow::kPassthroughSetName) {
      f = &kBuiltinPassthrough;
    }
    if (f == nullptr) {
      return Err(EPROTONOSUPPORT,
                 "handler set \"" + name +
                     "\" is not known to this replay (a library user can supply it through "
                     "ReplayOptions::handler_sets)");
    }
    if (f == &kBuiltinPassthrough) {
      // Two sets share the name (tracer/record/sandboxed_run.h): the
      // --passthrough names, registered first and deciding nothing, and the
      // copy-on-write extension's "--handlers passthrough" (every COW
      // syscall CONTINUEd), registered last, after "seed".
      const std::string names = PolicyOption(header, "passthrough");
      if (!names.empty()) {
        if (Status s = PassthroughNames(name, registry, names); !s.ok()) {
          return Err(s.code(), "handler set \"passthrough\": " + s.error().Message());
        }
      }
      continue_all = names.empty() || PolicyOption(header, "handlers") == "passthrough";
      continue;
    }
    if (Status s = (*f)(name, registry, ctx); !s.ok()) {
      return Err(s.code(), "handler set \"" + name + "\": " + s.error().Message());
    }
  }
  if (continue_all) return cow::AddPassthroughSet(registry, cow::kPassthroughSetName);
  return OkStatus();
}

}  // namespace sandtrace::replay
