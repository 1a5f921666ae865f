// Lookups shared by every arch table, and the strace-style decoder.
#include "tracer/core/syscall_table.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "tracer/core/kernel_abi.h"

namespace sandtrace {

const SyscallDef* ArchTable::FindByName(std::string_view name) const {
  auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                             [this](int16_t i, std::string_view n) { return defs_[i].name < n; });
  if (it == by_name_.end() || defs_[*it].name != name) return nullptr;
  return &defs_[*it];
}

std::string ArchTable::NameOf(int nr) const {
  if (const SyscallDef* d = FindByNr(nr)) return std::string(d->name);
  return "syscall_" + std::to_string(nr);
}

const ArchTable* ArchTableFor(uint32_t audit_arch) {
  if (audit_arch == AUDIT_ARCH_X86_64) return &X86_64Syscalls();
  if (audit_arch == AUDIT_ARCH_AARCH64) return &Aarch64Syscalls();
  return nullptr;
}

const ArchTable& NativeSyscalls() {
#if defined(__x86_64__)
  return X86_64Syscalls();
#elif defined(__aarch64__)
  return Aarch64Syscalls();
#else
#error "sandtrace has no syscall table for this architecture yet"
#endif
}

namespace {

struct FlagName {
  uint64_t bit;
  const char* name;
};

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#" PRIx64, v);
  return buf;
}

// "A|B|0x40" for the known bits, the remainder in hex; `zero` if v == 0.
std::string Flags(uint64_t v, std::span<const FlagName> names, const char* zero) {
  if (v == 0) return zero;
  std::string out;
  for (const auto& f : names) {
    if (f.bit != 0 && (v & f.bit) == f.bit) {
      if (!out.empty()) out += '|';
      out += f.name;
      v &= ~f.bit;
    }
  }
  if (v != 0) {
    if (!out.empty()) out += '|';
    out += Hex(v);
  }
  return out;
}

// The flag bits whose values differ between the architectures sandtrace
// decodes (the rest are the generic values both share), so an aarch64 trace
// decodes the same on any host. Values from each arch's uapi fcntl.h and
// mman.h (x86_64 keeps the asm-generic ones). O_LARGEFILE is 0 on both, as in
// glibc's 64-bit headers (the kernel implies it there).
struct ArchFlags {
  uint64_t o_direct;
  uint64_t o_directory;
  uint64_t o_nofollow;
  uint64_t map_32bit;  // 0: the arch has no such flag
  uint64_t prot_bti;
  uint64_t prot_mte;
  constexpr uint64_t o_tmpfile() const { return 020000000 | o_directory; }
};
constexpr ArchFlags kX86_64Flags{040000, 0200000, 0400000, 0x40, 0, 0};
constexpr ArchFlags kAarch64Flags{0200000, 040000, 0100000, 0, 0x10, 0x20};

// The literals above must agree with the build machine's own headers.
#if defined(__x86_64__)
constexpr const ArchFlags& kNativeFlags = kX86_64Flags;
static_assert(kNativeFlags.map_32bit == MAP_32BIT);
#elif defined(__aarch64__)
constexpr const ArchFlags& kNativeFlags = kAarch64Flags;
static_assert(kNativeFlags.prot_bti == PROT_BTI && kNativeFlags.prot_mte == PROT_MTE);
#endif
static_assert(kNativeFlags.o_direct == O_DIRECT && kNativeFlags.o_directory == O_DIRECTORY &&
              kNativeFlags.o_nofollow == O_NOFOLLOW && kNativeFlags.o_tmpfile() == O_TMPFILE &&
              O_LARGEFILE == 0);

constexpr auto OpenFlagNames(const ArchFlags& a) {
  return std::to_array<FlagName>({
      {O_CREAT, "O_CREAT"},
      {O_EXCL, "O_EXCL"},
      {O_NOCTTY, "O_NOCTTY"},
      {O_TRUNC, "O_TRUNC"},
      {O_APPEND, "O_APPEND"},
      {O_NONBLOCK, "O_NONBLOCK"},
      {O_SYNC, "O_SYNC"},
      {O_DSYNC, "O_DSYNC"},
      {O_ASYNC, "O_ASYNC"},
      {a.o_direct, "O_DIRECT"},
      {O_LARGEFILE, "O_LARGEFILE"},
      {a.o_tmpfile(), "O_TMPFILE"},
      {a.o_directory, "O_DIRECTORY"},
      {a.o_nofollow, "O_NOFOLLOW"},
      {O_NOATIME, "O_NOATIME"},
      {O_CLOEXEC, "O_CLOEXEC"},
      {O_PATH, "O_PATH"},
  });
}

