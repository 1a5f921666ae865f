#include "tracer/core/handler_registry.h"

#include <cerrno>
#include <memory>

namespace sandtrace {

HandlerRegistry::HandlerRegistry(const ArchTable& table)
    : table_(&table), by_nr_(static_cast<size_t>(table.nr_limit())) {}

int HandlerRegistry::SetIndex(std::string_view set) {
  for (size_t i = 0; i < set_names_.size(); ++i) {
    if (set_names_[i] == set) return static_cast<int>(i);
  }
  set_names_.emplace_back(set);
  return static_cast<int>(set_names_.size() - 1);
}

Status HandlerRegistry::Add(std::string_view set, std::span<const int> nrs, Handler handler) {
  if (nrs.empty()) return Err(EINVAL, "no syscall given for handler set " + std::string(set));
  if (!handler) return Err(EINVAL, "empty handler for set " + std::string(set));
  for (int nr : nrs) {
    const SyscallDef* def = table_->FindByNr(nr);
    if (def == nullptr) {
      return Err(EINVAL,
                 "unknown " + std::string(table_->name()) + " syscall " + std::to_string(nr));
    }
    if (def->denied()) {
      return Err(EPERM, std::string(def->name) + " is on the deny list and cannot be notified");
    }
  }
  auto shared = std::make_shared<const Handler>(std::move(handler));
  int index = SetIndex(set);
  for (int nr : nrs) by_nr_[nr].push_back(Entry{index, shared});
  return OkStatus();
}

Status HandlerRegistry::AddByName(std::string_view set, std::span<const std::string_view> names,
                                  Handler handler) {
  std::vector<int> nrs;
  for (std::string_view name : names) {
    const SyscallDef* def = table_->FindByName(name);
    if (def == nullptr) {
      return Err(EINVAL,
                 "unknown " + std::string(table_->name()) + " syscall '" + std::string(name) + "'");
    }
    nrs.push_back(def->nr);
  }
  return Add(set, nrs, std::move(handler));
}

DispatchResult HandlerRegistry::Dispatch(const Notification& n, Tracee& tracee) const {
  DispatchResult result;
  if (n.arch != table_->audit_arch() || n.nr < 0 || n.nr >= static_cast<int>(by_nr_.size())) {
    return result;
  }
  for (const Entry& e : by_nr_[n.nr]) {
    std::optional<Decision> d = (*e.handler)(n, tracee);
    if (d.has_value()) {
      result.decision = std::move(*d);
      result.set = e.set;
      return result;
    }
  }
  return result;
}

bool HandlerRegistry::Handles(int nr) const {
  return nr >= 0 && nr < static_cast<int>(by_nr_.size()) && !by_nr_[nr].empty();
}

std::vector<int> HandlerRegistry::NotifySet() const {
  std::vector<int> out;
  for (size_t nr = 0; nr < by_nr_.size(); ++nr) {
    if (!by_nr_[nr].empty()) out.push_back(static_cast<int>(nr));
  }
  return out;
}

}  // namespace sandtrace
