#include "tracer/seccomp_filter.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

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
  for (int nr : nrs) {
    const SyscallDef* def = table_->FindByNr(nr);
    if (def == nullptr) {
      Fail(Err(EINVAL, "cannot notify unknown syscall " + std::to_string(nr)));
    } else if (def->denied()) {
      Fail(Err(EINVAL, "cannot notify " + std::string(def->name) + ": it is on the deny list"));
    } else if (std::find(notify_.begin(), notify_.end(), nr) == notify_.end()) {
      notify_.push_back(nr);
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
  for (int nr : notify_) {
    auto ex = std::find_if(exemptions_.begin(), exemptions_.end(),
                           [nr](const Exemption& e) { return e.nr == nr; });
    int rc;
    if (ex != exemptions_.end()) {
      scmp_arg_cmp cmp{static_cast<unsigned>(ex->arg), SCMP_CMP_NE, ex->cookie, 0};
      rc = seccomp_rule_add_array(c, SCMP_ACT_NOTIFY, nr, 1, &cmp);
    } else {
      rc = seccomp_rule_add(c, SCMP_ACT_NOTIFY, nr, 0);
    }
    if (rc < 0) return ScmpError(rc, "notify rule for " + table_->NameOf(nr));
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
