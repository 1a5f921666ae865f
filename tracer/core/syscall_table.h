// The syscall table: the single source of truth for syscall numbers, names,
// argument roles and how sandtrace treats each syscall.
//
// The seccomp filter (deny list, notify set), the supervisor's dispatch, the
// argument decoder (`trace dump`), the recorder and the CLI's syscall names
// all derive from it; nothing else may hold a parallel list.
//
// One table per architecture, each in its own data file (syscalls_x86_64.cc,
// syscalls_aarch64.cc), sorted by number and checked at compile time. Both
// are built on every host, so a trace of either arch decodes anywhere. A
// syscall is identified by the pair (AUDIT_ARCH_*, nr) as in seccomp_data.
// aarch64 has no legacy calls (open, stat, rename, fork, ...): code that
// names syscalls must ask FindByName() on the table it works with.
//
// Thread-safety: the tables are immutable constants; every function here is
// safe to call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sandtrace {

// What an argument is, for decoding and for handlers that want to know which
// argument holds a path, a dirfd, a flag word...
enum class ArgRole : uint8_t {
  kNone,        // no such argument (after the last one)
  kInt,         // signed integer
  kUint,        // unsigned integer
  kHex,         // flags or an opaque word, printed in hex
  kPtr,         // an address the kernel reads or writes (structure unknown here)
  kFd,          // a file descriptor
  kDirFd,       // a directory fd for *at() calls (AT_FDCWD allowed)
  kPath,        // address of a NUL-terminated path, resolved by the kernel
  kString,      // address of a NUL-terminated string that is not a path to resolve
  kOpenFlags,   // O_* flags
  kMode,        // permission bits (octal)
  kAtFlags,     // AT_* flags
  kBufIn,       // address of a buffer the kernel reads (length in a kSize arg)
  kBufOut,      // address of a buffer the kernel fills (length in a kSize arg)
  kSize,        // a length in bytes
  kStructIn,    // address of a struct the kernel reads
  kStructOut,   // address of a struct the kernel fills
  kSignal,      // a signal number
  kPid,         // a pid/tid (0 and -1 meaningful)
  kCloneFlags,  // CLONE_* flags (clone's low byte is the exit signal)
  kProt,        // PROT_* flags
  kMmapFlags,   // MAP_* flags
  kStrArray,    // address of a NULL-terminated array of string pointers (argv, envp)
  kFcntlCmd,    // F_* command
};

// How the filter treats a syscall regardless of handlers. Handlers may only
// be registered for kAllow syscalls, so the notify and deny sets never overlap.
enum class SyscallPolicy : uint8_t {
  kAllow,        // runs natively, or is notified if a handler is registered
  kDeny,         // always fails with EPERM
  kDenyEnosys,   // always fails with ENOSYS (clone3: glibc then falls back to clone)
  kDenyIfFlags,  // fails with EPERM when (args[deny_arg] & deny_mask) != 0
};

struct SyscallDef {
  int nr = -1;
  std::string_view name;
  std::array<ArgRole, 6> args{};  // kNone-terminated
  SyscallPolicy policy = SyscallPolicy::kAllow;
  uint8_t deny_arg = 0;
  uint64_t deny_mask = 0;

  constexpr int nargs() const {
    int n = 0;
    while (n < 6 && args[n] != ArgRole::kNone) ++n;
    return n;
  }
  constexpr bool denied() const { return policy != SyscallPolicy::kAllow; }
};

// One architecture's table. Lookups by number are O(1), by name O(log n).
class ArchTable {
 public:
  constexpr ArchTable(uint32_t audit_arch, std::string_view name, std::span<const SyscallDef> defs,
                      std::span<const int16_t> by_nr, std::span<const int16_t> by_name)
      : audit_arch_(audit_arch), name_(name), defs_(defs), by_nr_(by_nr), by_name_(by_name) {}

  uint32_t audit_arch() const { return audit_arch_; }
  std::string_view name() const { return name_; }
  // All syscalls, sorted by number.
  std::span<const SyscallDef> defs() const { return defs_; }
  // One past the highest syscall number (the size of a by-number vector).
  int nr_limit() const { return static_cast<int>(by_nr_.size()); }

  const SyscallDef* FindByNr(int nr) const {
    if (nr < 0 || nr >= nr_limit() || by_nr_[nr] < 0) return nullptr;
    return &defs_[by_nr_[nr]];
  }
  const SyscallDef* FindByName(std::string_view name) const;
  // The name, or "syscall_<nr>" for a number the table does not know.
  std::string NameOf(int nr) const;

 private:
  uint32_t audit_arch_;
  std::string_view name_;
  std::span<const SyscallDef> defs_;
  std::span<const int16_t> by_nr_;    // nr -> index in defs_, -1 if none
  std::span<const int16_t> by_name_;  // indices in defs_, sorted by name
};

const ArchTable& X86_64Syscalls();
const ArchTable& Aarch64Syscalls();
// The table for seccomp_data.arch, or nullptr for an arch sandtrace has no
// table for (its syscalls are killed by the filter).
const ArchTable* ArchTableFor(uint32_t audit_arch);
// The table of the architecture sandtrace was built for.
const ArchTable& NativeSyscalls();

// Formats a call strace-style: `openat(AT_FDCWD, "a/b", O_RDONLY|O_CLOEXEC)`.
// `strings[i]`, if present, is the string read at args[i] (a kPath/kString
// argument); without it the address is printed. Unknown syscalls print as
// syscall_<nr>(a0, ..., a5) in hex. Flag names are those of the table's arch
// (O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_TMPFILE, MAP_32BIT and PROT_BTI/MTE
// differ between x86_64 and aarch64), whatever the host.
std::string FormatSyscall(const ArchTable& table, int nr, const std::array<uint64_t, 6>& args,
                          std::span<const std::optional<std::string>> strings = {});

// Quotes and escapes bytes as strace does (\n, \t, \r, \", \\, \xNN);
// cut after `limit` bytes with "..." (SIZE_MAX: never).
std::string QuoteString(std::string_view bytes, size_t limit = SIZE_MAX);

// Formats one argument by role (no string contents; addresses in hex), with
// the flag names of `table`'s arch.
std::string FormatArg(const ArchTable& table, ArgRole role, uint64_t value);
// The same with the flag names of the arch sandtrace was built for.
std::string FormatArg(ArgRole role, uint64_t value);

// Whether open flags of `table`'s arch create a file (O_CREAT or O_TMPFILE),
// i.e. whether a decoder should show the mode argument, as strace does.
bool OpenCreatesFile(const ArchTable& table, uint64_t flags);

}  // namespace sandtrace
