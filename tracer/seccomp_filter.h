// Builds the child's seccomp-bpf program from the syscall table with
// libseccomp (native arch only).
//
//   auto prog = FilterBuilder(NativeSyscalls())
//                   .DenyList()
//                   .Notify(registry.NotifySet())
//                   .ExemptWithCookie(__NR_sendmsg, 5, cookie)
//                   .Build();
//
// The program: other arches and x32 syscall numbers kill the process; the
// table's deny list returns EPERM (ENOSYS for clone3, EPERM only with the
// offending flags for clone/unshare/seccomp); the notify set returns
// SECCOMP_RET_USER_NOTIF; everything else is allowed. A notified syscall can
// be exempted when one of its unused arguments carries a per-run cookie: the
// pre-exec child uses that to hand its listener to the supervisor even when
// sendmsg itself is notified.
//
// Builder errors are latched: the first one is reported by Build().
// Thread-safety: a builder is used by one thread.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tracer/base/result.h"
#include "tracer/core/handler_registry.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace {

class FilterBuilder {
 public:
  explicit FilterBuilder(const ArchTable& table) : table_(&table) {}

  // Adds the table's deny list.
  FilterBuilder& DenyList();
  // Notifies these syscalls. A denied or unknown number is an error.
  FilterBuilder& Notify(std::span<const int> nrs);
  // Notifies each rule's syscall, only for the calls its argument tests
  // match when it has some (HandlerRegistry::NotifyRules()).
  FilterBuilder& Notify(std::span<const NotifyRule> rules);
  // A notified `nr` whose args[arg] == cookie is allowed instead.
  FilterBuilder& ExemptWithCookie(int nr, int arg, uint64_t cookie);

  // The BPF program (to pass to seccomp(SECCOMP_SET_MODE_FILTER, ...)).
  Result<std::vector<sock_filter>> Build() const;

 private:
  void Fail(Error e) {
    if (!error_.has_value()) error_ = std::move(e);
  }

  const ArchTable* table_;
  bool deny_list_ = false;
  std::vector<NotifyRule> notify_;
  struct Exemption {
    int nr;
    int arg;
    uint64_t cookie;
  };
  std::vector<Exemption> exemptions_;
  std::optional<Error> error_;
};

}  // namespace sandtrace
