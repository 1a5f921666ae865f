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
  return AddSeedHandlers(registry, ctx.header->policy.seed);
}

Status PassthroughSet(std::string_view name, HandlerRegistry& registry, SetContext& ctx) {
  const std::string names = PolicyOption(*ctx.header, "passthrough");
  if (names.empty()) return cow::AddPassthroughSet(registry, name);
  std::vector<std::string> list;
  size_t i = 0;
  while (i <= names.size()) {
    size_t j = names.find(',', i);
    if (j == std::string::npos) j = names.size();
    if (j > i) list.push_back(names.substr(i, j - i));
    i = j + 1;
  }
  std::vector<std::string_view> views(list.begin(), list.end());
  return registry.AddByName(name, views, [](const Notification&, Tracee&) {
    return std::optional<Decision>(Decision::Continue());
  });
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
  static const std::map<std::string, HandlerSetFactory, std::less<>> kBuiltin = {
      {std::string(cow::kCowSetName), CowSet},
      {std::string(kSeedSetName), SeedSet},
      {std::string(cow::kPassthroughSetName), PassthroughSet},
  };
  for (const std::string& name : header.handler_sets) {
    const HandlerSetFactory* f = nullptr;
    if (auto it = overrides.find(name); it != overrides.end()) {
      f = &it->second;
    } else if (auto b = kBuiltin.find(name); b != kBuiltin.end()) {
      f = &b->second;
    }
    if (f == nullptr) {
      return Err(EPROTONOSUPPORT,
                 "handler set \"" + name +
                     "\" is not known to this replay (a library user can supply it through "
                     "ReplayOptions::handler_sets)");
    }
    if (Status s = (*f)(name, registry, ctx); !s.ok()) {
      return Err(s.code(), "handler set \"" + name + "\": " + s.error().Message());
    }
  }
  return OkStatus();
}

}  // namespace sandtrace::replay
