// Building blocks of the per-architecture syscall tables
// (syscalls_<arch>.cc): entry constructors, the syscalls the kernel numbers
// alike on every architecture (424 on), and a table's compile-time index
// and checks. Internal to tracer/core.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "tracer/core/syscall_table.h"

namespace sandtrace::syscall_defs {

using enum ArgRole;
using R = std::array<ArgRole, 6>;

constexpr SyscallDef S(int nr, std::string_view name, R args = {}) {
  return SyscallDef{nr, name, args};
}
// Bypasses the supervisor or the kernel's checks: fails with EPERM.
constexpr SyscallDef Deny(int nr, std::string_view name, R args = {}) {
  return SyscallDef{nr, name, args, SyscallPolicy::kDeny};
}
// Fails with EPERM when args[arg] has any bit of mask set.
constexpr SyscallDef DenyIf(int nr, std::string_view name, R args, uint8_t arg, uint64_t mask) {
  return SyscallDef{nr, name, args, SyscallPolicy::kDenyIfFlags, arg, mask};
}

// From 424 on every architecture has the same numbers (the kernel's
// syscall.tbl convention since 5.1): one list for all tables.
inline constexpr auto kCommonDefs = std::to_array<SyscallDef>({
    S(424, "pidfd_send_signal", {kFd, kSignal, kStructIn, kHex}),
    // io_uring performs file operations without syscalls the filter sees.
    Deny(425, "io_uring_setup", {kUint, kPtr}),
    Deny(426, "io_uring_enter", {kFd, kUint, kUint, kHex, kPtr, kSize}),
    Deny(427, "io_uring_register", {kFd, kUint, kPtr, kUint}),
    Deny(428, "open_tree", {kDirFd, kPath, kHex}),
    Deny(429, "move_mount", {kDirFd, kPath, kDirFd, kPath, kHex}),
    Deny(430, "fsopen", {kString, kHex}),
    Deny(431, "fsconfig", {kFd, kUint, kString, kPtr, kInt}),
    Deny(432, "fsmount", {kFd, kHex, kHex}),
    Deny(433, "fspick", {kDirFd, kPath, kHex}),
    S(434, "pidfd_open", {kPid, kHex}),
    // clone3's flags are in memory the filter cannot read; ENOSYS makes
    // glibc fall back to clone, whose flags it can check.
    SyscallDef{435, "clone3", {kStructIn, kSize}, SyscallPolicy::kDenyEnosys},
    S(436, "close_range", {kFd, kFd, kHex}),
    S(437, "openat2", {kDirFd, kPath, kStructIn, kSize}),
    S(438, "pidfd_getfd", {kFd, kFd, kHex}),
    S(439, "faccessat2", {kDirFd, kPath, kInt, kAtFlags}),
    S(440, "process_madvise", {kFd, kPtr, kSize, kInt, kHex}),
    S(441, "epoll_pwait2", {kFd, kPtr, kInt, kStructIn, kStructIn, kSize}),
    Deny(442, "mount_setattr", {kDirFd, kPath, kAtFlags, kStructIn, kSize}),
    S(443, "quotactl_fd", {kFd, kHex, kInt, kPtr}),
    S(444, "landlock_create_ruleset", {kStructIn, kSize, kHex}),
    S(445, "landlock_add_rule", {kFd, kInt, kStructIn, kHex}),
    S(446, "landlock_restrict_self", {kFd, kHex}),
    S(447, "memfd_secret", {kHex}),
    S(448, "process_mrelease", {kFd, kHex}),
    S(449, "futex_waitv", {kPtr, kUint, kHex, kStructIn, kInt}),
    S(450, "set_mempolicy_home_node", {kPtr, kSize, kInt, kHex}),
    S(451, "cachestat", {kFd, kStructIn, kStructOut, kHex}),
    S(452, "fchmodat2", {kDirFd, kPath, kMode, kAtFlags}),
    S(453, "map_shadow_stack", {kPtr, kSize, kHex}),
    S(454, "futex_wake", {kPtr, kHex, kInt, kHex}),
    S(455, "futex_wait", {kPtr, kHex, kHex, kHex, kStructIn, kInt}),
    S(456, "futex_requeue", {kPtr, kHex, kInt, kInt}),
    S(457, "statmount", {kStructIn, kStructOut, kSize, kHex}),
    S(458, "listmount", {kStructIn, kPtr, kSize, kHex}),
    S(459, "lsm_get_self_attr", {kUint, kStructOut, kPtr, kHex}),
    S(460, "lsm_set_self_attr", {kUint, kStructIn, kSize, kHex}),
    S(461, "lsm_list_modules", {kPtr, kPtr, kHex}),
    S(462, "mseal", {kPtr, kSize, kHex}),
    S(463, "setxattrat", {kDirFd, kPath, kAtFlags, kString, kStructIn, kSize}),
    S(464, "getxattrat", {kDirFd, kPath, kAtFlags, kString, kStructIn, kSize}),
    S(465, "listxattrat", {kDirFd, kPath, kAtFlags, kBufOut, kSize}),
    S(466, "removexattrat", {kDirFd, kPath, kAtFlags, kString}),
    Deny(467, "open_tree_attr", {kDirFd, kPath, kHex, kStructIn, kSize}),
    S(468, "file_getattr", {kDirFd, kPath, kStructOut, kSize, kAtFlags}),
    S(469, "file_setattr", {kDirFd, kPath, kStructIn, kSize, kAtFlags}),
});

template <size_t A, size_t B>
constexpr std::array<SyscallDef, A + B> Concat(const std::array<SyscallDef, A>& a,
                                               const std::array<SyscallDef, B>& b) {
  std::array<SyscallDef, A + B> out{};
  for (size_t i = 0; i < A; ++i) out[i] = a[i];
  for (size_t i = 0; i < B; ++i) out[A + i] = b[i];
  return out;
}

constexpr bool SortedAndUniqueByNr(std::span<const SyscallDef> defs) {
  for (size_t i = 1; i < defs.size(); ++i) {
    if (defs[i - 1].nr >= defs[i].nr) return false;
  }
  return !defs.empty() && defs.front().nr >= 0;
}

// Arguments without gaps, sane deny masks, a name for every entry.
constexpr bool RolesWellFormed(std::span<const SyscallDef> defs) {
  for (const auto& d : defs) {
    bool ended = false;
    for (ArgRole r : d.args) {
      if (r == kNone) ended = true;
      if (ended && r != kNone) return false;  // a gap in the argument list
    }
    if (d.policy == SyscallPolicy::kDenyIfFlags && (d.deny_mask == 0 || d.deny_arg >= 6)) {
      return false;
    }
    if (d.name.empty()) return false;
  }
  return true;
}

constexpr int NrOf(std::span<const SyscallDef> defs, std::string_view name) {
  for (const auto& d : defs) {
    if (d.name == name) return d.nr;
  }
  return -1;
}

// The lookup arrays ArchTable takes, built at compile time from a table.
template <const auto& kDefs>
struct Index {
  static constexpr auto by_nr = [] {
    std::array<int16_t, kDefs.back().nr + 1> a{};
    for (auto& v : a) v = -1;
    for (size_t i = 0; i < kDefs.size(); ++i) a[kDefs[i].nr] = static_cast<int16_t>(i);
    return a;
  }();
  static constexpr auto by_name = [] {
    std::array<int16_t, kDefs.size()> a{};
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<int16_t>(i);
    std::sort(a.begin(), a.end(),
              [](int16_t x, int16_t y) { return kDefs[x].name < kDefs[y].name; });
    return a;
  }();
  static constexpr bool names_unique = [] {
    for (size_t i = 1; i < by_name.size(); ++i) {
      if (kDefs[by_name[i - 1]].name == kDefs[by_name[i]].name) return false;
    }
    return true;
  }();
};

}  // namespace sandtrace::syscall_defs
