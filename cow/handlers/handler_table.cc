// The COW handler set: one entry per syscall form, decoding its arguments
// (per the x86_64 argument order, which the syscall table documents) into
// the handler families of handlers_*.cc.
#include <fcntl.h>
#include <sys/xattr.h>

#include <cstring>

#include "cow/handlers/handlers.h"
#include "tracer/core/kernel_abi.h"

namespace sandtrace::cow {

namespace {

using Fn = std::optional<Decision> (*)(Call&);
struct Entry {
  std::string_view name;
  Fn fn;
  NotifyWhen (*when)() = nullptr;  // narrows what the filter notifies
};

XattrForm PathXattr(Call& c, bool follow, bool list) {
  XattrForm f;
  f.list = list;
  f.follow = follow;
  f.dirfd = AT_FDCWD;
  f.path_arg = 0;
  if (list) {
    f.value_addr = c.arg(1);
    f.size = c.arg(2);
  } else {
    f.name_addr = c.arg(1);
    f.value_addr = c.arg(2);
    f.size = c.arg(3);
  }
  return f;
}

XattrForm FdXattr(Call& c, bool list) {
  XattrForm f = PathXattr(c, false, list);
  f.fd_form = true;
  f.dirfd = static_cast<int>(c.arg(0));
  return f;
}

// *xattrat(dirfd, path, at_flags, ...): the common part.
std::optional<XattrForm> AtXattr(Call& c) {
  const uint64_t at_flags = c.arg(2);
  if (at_flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) return std::nullopt;
  XattrForm f;
  f.dirfd = c.dirfd_arg(0);
  f.path_arg = 1;
  f.follow = !(at_flags & AT_SYMLINK_NOFOLLOW);
  f.allow_empty = at_flags & AT_EMPTY_PATH;
  return f;
}

// struct xattr_args of setxattrat/getxattrat, with the kernel's checks.
Result<kabi::XattrArgs> ReadXattrArgs(Call& c, uint64_t addr, uint64_t size) {
  if (size < sizeof(kabi::XattrArgs)) return Err(EINVAL, "xattr_args size");
  if (size > 4096) return Err(E2BIG, "xattr_args size");
  kabi::XattrArgs args{};
  if (Status s = ReadExactChecked(c.t, addr, std::as_writable_bytes(std::span(&args, 1)));
      !s.ok()) {
    return s.error();
  }
  return args;
}

std::optional<Decision> GetXattrAt(Call& c) {
  auto f = AtXattr(c);
  if (!f) return Errno(EINVAL);
  auto args = ReadXattrArgs(c, c.arg(4), c.arg(5));
  if (!args.ok()) return FromError(args.error());
  if (args->flags != 0) return Errno(EINVAL);
  f->name_addr = c.arg(3);
  f->value_addr = args->value;
  f->size = args->size;
  return HandleGetXattr(c, *f);
}

std::optional<Decision> ListXattrAt(Call& c) {
  auto f = AtXattr(c);
  if (!f) return Errno(EINVAL);
  f->list = true;
  f->value_addr = c.arg(3);
  f->size = c.arg(4);
  return HandleGetXattr(c, *f);
}

std::optional<Decision> SetXattrAt(Call& c) {
  auto f = AtXattr(c);
  if (!f) return Errno(EINVAL);
  auto args = ReadXattrArgs(c, c.arg(4), c.arg(5));
  if (!args.ok()) return FromError(args.error());
  f->name_addr = c.arg(3);
  f->value_addr = args->value;
  f->size = args->size;
  return HandleSetXattr(c, *f, false, args->flags);
}

std::optional<Decision> RemoveXattrAt(Call& c) {
  auto f = AtXattr(c);
  if (!f) return Errno(EINVAL);
  f->name_addr = c.arg(3);
  return HandleSetXattr(c, *f, true, 0);
}

constexpr int kCwd = AT_FDCWD;

// Sorted by name. Argument positions follow the syscall table.
constexpr Entry kEntries[] = {
    {"access", [](Call& c) { return HandleAccess(c, kCwd, 0, c.arg(1), 0); }},
    {"bind", HandleBind},
    {"chdir", HandleChdir},
    {"chmod", [](Call& c) { return HandleChmod(c, false, kCwd, 0, c.arg(1), 0); }},
    {"chown", [](Call& c) { return HandleChown(c, false, kCwd, 0, c.arg(1), c.arg(2), 0); }},
    {"connect", HandleConnect},
    {"creat",
     [](Call& c) { return HandleOpen(c, kCwd, 0, O_CREAT | O_WRONLY | O_TRUNC, c.arg(1)); }},
    {"execve", [](Call& c) { return HandleExec(c, kCwd, 0, 1, 0); }},
    {"execveat", [](Call& c) { return HandleExec(c, c.dirfd_arg(0), 1, 2, c.arg(4)); }},
    {"faccessat", [](Call& c) { return HandleAccess(c, c.dirfd_arg(0), 1, c.arg(2), 0); }},
    {"faccessat2", [](Call& c) { return HandleAccess(c, c.dirfd_arg(0), 1, c.arg(2), c.arg(3)); }},
    {"fchdir", HandleFchdir},
    {"fchmod",
     [](Call& c) { return HandleChmod(c, true, static_cast<int>(c.arg(0)), -1, c.arg(1), 0); }},
    {"fchmodat", [](Call& c) { return HandleChmod(c, false, c.dirfd_arg(0), 1, c.arg(2), 0); }},
    {"fchmodat2",
     [](Call& c) { return HandleChmod(c, false, c.dirfd_arg(0), 1, c.arg(2), c.arg(3)); }},
    {"fchown",
     [](Call& c) {
       return HandleChown(c, true, static_cast<int>(c.arg(0)), -1, c.arg(1), c.arg(2), 0);
     }},
    {"fchownat",
     [](Call& c) {
       return HandleChown(c, false, c.dirfd_arg(0), 1, c.arg(2), c.arg(3), c.arg(4));
     }},
    {"fgetxattr", [](Call& c) { return HandleGetXattr(c, FdXattr(c, false)); }},
    {"file_getattr", HandleFileGetattr},
    {"file_setattr", HandleFileSetattr},
    {"flistxattr", [](Call& c) { return HandleGetXattr(c, FdXattr(c, true)); }},
    {"fremovexattr",
     [](Call& c) {
       XattrForm f = FdXattr(c, false);
       return HandleSetXattr(c, f, true, 0);
     }},
    {"fsetxattr", [](Call& c) { return HandleSetXattr(c, FdXattr(c, false), false, c.arg(4)); }},
    {"futimesat",
     [](Call& c) { return HandleUtimes(c, TimesForm::kTimeval, c.dirfd_arg(0), 1, c.arg(2), 0); }},
    {"getcwd", HandleGetcwd},
    {"getdents", [](Call& c) { return HandleGetdents(c, true); }},
    {"getdents64", [](Call& c) { return HandleGetdents(c, false); }},
    {"getxattr", [](Call& c) { return HandleGetXattr(c, PathXattr(c, true, false)); }},
    {"getxattrat", GetXattrAt},
    {"inotify_add_watch", HandleInotifyAddWatch},
    {"ioctl", HandleIoctl, IoctlNotifyWhen},
    {"lchown",
     [](Call& c) {
       return HandleChown(c, false, kCwd, 0, c.arg(1), c.arg(2), AT_SYMLINK_NOFOLLOW);
     }},
    {"lgetxattr", [](Call& c) { return HandleGetXattr(c, PathXattr(c, false, false)); }},
    {"link", [](Call& c) { return HandleLink(c, kCwd, 0, kCwd, 1, 0); }},
    {"linkat",
     [](Call& c) { return HandleLink(c, c.dirfd_arg(0), 1, c.dirfd_arg(2), 3, c.arg(4)); }},
    {"listxattr", [](Call& c) { return HandleGetXattr(c, PathXattr(c, true, true)); }},
    {"listxattrat", ListXattrAt},
    {"llistxattr", [](Call& c) { return HandleGetXattr(c, PathXattr(c, false, true)); }},
    {"lremovexattr",
     [](Call& c) { return HandleSetXattr(c, PathXattr(c, false, false), true, 0); }},
    {"lsetxattr",
     [](Call& c) { return HandleSetXattr(c, PathXattr(c, false, false), false, c.arg(4)); }},
    {"lstat",
     [](Call& c) {
       return HandleStat(c, StatForm{kCwd, 0, c.arg(1), 0, false, false});
     }},
    {"mkdir", [](Call& c) { return HandleMkdir(c, kCwd, 0, c.arg(1)); }},
    {"mkdirat", [](Call& c) { return HandleMkdir(c, c.dirfd_arg(0), 1, c.arg(2)); }},
    {"mknod", [](Call& c) { return HandleMknod(c, kCwd, 0, c.arg(1), c.arg(2)); }},
    {"mknodat", [](Call& c) { return HandleMknod(c, c.dirfd_arg(0), 1, c.arg(2), c.arg(3)); }},
    {"newfstatat",
     [](Call& c) {
       return HandleStat(c, StatForm{c.dirfd_arg(0), 1, c.arg(2), c.arg(3), true, false});
     }},
    {"open", [](Call& c) { return HandleOpen(c, kCwd, 0, c.arg(1), c.arg(2)); }},
    {"openat", [](Call& c) { return HandleOpen(c, c.dirfd_arg(0), 1, c.arg(2), c.arg(3)); }},
    {"openat2", HandleOpenat2},
    {"readlink", [](Call& c) { return HandleReadlink(c, kCwd, 0, c.arg(1), c.arg(2)); }},
    {"readlinkat",
     [](Call& c) { return HandleReadlink(c, c.dirfd_arg(0), 1, c.arg(2), c.arg(3)); }},
    {"removexattr", [](Call& c) { return HandleSetXattr(c, PathXattr(c, true, false), true, 0); }},
    {"removexattrat", RemoveXattrAt},
    {"rename", [](Call& c) { return HandleRename(c, kCwd, 0, kCwd, 1, 0); }},
    {"renameat", [](Call& c) { return HandleRename(c, c.dirfd_arg(0), 1, c.dirfd_arg(2), 3, 0); }},
    {"renameat2",
     [](Call& c) { return HandleRename(c, c.dirfd_arg(0), 1, c.dirfd_arg(2), 3, c.arg(4)); }},
    {"rmdir", [](Call& c) { return HandleUnlink(c, kCwd, 0, AT_REMOVEDIR); }},
    {"sendmmsg", HandleSendmmsg},
    {"sendmsg", HandleSendmsg},
    {"sendto", HandleSendto, SendtoNotifyWhen},
    {"setxattr",
     [](Call& c) { return HandleSetXattr(c, PathXattr(c, true, false), false, c.arg(4)); }},
    {"setxattrat", SetXattrAt},
    {"stat",
     [](Call& c) {
       return HandleStat(c, StatForm{kCwd, 0, c.arg(1), 0, true, false});
     }},
    {"statx",
     [](Call& c) {
       return HandleStat(c, StatForm{c.dirfd_arg(0), 1, c.arg(4), c.arg(2), true, true});
     }},
    {"symlink", [](Call& c) { return HandleSymlink(c, 0, kCwd, 1); }},
    {"symlinkat", [](Call& c) { return HandleSymlink(c, 0, c.dirfd_arg(1), 2); }},
    {"truncate", [](Call& c) { return HandleTruncate(c, 0, c.arg(1)); }},
    {"umask",
     [](Call& c) {
       // Notified only to keep the cached mask right (no /proc read per create).
       c.s.procs.SetUmask(c.tgid, static_cast<mode_t>(c.arg(0)));
       return c.Kernel();
     }},
    {"unlink", [](Call& c) { return HandleUnlink(c, kCwd, 0, 0); }},
    {"unlinkat", [](Call& c) { return HandleUnlink(c, c.dirfd_arg(0), 1, c.arg(2)); }},
    {"utime", [](Call& c) { return HandleUtimes(c, TimesForm::kUtimbuf, kCwd, 0, c.arg(1), 0); }},
    {"utimensat",
     [](Call& c) {
       return HandleUtimes(c, TimesForm::kTimespec, c.dirfd_arg(0), 1, c.arg(2), c.arg(3));
     }},
    {"utimes", [](Call& c) { return HandleUtimes(c, TimesForm::kTimeval, kCwd, 0, c.arg(1), 0); }},
};

constexpr bool SortedByName() {
  for (size_t i = 1; i < std::size(kEntries); ++i) {
    if (!(kEntries[i - 1].name < kEntries[i].name)) return false;
  }
  return true;
}
static_assert(SortedByName(), "kEntries must be sorted by name, without duplicates");

constexpr auto kNames = [] {
  std::array<std::string_view, std::size(kEntries)> a{};
  for (size_t i = 0; i < a.size(); ++i) a[i] = kEntries[i].name;
  return a;
}();

// Registers `handler` for e's syscall, with e's argument tests if it has some.
// A name the registry's table lacks (aarch64 has no legacy calls: open,
// stat, rename...) is skipped.
Status AddEntry(HandlerRegistry& registry, std::string_view set, const Entry& e, Handler handler) {
  if (registry.table().FindByName(e.name) == nullptr) return OkStatus();
  const std::string_view names[] = {e.name};
  if (e.when != nullptr) return registry.AddByName(set, names, std::move(handler), e.when());
  return registry.AddByName(set, names, std::move(handler));
}

}  // namespace

std::span<const std::string_view> CowSyscallNames() { return kNames; }

Status RegisterCowHandlers(std::shared_ptr<SessionState> state, HandlerRegistry& registry,
                           std::string_view set) {
  for (const Entry& e : kEntries) {
    Fn fn = e.fn;
    Status st = AddEntry(registry, set, e,
                         [state, fn](const Notification& n, Tracee& t) -> std::optional<Decision> {
                           SessionState& s = *state;
                           ++s.stats.notifications;
                           if (n.nr >= 0) {
                             if (s.stats.by_nr.size() <= static_cast<size_t>(n.nr))
                               s.stats.by_nr.resize(n.nr + 1);
                             ++s.stats.by_nr[n.nr];
                           }
                           Call c(s, n, t);
                           if (s.restart_tid != 0) {
                             c.after_restart = s.restart_tid == n.tid;
                             if (c.after_restart) s.restart_tid = 0;
                           }
                           std::optional<Decision> d = fn(c);
                           if (!d) d = Decision::Continue();
                           // Its next notification is this syscall again.
                           if (d->kind == DecisionKind::kRestart) s.restart_tid = n.tid;
                           switch (d->kind) {
                             case DecisionKind::kContinue:
                               ++s.stats.continued;
                               break;
                             case DecisionKind::kInjectFd:
                               ++s.stats.injected;
                               break;
                             default:
                               ++s.stats.emulated;
                               break;
                           }
                           return d;
                         });
    if (!st.ok()) return st;
  }
  return OkStatus();
}

Status AddPassthroughSet(HandlerRegistry& registry, std::string_view set) {
  // The same notify set, argument tests included.
  for (const Entry& e : kEntries) {
    Status st = AddEntry(registry, set, e, [](const Notification&, Tracee&) {
      return std::optional<Decision>(Decision::Continue());
    });
    if (!st.ok()) return st;
  }
  return OkStatus();
}

}  // namespace sandtrace::cow
