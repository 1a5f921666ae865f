#include "replay/inspect/syscall_sets.h"

#include <algorithm>
#include <array>
#include <regex>
#include <span>
#include <string>

namespace sandtrace::inspect {
namespace {

bool HasRole(const SyscallDef& def, std::initializer_list<ArgRole> roles) {
  for (int i = 0; i < def.nargs(); ++i) {
    if (std::find(roles.begin(), roles.end(), def.args[i]) != roles.end()) return true;
  }
  return false;
}

bool NameIn(const SyscallDef& def, std::span<const std::string_view> names) {
  return std::find(names.begin(), names.end(), def.name) != names.end();
}

constexpr auto kProcess = std::to_array<std::string_view>(
    {"clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4",
     "waitid", "kill", "tkill", "tgkill", "pidfd_send_signal", "pidfd_open", "rt_sigqueueinfo",
     "rt_tgsigqueueinfo", "unshare"});
constexpr auto kNetwork = std::to_array<std::string_view>(
    {"socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
     "getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
     "setsockopt", "getsockopt"});
constexpr auto kStat =
    std::to_array<std::string_view>({"stat", "fstat", "lstat", "newfstatat", "statx"});
constexpr auto kLstat = std::to_array<std::string_view>({"lstat"});
constexpr auto kFstat = std::to_array<std::string_view>({"fstat", "newfstatat"});
constexpr auto kStatfs = std::to_array<std::string_view>({"statfs", "fstatfs", "ustat"});
constexpr auto kMemory =
    std::to_array<std::string_view>({"brk",           "munmap",           "mremap",
                                     "msync",         "mincore",          "madvise",
                                     "mlock",         "munlock",          "mlockall",
                                     "munlockall",    "mlock2",           "mbind",
                                     "set_mempolicy", "get_mempolicy",    "migrate_pages",
                                     "move_pages",    "remap_file_pages", "process_madvise",
                                     "mseal",         "map_shadow_stack"});
constexpr auto kSignalNames = std::to_array<std::string_view>(
    {"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
     "rt_sigsuspend", "sigaltstack", "signalfd", "signalfd4", "pause"});

}  // namespace

const std::vector<SyscallClass>& SyscallClasses() {
  static const std::vector<SyscallClass> kClasses = {
      {"%file", "takes a file name"},
      {"%desc", "takes a file descriptor"},
      {"%process", "process lifecycle: clone, fork, exec, exit, wait, kill"},
      {"%network", "sockets"},
      {"%stat", "stat, fstat, lstat, newfstatat, statx"},
      {"%lstat", "lstat"},
      {"%fstat", "fstat, newfstatat"},
      {"%statfs", "statfs, fstatfs, ustat"},
      {"%%stat", "every stat and statfs variant"},
      {"%memory", "memory mapping"},
      {"%signal", "signal handling and sending"},
      {"%ipc", "SysV IPC (shm*, sem*, msg*)"},
      {"%creds", "user and group ids, capabilities"},
  };
  return kClasses;
}

std::vector<std::string_view> SyscallClassNames(std::string_view name) {
  auto v = [](std::span<const std::string_view> l) {
    return std::vector<std::string_view>(l.begin(), l.end());
  };
  if (name == "%process") return v(kProcess);
  if (name == "%network") return v(kNetwork);
  if (name == "%stat") return v(kStat);
  if (name == "%lstat") return v(kLstat);
  if (name == "%fstat") return v(kFstat);
  if (name == "%statfs") return v(kStatfs);
  if (name == "%memory") return v(kMemory);
  if (name == "%signal") return v(kSignalNames);
  return {};
}

bool InSyscallClass(std::string_view name, const SyscallDef& def) {
  using enum ArgRole;
  if (name == "%file") return HasRole(def, {kPath});
  if (name == "%desc") return HasRole(def, {kFd, kDirFd});
  if (name == "%process") return NameIn(def, kProcess);
  if (name == "%network") return NameIn(def, kNetwork);
  if (name == "%stat") return NameIn(def, kStat);
  if (name == "%lstat") return NameIn(def, kLstat);
  if (name == "%fstat") return NameIn(def, kFstat);
  if (name == "%statfs") return NameIn(def, kStatfs);
  if (name == "%%stat") return NameIn(def, kStat) || NameIn(def, kStatfs);
  if (name == "%memory") return HasRole(def, {kProt, kMmapFlags}) || NameIn(def, kMemory);
  if (name == "%signal") return HasRole(def, {kSignal}) || NameIn(def, kSignalNames);
  if (name == "%ipc") {
    return def.name.starts_with("shm") || def.name.starts_with("sem") ||
           def.name.starts_with("msg");
  }
  if (name == "%creds") {
    return def.name.find("uid") != std::string_view::npos ||
           def.name.find("gid") != std::string_view::npos ||
           def.name.find("groups") != std::string_view::npos || def.name == "capget" ||
           def.name == "capset";
  }
  return false;
}

Result<std::vector<bool>> ParseSyscallSet(std::string_view expr, const ArchTable& table) {
  std::vector<bool> set(table.nr_limit(), false);
  bool negate = false;
  if (expr.starts_with('!')) {
    negate = true;
    expr.remove_prefix(1);
  }
  if (expr.empty()) return Err(EINVAL, "empty syscall set");
  size_t start = 0;
  while (start <= expr.size()) {
    size_t comma = expr.find(',', start);
    if (comma == std::string_view::npos) comma = expr.size();
    std::string_view item = expr.substr(start, comma - start);
    start = comma + 1;
    bool optional = false;
    if (item.starts_with('?')) {
      optional = true;
      item.remove_prefix(1);
    }
    if (item.empty()) return Err(EINVAL, "empty item in syscall set '" + std::string(expr) + "'");
    if (item == "all") {
      std::fill(set.begin(), set.end(), true);
    } else if (item == "none") {
      // Selects nothing; with '!' it selects everything.
    } else if (item.starts_with('%')) {
      bool known = std::any_of(SyscallClasses().begin(), SyscallClasses().end(),
                               [&](const SyscallClass& c) { return c.name == item; });
      if (!known) {
        if (optional) continue;
        return Err(EINVAL, "unknown syscall class '" + std::string(item) +
                               "' (see --help for the classes)");
      }
      for (const SyscallDef& def : table.defs()) {
        if (InSyscallClass(item, def)) set[def.nr] = true;
      }
    } else if (item.starts_with('/')) {
      std::regex re;
      try {
        re = std::regex(std::string(item.substr(1)), std::regex::extended | std::regex::nosubs);
      } catch (const std::regex_error& e) {
        return Err(EINVAL, "bad regex '" + std::string(item.substr(1)) + "': " + e.what());
      }
      for (const SyscallDef& def : table.defs()) {
        if (std::regex_search(std::string(def.name), re)) set[def.nr] = true;
      }
    } else {
      const SyscallDef* def = table.FindByName(item);
      if (def == nullptr) {
        if (optional) continue;
        return Err(EINVAL,
                   "unknown syscall '" + std::string(item) + "' for " + std::string(table.name()));
      }
      set[def->nr] = true;
    }
    if (comma == expr.size()) break;
  }
  if (negate) {
    for (size_t i = 0; i < set.size(); ++i) set[i] = !set[i];
  }
  return set;
}

}  // namespace sandtrace::inspect
