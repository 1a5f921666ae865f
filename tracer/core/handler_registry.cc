#include "tracer/core/handler_registry.h"

#include <algorithm>
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
  return AddEntries(set, nrs, std::move(handler), nullptr);
}

Status HandlerRegistry::Add(std::string_view set, std::span<const int> nrs, Handler handler,
                            NotifyWhen when) {
  if (when.empty()) return Err(EINVAL, "empty argument test for set " + std::string(set));
  for (const ArgMatch& m : when) {
    if (m.arg < 0 || m.arg > 5) {
      return Err(EINVAL, "argument test of set " + std::string(set) + " names argument " +
                             std::to_string(m.arg));
    }
    if (m.differs && m.mask != ~uint64_t{0}) {
      return Err(EINVAL, "negated argument test of set " + std::string(set) + " has a mask");
    }
  }
  return AddEntries(set, nrs, std::move(handler),
                    std::make_shared<const NotifyWhen>(std::move(when)));
}

Status HandlerRegistry::AddEntries(std::string_view set, std::span<const int> nrs, Handler handler,
                                   std::shared_ptr<const NotifyWhen> when) {
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
  for (int nr : nrs) by_nr_[nr].push_back(Entry{index, shared, when});
  return OkStatus();
}

Result<std::vector<int>> HandlerRegistry::Numbers(std::span<const std::string_view> names) const {
  std::vector<int> nrs;
  for (std::string_view name : names) {
    const SyscallDef* def = table_->FindByName(name);
    if (def == nullptr) {
      return Err(EINVAL,
                 "unknown " + std::string(table_->name()) + " syscall '" + std::string(name) + "'");
    }
    nrs.push_back(def->nr);
  }
  return nrs;
}

Status HandlerRegistry::AddByName(std::string_view set, std::span<const std::string_view> names,
                                  Handler handler) {
  auto nrs = Numbers(names);
  if (!nrs.ok()) return nrs.error();
  return Add(set, *nrs, std::move(handler));
}

Status HandlerRegistry::AddByName(std::string_view set, std::span<const std::string_view> names,
                                  Handler handler, NotifyWhen when) {
  auto nrs = Numbers(names);
  if (!nrs.ok()) return nrs.error();
  return Add(set, *nrs, std::move(handler), std::move(when));
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

std::vector<NotifyRule> HandlerRegistry::NotifyRules() const {
  std::vector<NotifyRule> out;
  for (size_t nr = 0; nr < by_nr_.size(); ++nr) {
    if (by_nr_[nr].empty()) continue;
    NotifyRule rule{static_cast<int>(nr), NotifyWhen{}};
    for (const Entry& e : by_nr_[nr]) {
      if (e.when == nullptr) {
        rule.when.reset();
        break;
      }
      for (const ArgMatch& m : *e.when) {
        if (std::find(rule.when->begin(), rule.when->end(), m) == rule.when->end()) {
          rule.when->push_back(m);
        }
      }
    }
    out.push_back(std::move(rule));
  }
  return out;
}

}  // namespace sandtrace