constexpr FlagName kAtFlags[] = {
    {AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
    {AT_REMOVEDIR, "AT_REMOVEDIR"},
    {AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"},
    {AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
    {AT_EMPTY_PATH, "AT_EMPTY_PATH"},
    {AT_STATX_FORCE_SYNC, "AT_STATX_FORCE_SYNC"},
    {AT_STATX_DONT_SYNC, "AT_STATX_DONT_SYNC"},
    {AT_RECURSIVE, "AT_RECURSIVE"},
};

constexpr auto ProtNames(const ArchFlags& a) {
  return std::to_array<FlagName>({
      {PROT_READ, "PROT_READ"},
      {PROT_WRITE, "PROT_WRITE"},
      {PROT_EXEC, "PROT_EXEC"},
      {a.prot_bti, "PROT_BTI"},
      {a.prot_mte, "PROT_MTE"},
      {PROT_GROWSDOWN, "PROT_GROWSDOWN"},
      {PROT_GROWSUP, "PROT_GROWSUP"},
  });
}

constexpr auto MmapFlagNames(const ArchFlags& a) {
  return std::to_array<FlagName>({
      {MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE"},
      {MAP_SHARED, "MAP_SHARED"},
      {MAP_PRIVATE, "MAP_PRIVATE"},
      {MAP_FIXED, "MAP_FIXED"},
      {MAP_ANONYMOUS, "MAP_ANONYMOUS"},
      {a.map_32bit, "MAP_32BIT"},
      {MAP_GROWSDOWN, "MAP_GROWSDOWN"},
      {MAP_DENYWRITE, "MAP_DENYWRITE"},
      {MAP_EXECUTABLE, "MAP_EXECUTABLE"},
      {MAP_LOCKED, "MAP_LOCKED"},
      {MAP_NORESERVE, "MAP_NORESERVE"},
      {MAP_POPULATE, "MAP_POPULATE"},
      {MAP_NONBLOCK, "MAP_NONBLOCK"},
      {MAP_STACK, "MAP_STACK"},
      {MAP_HUGETLB, "MAP_HUGETLB"},
      {MAP_SYNC, "MAP_SYNC"},
      {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"},
  });
}

// Per-arch name tables, built once at compile time.
struct ArchFlagNames {
  decltype(OpenFlagNames(kX86_64Flags)) open;
  decltype(ProtNames(kX86_64Flags)) prot;
  decltype(MmapFlagNames(kX86_64Flags)) mmap;
  uint64_t o_tmpfile;
};
constexpr ArchFlagNames NamesOf(const ArchFlags& a) {
  return {OpenFlagNames(a), ProtNames(a), MmapFlagNames(a), a.o_tmpfile()};
}
constexpr ArchFlagNames kX86_64Names = NamesOf(kX86_64Flags);
constexpr ArchFlagNames kAarch64Names = NamesOf(kAarch64Flags);
#if defined(__x86_64__)
constexpr const ArchFlagNames& kNativeNames = kX86_64Names;
#elif defined(__aarch64__)
constexpr const ArchFlagNames& kNativeNames = kAarch64Names;
#endif

const ArchFlagNames& NamesFor(uint32_t audit_arch) {
  if (audit_arch == AUDIT_ARCH_X86_64) return kX86_64Names;
  if (audit_arch == AUDIT_ARCH_AARCH64) return kAarch64Names;
  return kNativeNames;
}

constexpr FlagName kCloneFlags[] = {
    {CLONE_VM, "CLONE_VM"},
    {CLONE_FS, "CLONE_FS"},
    {CLONE_FILES, "CLONE_FILES"},
    {CLONE_SIGHAND, "CLONE_SIGHAND"},
    {CLONE_PIDFD, "CLONE_PIDFD"},
    {CLONE_PTRACE, "CLONE_PTRACE"},
    {CLONE_VFORK, "CLONE_VFORK"},
    {CLONE_PARENT, "CLONE_PARENT"},
    {CLONE_THREAD, "CLONE_THREAD"},
    {CLONE_NEWNS, "CLONE_NEWNS"},
    {CLONE_SYSVSEM, "CLONE_SYSVSEM"},
    {CLONE_SETTLS, "CLONE_SETTLS"},
    {CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"},
    {CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"},
    {CLONE_UNTRACED, "CLONE_UNTRACED"},
    {CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"},
    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
    {CLONE_NEWUTS, "CLONE_NEWUTS"},
    {CLONE_NEWIPC, "CLONE_NEWIPC"},
    {CLONE_NEWUSER, "CLONE_NEWUSER"},
    {CLONE_NEWPID, "CLONE_NEWPID"},
    {CLONE_NEWNET, "CLONE_NEWNET"},
    {CLONE_IO, "CLONE_IO"},
};

std::string OpenFlags(const ArchFlagNames& names, uint64_t v) {
  const char* acc = "O_RDONLY";
  std::string rest = Flags(v & ~uint64_t{O_ACCMODE}, names.open, "");
  switch (v & O_ACCMODE) {
    case O_WRONLY:
      acc = "O_WRONLY";
      break;
    case O_RDWR:
      acc = "O_RDWR";
      break;
    case O_RDONLY:
      break;
    default:
      acc = "O_ACCMODE";
      break;
  }
  return rest.empty() ? acc : std::string(acc) + "|" + rest;
}

std::string Signal(uint64_t v) {
  int sig = static_cast<int>(v);
  if (sig > 0 && sig < NSIG) {
    if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  }
  return std::to_string(sig);
}

std::string FcntlCmd(uint64_t v) {
  switch (static_cast<int>(v)) {
    case F_DUPFD:
      return "F_DUPFD";
    case F_GETFD:
      return "F_GETFD";
    case F_SETFD:
      return "F_SETFD";
    case F_GETFL:
      return "F_GETFL";
    case F_SETFL:
      return "F_SETFL";
    case F_GETLK:
      return "F_GETLK";
    case F_SETLK:
      return "F_SETLK";
    case F_SETLKW:
      return "F_SETLKW";
    case F_DUPFD_CLOEXEC:
      return "F_DUPFD_CLOEXEC";
    case F_SETPIPE_SZ:
      return "F_SETPIPE_SZ";
    case F_GETPIPE_SZ:
      return "F_GETPIPE_SZ";
    case F_ADD_SEALS:
      return "F_ADD_SEALS";
    case F_GET_SEALS:
      return "F_GET_SEALS";
    default:
      return std::to_string(static_cast<int>(v));
  }
}

std::string FormatArgAs(const ArchFlagNames& names, ArgRole role, uint64_t v) {
  const auto i = static_cast<int64_t>(v);
  switch (role) {
    case ArgRole::kNone:
      return "";
    case ArgRole::kInt:
    case ArgRole::kPid:
      return std::to_string(static_cast<int32_t>(v) == i ? static_cast<int32_t>(v) : i);
    case ArgRole::kFd:
      return std::to_string(static_cast<int32_t>(v));
    case ArgRole::kDirFd:
      return static_cast<int32_t>(v) == AT_FDCWD ? "AT_FDCWD"
                                                 : std::to_string(static_cast<int32_t>(v));
    case ArgRole::kUint:
    case ArgRole::kSize:
      return std::to_string(v);
    case ArgRole::kMode: {
      char buf[24];
      std::snprintf(buf, sizeof buf, "0%" PRIo64, v);
      return buf;
    }
    case ArgRole::kOpenFlags:
      return OpenFlags(names, v);
    case ArgRole::kAtFlags:
      return Flags(v, kAtFlags, "0");
    case ArgRole::kProt:
      return Flags(v, names.prot, "PROT_NONE");
    case ArgRole::kMmapFlags:
      return Flags(v, names.mmap, "0");
    case ArgRole::kCloneFlags: {
      std::string f = Flags(v & ~uint64_t{CSIGNAL}, kCloneFlags, "");
      if (v & CSIGNAL) f += (f.empty() ? "" : "|") + Signal(v & CSIGNAL);
      return f.empty() ? "0" : f;
    }
    case ArgRole::kSignal:
      return Signal(v);
    case ArgRole::kFcntlCmd:
      return FcntlCmd(v);
    case ArgRole::kHex:
    case ArgRole::kPtr:
    case ArgRole::kPath:
    case ArgRole::kString:
    case ArgRole::kBufIn:
    case ArgRole::kBufOut:
    case ArgRole::kStructIn:
    case ArgRole::kStructOut:
    case ArgRole::kStrArray:
      return v == 0 && role != ArgRole::kHex ? "NULL" : Hex(v);
  }
  return Hex(v);
}

}  // namespace

std::string FormatArg(ArgRole role, uint64_t v) { return FormatArgAs(kNativeNames, role, v); }

std::string FormatArg(const ArchTable& table, ArgRole role, uint64_t v) {
  return FormatArgAs(NamesFor(table.audit_arch()), role, v);
}

bool OpenCreatesFile(const ArchTable& table, uint64_t flags) {
  const uint64_t tmpfile = NamesFor(table.audit_arch()).o_tmpfile;
  return (flags & O_CREAT) != 0 || (flags & tmpfile) == tmpfile;
}

std::string FormatSyscall(const ArchTable& table, int nr, const std::array<uint64_t, 6>& args,
                          std::span<const std::optional<std::string>> strings) {
  const SyscallDef* def = table.FindByNr(nr);
  std::string out = table.NameOf(nr) + "(";
  if (def == nullptr) {
    for (int i = 0; i < 6; ++i) out += (i ? ", " : "") + Hex(args[i]);
    return out + ")";
  }
  const ArchFlagNames& names = NamesFor(table.audit_arch());
  int n = def->nargs();
  // Like strace: open modes are shown only when the flags create a file.
  for (int i = 0; i < n; ++i) {
    if (def->args[i] == ArgRole::kOpenFlags && i + 1 < n && def->args[i + 1] == ArgRole::kMode &&
        !OpenCreatesFile(table, args[i])) {
      n = i + 1;
      break;
    }
  }
  for (int i = 0; i < n; ++i) {
    if (i) out += ", ";
    ArgRole role = def->args[i];
    bool stringy = role == ArgRole::kPath || role == ArgRole::kString;
    if (stringy && static_cast<size_t>(i) < strings.size() && strings[i].has_value()) {
      out += QuoteString(*strings[i], 256);
    } else {
      out += FormatArgAs(names, role, args[i]);
    }
  }
  return out + ")";
}

std::string QuoteString(std::string_view bytes, size_t limit) {
  std::string out = "\"";
  const size_t n = std::min(bytes.size(), limit);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  if (bytes.size() > n) out += "...";
  return out;
}

}  // namespace sandtrace
