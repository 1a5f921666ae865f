#include "tracer/seccomp_filter.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>

#include "tracer/base/unique_fd.h"

namespace sandtrace {

namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(static_cast<scmp_filter_ctx>(ctx)); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

uint32_t ScmpArchFor(uint32_t audit_arch) {
  // libseccomp's SCMP_ARCH_* values are the AUDIT_ARCH_* values.
  return audit_arch;
}

Error ScmpError(int rc, const std::string& what) { return Err(-rc, "libseccomp: " + what); }

}  // namespace

FilterBuilder& FilterBuilder::DenyList() {
  deny_list_ = true;
  return *this;
}

FilterBuilder& FilterBuilder::Notify(std::span<const int> nrs) {
  std::vector<NotifyRule> rules;
  for (int nr : nrs) rules.push_back(NotifyRule{nr, std::nullopt});
  return Notify(rules);
}

FilterBuilder& FilterBuilder::Notify(std::span<const NotifyRule> rules) {
  for (const NotifyRule& rule : rules) {
    const SyscallDef* def = table_->FindByNr(rule.nr);
    if (def == nullptr) {
      Fail(Err(EINVAL, "cannot notify unknown syscall " + std::to_string(rule.nr)));
      continue;
    }
    if (def->denied()) {
      Fail(Err(EINVAL, "cannot notify " + std::string(def->name) + ": it is on the deny list"));
      continue;
    }
    if (rule.when.has_value() && rule.when->empty()) {
      Fail(Err(EINVAL, "empty argument test for " + std::string(def->name)));
      continue;
    }
    auto it = std::find_if(notify_.begin(), notify_.end(),
                           [&](const NotifyRule& r) { return r.nr == rule.nr; });
    if (it == notify_.end()) {
      notify_.push_back(rule);
    } else if (!rule.when.has_value() || !it->when.has_value()) {
      it->when.reset();  // every call
    } else {
      for (const ArgMatch& m : *rule.when) {
        if (std::find(it->when->begin(), it->when->end(), m) == it->when->end()) {
          it->when->push_back(m);
        }
      }
    }
  }
  return *this;
}

FilterBuilder& FilterBuilder::ExemptWithCookie(int nr, int arg, uint64_t cookie) {
  if (table_->FindByNr(nr) == nullptr || arg < 0 || arg > 5) {
    Fail(Err(EINVAL, "bad cookie exemption"));
  } else {
    exemptions_.push_back({nr, arg, cookie});
  }
  return *this;
}

Result<std::vector<sock_filter>> FilterBuilder::Build() const {
  if (error_.has_value()) return *error_;
  if (seccomp_arch_native() != ScmpArchFor(table_->audit_arch())) {
    return Err(EINVAL, "filter arch " + std::string(table_->name()) + " is not the native arch");
  }
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Err(ENOMEM, "seccomp_init");
  scmp_filter_ctx c = ctx.get();
  // Other arches (and, for x86_64, x32 syscall numbers) kill the process.
  if (int rc = seccomp_attr_set(c, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0) {
    return ScmpError(rc, "bad-arch action");
  }
  // The filter runs on every syscall of the child: a binary tree keeps it short.
  seccomp_attr_set(c, SCMP_FLTATR_CTL_OPTIMIZE, 2);

  if (deny_list_) {
    for (const SyscallDef& d : table_->defs()) {
      int rc = 0;
      switch (d.policy) {
        case SyscallPolicy::kAllow:
          break;
        case SyscallPolicy::kDeny:
          rc = seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), d.nr, 0);
          break;
        case SyscallPolicy::kDenyEnosys:
          rc = seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), d.nr, 0);
          break;
        case SyscallPolicy::kDenyIfFlags:
          // libseccomp has no "masked != 0": one rule per bit, OR-ed.
          for (int bit = 0; bit < 64 && rc == 0; ++bit) {
            uint64_t m = uint64_t{1} << bit;
            if ((d.deny_mask & m) == 0) continue;
            scmp_arg_cmp cmp{d.deny_arg, SCMP_CMP_MASKED_EQ, m, m};
            rc = seccomp_rule_add_array(c, SCMP_ACT_ERRNO(EPERM), d.nr, 1, &cmp);
          }
          break;
      }
      if (rc < 0) return ScmpError(rc, "deny rule for " + std::string(d.name));
    }
  }
  for (const NotifyRule& rule : notify_) {
    const int nr = rule.nr;
    auto ex = std::find_if(exemptions_.begin(), exemptions_.end(),
                           [nr](const Exemption& e) { return e.nr == nr; });
    std::vector<scmp_arg_cmp> base;
    if (ex != exemptions_.end()) {
      base.push_back({static_cast<unsigned>(ex->arg), SCMP_CMP_NE, ex->cookie, 0});
    }
    // Each argument test is one rule (the rules of a syscall are OR-ed).
    std::vector<std::optional<ArgMatch>> alternatives;
    if (rule.when.has_value()) {
      alternatives.assign(rule.when->begin(), rule.when->end());
    } else {
      alternatives.push_back(std::nullopt);
    }
    for (const std::optional<ArgMatch>& m : alternatives) {
      std::vector<scmp_arg_cmp> cmps = base;
      if (m.has_value()) {
        if (ex != exemptions_.end() && ex->arg == m->arg) {
          return Err(EINVAL, "notify rule for " + table_->NameOf(nr) +
                                 " tests the argument of its cookie exemption");
        }
        if (m->differs) {
          if (m->mask != ~uint64_t{0}) return Err(EINVAL, "negated argument test with a mask");
          cmps.push_back({static_cast<unsigned>(m->arg), SCMP_CMP_NE, m->value, 0});
        } else {
          cmps.push_back({static_cast<unsigned>(m->arg), SCMP_CMP_MASKED_EQ, m->mask, m->value});
        }
      }
      int rc = seccomp_rule_add_array(c, SCMP_ACT_NOTIFY, nr, static_cast<unsigned>(cmps.size()),
                                      cmps.empty() ? nullptr : cmps.data());
      if (rc < 0) return ScmpError(rc, "notify rule for " + table_->NameOf(nr));
    }
  }

  // libseccomp 2.5 exports only to an fd.
  UniqueFd mem(memfd_create("sandtrace-bpf", MFD_CLOEXEC));
  if (!mem.valid()) return ErrnoError("memfd_create");
  if (int rc = seccomp_export_bpf(c, mem.get()); rc < 0) return ScmpError(rc, "export");
  off_t size = lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) return Err(EIO, "bad exported BPF size");
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(mem.get(), prog.data(), static_cast<size_t>(size), 0) != size) {
    return ErrnoError("read exported BPF");
  }
  return prog;
}

}  // namespace sandtrace
