// HandlerRegistry: which handler decides each notified syscall.
//
// A library user (the COW engine, the seed handlers, a test) registers
// handlers under a named set ("cow", "seed", "passthrough"). A handler is a
// callable `std::optional<Decision>(const Notification&, Tracee&)` registered
// for one or more syscall numbers of one arch table. For a syscall, handlers
// are consulted in registration order (across sets) and the first that
// returns a Decision wins; if all return nullopt the decision is CONTINUE.
//
// The seccomp filter's notify set is exactly the set of syscalls that have a
// handler (NotifySet()); a syscall on the table's deny list cannot get one,
// so the notify and deny sets never overlap. Dispatch is O(1): a vector
// indexed by syscall number.
//
// A handler that would CONTINUE most calls of a syscall may narrow what is
// notified with a NotifyWhen (argument tests the seccomp filter evaluates in
// the kernel): the other calls are then allowed without a notification,
// which is the cheapest decision there is. A syscall is notified for every
// call as soon as one of its handlers has no NotifyWhen (NotifyRules()).
//
// The registry needs no supervisor: replay drives the same handlers through
// it from a trace.
//
// Ownership: the registry owns the handler callables (and whatever they
// capture). Thread-safety: none. Register everything before the supervisor
// starts; Dispatch is then called from the supervisor's single thread.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tracer/base/result.h"
#include "tracer/core/notification.h"
#include "tracer/core/syscall_table.h"
#include "tracer/core/tracee.h"

namespace sandtrace {

using Handler = std::function<std::optional<Decision>(const Notification&, Tracee&)>;

// (args[arg] & mask) == value, or with `differs`, args[arg] != value (the
// whole argument: a negated test takes no mask). Compares the full 64-bit
// argument: use a mask of 0xffffffff for an argument the kernel truncates
// to 32 bits.
struct ArgMatch {
  int arg = 0;
  uint64_t mask = ~uint64_t{0};
  uint64_t value = 0;
  bool differs = false;
  friend bool operator==(const ArgMatch&, const ArgMatch&) = default;
};
// Notify only the calls matching any of these (non-empty).
using NotifyWhen = std::vector<ArgMatch>;

// One syscall of the filter's notify set; `when` unset: every call.
struct NotifyRule {
  int nr = -1;
  std::optional<NotifyWhen> when;
  friend bool operator==(const NotifyRule&, const NotifyRule&) = default;
};

// What Dispatch decided and which set decided it (-1: no handler returned a
// decision, so CONTINUE).
struct DispatchResult {
  Decision decision;
  int set = -1;
};

class HandlerRegistry {
 public:
  explicit HandlerRegistry(const ArchTable& table = NativeSyscalls());
  HandlerRegistry(const HandlerRegistry&) = delete;
  HandlerRegistry& operator=(const HandlerRegistry&) = delete;
  HandlerRegistry(HandlerRegistry&&) = default;
  HandlerRegistry& operator=(HandlerRegistry&&) = default;

  // Registers `handler` in `set` for each of `nrs`. Fails with EINVAL for a
  // number the table does not know or an empty list, and with EPERM for a
  // syscall on the deny list; nothing is registered on failure.
  Status Add(std::string_view set, std::span<const int> nrs, Handler handler);
  // The same, notified only for calls matching `when` (EINVAL when it is
  // empty or tests an argument outside 0..5).
  Status Add(std::string_view set, std::span<const int> nrs, Handler handler, NotifyWhen when);
  Status Add(std::string_view set, std::initializer_list<int> nrs, Handler handler) {
    return Add(set, std::span<const int>(nrs.begin(), nrs.size()), std::move(handler));
  }
  // The same by syscall name ("openat"); EINVAL names the unknown one.
  Status AddByName(std::string_view set, std::span<const std::string_view> names, Handler handler);
  Status AddByName(std::string_view set, std::initializer_list<std::string_view> names,
                   Handler handler) {
    return AddByName(set, std::span<const std::string_view>(names.begin(), names.size()),
                     std::move(handler));
  }

  Status AddByName(std::string_view set, std::span<const std::string_view> names, Handler handler,
                   NotifyWhen when);
  Status AddByName(std::string_view set, std::initializer_list<std::string_view> names,
                   Handler handler, NotifyWhen when) {
    return AddByName(set, std::span<const std::string_view>(names.begin(), names.size()),
                     std::move(handler), std::move(when));
  }

  // What a run's handlers may need to know of it before its first
  // notification (Supervisor::Run calls the listeners once it has made it).
  struct RunInfo {
    std::string tmpdir;  // the command's private TMPDIR (canonical)
  };
  using RunListener = std::function<void(const RunInfo&)>;
  void AddRunListener(RunListener listener) { run_listeners_.push_back(std::move(listener)); }
  void NotifyRun(const RunInfo& info) const {
    for (const auto& l : run_listeners_) l(info);
  }

  // Runs the handlers for n.nr in registration order; the first decision
  // wins, CONTINUE if none. A notification of another arch, or a number
  // without handlers, is CONTINUEd. Exceptions from handlers propagate.
  DispatchResult Dispatch(const Notification& n, Tracee& tracee) const;

  bool Handles(int nr) const;
  // The syscalls that have at least one handler, ascending: the filter's
  // notify set.
  std::vector<int> NotifySet() const;
  // The same with each syscall's argument tests (the union over its
  // handlers; unset as soon as one handler wants every call).
  std::vector<NotifyRule> NotifyRules() const;
  // Set names in order of first registration; DispatchResult::set indexes it.
  const std::vector<std::string>& set_names() const { return set_names_; }
  const ArchTable& table() const { return *table_; }

 private:
  struct Entry {
    int set;
    std::shared_ptr<const Handler> handler;  // shared by every nr it was registered for
    std::shared_ptr<const NotifyWhen> when;  // null: every call
  };
  int SetIndex(std::string_view set);
  Status AddEntries(std::string_view set, std::span<const int> nrs, Handler handler,
                    std::shared_ptr<const NotifyWhen> when);
  Result<std::vector<int>> Numbers(std::span<const std::string_view> names) const;

  const ArchTable* table_;
  std::vector<std::string> set_names_;
  std::vector<std::vector<Entry>> by_nr_;  // indexed by syscall number
  std::vector<RunListener> run_listeners_;
};

}  // namespace sandtrace
