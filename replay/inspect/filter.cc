#include "replay/inspect/filter.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "replay/inspect/syscall_sets.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace::inspect {
namespace {

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

Result<std::optional<trace::DecisionKind>> ParseDecision(std::string_view name) {
  using K = trace::DecisionKind;
  if (name == "continue") return std::optional(K::kContinue);
  if (name == "return" || name == "value") return std::optional(K::kReturn);
  if (name == "errno") return std::optional(K::kErrno);
  if (name == "inject" || name == "inject_fd") return std::optional(K::kInjectFd);
  if (name == "restart") return std::optional(K::kRestart);
  if (name == "unknown") return std::optional(K::kUnknown);
  return Err(EINVAL, "--decision: unknown kind '" + std::string(name) +
                         "' (continue, return, errno, inject, restart, unknown)");
}

// Sets `seq` or `ns` from a --from/--to value.
Status ParseBound(const std::string& option, const std::string& text, std::optional<uint64_t>& seq,
                  std::optional<uint64_t>& ns) {
  if (text.empty()) return OkStatus();
  if (auto v = ParseUint(text)) {
    seq = *v;
  } else if (auto d = ParseDuration(text)) {
    ns = *d;
  } else {
    return Err(EINVAL, option + ": '" + text +
                           "' is neither an event number nor a time such as 1.5s or 200ms");
  }
  return OkStatus();
}

}  // namespace

std::optional<uint64_t> ParseDuration(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    double ns;
  };
  // Longest suffixes first so "ms" is not read as "s".
  static constexpr Unit kUnits[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}};
  for (const Unit& u : kUnits) {
    if (!text.ends_with(u.suffix)) continue;
    std::string number(text.substr(0, text.size() - u.suffix.size()));
    if (number.empty()) return std::nullopt;
    double v = 0;
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    if (ec != std::errc() || ptr != number.data() + number.size() || !(v >= 0) ||
        !std::isfinite(v * u.ns) || v * u.ns > 1.8e19) {
      return std::nullopt;
    }
    return static_cast<uint64_t>(std::llround(v * u.ns));
  }
  return std::nullopt;
}

Result<EventFilter> EventFilter::Create(const FilterOptions& options,
                                        const trace::HeaderRecord& header) {
  EventFilter f;
  if (!options.expressions.empty()) {
    f.has_syscall_set_ = true;
    // Compile for every arch the trace may hold that has a table.
    std::vector<const ArchTable*> tables = {&NativeSyscalls()};
    if (const ArchTable* t = ArchTableFor(header.arch); t != nullptr && t != tables[0]) {
      tables.push_back(t);
    }
    for (const ArchTable* table : tables) {
      std::vector<bool> merged(table->nr_limit(), false);
      for (const std::string& e : options.expressions) {
        std::string_view expr = e;
        if (expr.starts_with("trace=")) {
          expr.remove_prefix(6);
        } else if (expr.find('=') != std::string_view::npos) {
          return Err(EINVAL, "-e " + e + ": only trace=SET is supported");
        }
        auto set = ParseSyscallSet(expr, *table);
        if (!set.ok()) return Err(EINVAL, "-e " + e + ": " + set.error().context);
        for (size_t i = 0; i < merged.size(); ++i) merged[i] = merged[i] || (*set)[i];
      }
      f.arches_.push_back(table->audit_arch());
      f.syscall_sets_.push_back(std::move(merged));
    }
  }
  f.tids_ = options.tids;
  f.paths_ = options.paths;
  for (const std::string& d : options.decisions) {
    auto kind = ParseDecision(d);
    if (!kind.ok()) return kind.error();
    f.decisions_.push_back(**kind);
  }
  if (Status s = ParseBound("--from", options.from, f.from_seq_, f.from_ns_); !s.ok()) {
    return s.error();
  }
  if (Status s = ParseBound("--to", options.to, f.to_seq_, f.to_ns_); !s.ok()) return s.error();
  if (f.from_seq_ && f.to_seq_ && *f.from_seq_ > *f.to_seq_) {
    return Err(EINVAL, "--from " + options.from + " is after --to " + options.to);
  }
  if (f.from_ns_ && f.to_ns_ && *f.from_ns_ > *f.to_ns_) {
    return Err(EINVAL, "--from " + options.from + " is after --to " + options.to);
  }
  if (header.start_monotonic_ns != 0) f.time_base_ns_ = header.start_monotonic_ns;
  return f;
}

bool EventFilter::restricts_events() const {
  return has_syscall_set_ || !tids_.empty() || !paths_.empty() || !decisions_.empty() ||
         from_seq_ || to_seq_ || from_ns_ || to_ns_;
}

bool EventFilter::MatchesPath(std::string_view path) const {
  std::string p(path);
  return std::any_of(paths_.begin(), paths_.end(),
                     [&](const std::string& g) { return fnmatch(g.c_str(), p.c_str(), 0) == 0; });
}

bool EventFilter::KeepEvent(const trace::EventRecord& event) const {
  if (has_syscall_set_) {
    auto it = std::find(arches_.begin(), arches_.end(), event.arch);
    if (it == arches_.end()) return false;
    const std::vector<bool>& set = syscall_sets_[it - arches_.begin()];
    if (event.nr < 0 || static_cast<size_t>(event.nr) >= set.size() || !set[event.nr]) {
      return false;
    }
  }
  if (!tids_.empty() && std::find(tids_.begin(), tids_.end(), event.tid) == tids_.end()) {
    return false;
  }
  if (!decisions_.empty() &&
      std::find(decisions_.begin(), decisions_.end(), event.decision.kind) == decisions_.end()) {
    return false;
  }
  if (!paths_.empty()) {
    bool match = false;
    const ArchTable* table = ArchTableFor(event.arch);
    const SyscallDef* def = table ? table->FindByNr(event.nr) : nullptr;
    for (int i = 0; def != nullptr && i < def->nargs() && !match; ++i) {
      if (def->args[i] != ArgRole::kPath) continue;
      for (const auto& call : event.calls) {
        if (call.kind == trace::TraceeCallKind::kReadString && call.addr == event.args[i] &&
            call.error == 0 && MatchesPath(call.bytes)) {
          match = true;
          break;
        }
      }
    }
    if (!match && event.decision.kind == trace::DecisionKind::kInjectFd) {
      match = MatchesPath(event.decision.file.path);
    }
    if (!match) return false;
  }
  return true;
}

bool EventFilter::InTimeRange(uint64_t time_ns) {
  if (!from_ns_ && !to_ns_) return true;
  if (!time_base_ns_) time_base_ns_ = time_ns;
  const uint64_t offset = time_ns >= *time_base_ns_ ? time_ns - *time_base_ns_ : 0;
  if (from_ns_ && offset < *from_ns_) return false;
  if (to_ns_ && offset > *to_ns_) return false;
  return true;
}

EventFilter::Verdict EventFilter::Next(const trace::Record& record) {
  if (const auto* e = std::get_if<trace::EventRecord>(&record)) {
    if (to_seq_ && e->seq > *to_seq_) return Verdict::kStop;
    if (to_ns_ && time_base_ns_ && e->received_ns > *time_base_ns_ + *to_ns_) return Verdict::kStop;
    if (from_seq_ && e->seq < *from_seq_) return Verdict::kSkip;
    reached_from_seq_ = true;
    if (!InTimeRange(e->received_ns)) return Verdict::kSkip;
    return KeepEvent(*e) ? Verdict::kKeep : Verdict::kSkip;
  }
  if (const auto* p = std::get_if<trace::ProcessRecord>(&record)) {
    if (from_seq_ && !reached_from_seq_) return Verdict::kSkip;
    if (!InTimeRange(p->timestamp_ns)) return Verdict::kSkip;
    if (!tids_.empty() && std::find(tids_.begin(), tids_.end(), p->pid) == tids_.end()) {
      return Verdict::kSkip;
    }
    if (!paths_.empty() && !MatchesPath(p->exec_path)) return Verdict::kSkip;
    return Verdict::kKeep;
  }
  if (const auto* c = std::get_if<trace::CowRecord>(&record)) {
    if (from_seq_ && !reached_from_seq_) return Verdict::kSkip;
    if (!InTimeRange(c->timestamp_ns)) return Verdict::kSkip;
    if (has_syscall_set_ || !tids_.empty() || !decisions_.empty()) return Verdict::kSkip;
    if (!paths_.empty() && !MatchesPath(c->path)) return Verdict::kSkip;
    return Verdict::kKeep;
  }
  return Verdict::kKeep;
}

}  // namespace sandtrace::inspect
