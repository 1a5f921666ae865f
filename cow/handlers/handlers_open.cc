// open, creat, openat, openat2; execve, execveat.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "cow/handlers/handlers.h"

namespace sandtrace::cow {

namespace {

constexpr uint64_t kValidOpenFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |
                                     O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_LARGEFILE |
                                     O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH |
                                     O_TMPFILE | FASYNC;
constexpr uint64_t kValidResolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
                                   RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;

bool IsTmpfile(int flags) { return (flags & O_TMPFILE) == O_TMPFILE; }

bool OpenWrites(int flags) {
  return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) || IsTmpfile(flags);
}

bool IsMagicPath(std::string_view p) {
  return p.substr(0, 6) == "/proc/" || p.substr(0, 5) == "/dev/";
}

FileRoot RootOf(Layer layer) {
  return layer == Layer::kUpper ? FileRoot::kUpper : FileRoot::kLower;
}

}  // namespace

// Where a restarted syscall's string copy goes: in the 128-byte red zone
// under the stack pointer when it fits. The kernel never puts a signal
// frame there (a handler run before the syscall is entered again leaves the
// copy alone), and at a syscall instruction nothing lives there: libc's
// syscall wrappers are either assembly stubs or, being cancellation points,
// not leaf functions, and Go does not use a red zone. Deeper is not safe:
// Go runs syscalls on goroutine stacks with under 1 KiB guaranteed free
// below the stack pointer, and a posix_spawn child (CLONE_VM) runs on a
// small stack of its own; writing past either could corrupt memory the
// program still uses. A copy too long for the red zone (a long read-only
// exec path) goes right under it, where a signal frame could cover it.
static constexpr uint64_t kRedZone = 128;

Result<uint64_t> WriteRestartBlock(Call& c, size_t size,
                                   const std::function<std::string(uint64_t at)>& build,
                                   uint64_t below) {
  auto sp = c.t.ReadStackPointer();
  if (!sp.ok()) return sp.error();
  if (*sp < 4096) return Err(EFAULT, "stack pointer too low");
  uint64_t at = (*sp - kRedZone + 15) & ~uint64_t{15};
  if (at + size > *sp) at = (*sp - kRedZone - size) & ~uint64_t{15};
  if (below != 0 && at + size > below) {
    if (below < size + 4096) return Err(EFAULT, "no room under the previous block");
    at = (below - size) & ~uint64_t{15};
  }
  const std::string bytes = build(at);
  const auto span = std::as_bytes(std::span(bytes.data(), bytes.size()));
  if (Status w = c.Write(at, span); !w.ok()) return w.error();
  return at;
}

Result<uint64_t> WriteRestartCopy(Call& c, std::string_view s) {
  std::string bytes(s);
  bytes.push_back('\0');
  return WriteRestartBlock(c, bytes.size(), [&](uint64_t) { return bytes; });
}

std::optional<Decision> InjectOpened(Call& c, OpenedFile f, int child_flags) {
  InjectedFile what;
  what.root = RootOf(f.layer);
  what.path = f.layer_path;
  what.open_flags = f.open_flags;
  what.fd_flags = static_cast<uint32_t>(child_flags & O_CLOEXEC);
  what.waits = f.waits;
  return Decision::Inject(std::move(f.fd), std::move(what));
}

// Opens a directory of the view for reading: a directory that also exists
// at the same path in the lower is opened there (its identity, see the
// design note), anything else through the engine.
Result<OpenedFile> OpenViewDir(Call& c, const std::string& view, int flags) {
  // A directory made by mkdir in this run is its upper directory.
  auto low = c.s.index.IsOpaque(view) ? Result<UniqueFd>(Err(ENOENT, "opaque"))
                                      : c.s.LowerDirAt(view, /*path_only=*/false);
  if (low.ok()) {
    OpenedFile f;
    f.fd = std::move(*low);
    f.layer = Layer::kLower;
    f.layer_path = view;
    f.open_flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    if (flags & O_NONBLOCK) {
      (void)fcntl(f.fd.get(), F_SETFL, O_NONBLOCK);
      f.open_flags |= O_NONBLOCK;
    }
    return f;
  }
  return c.s.overlay->Open(Base::Root(), view.empty() ? "." : view, flags & ~O_CLOEXEC, 0);
}

// An upper FIFO the engine would not open (a blocking open): the child
// opens it itself (so it blocks for the other end, signals and all, as
// natively): its open is restarted with the path of the FIFO's link beneath
// the storage area, which Landlock lets it open (see Overlay::Open). With
// openat2's RESOLVE_* flags (which an absolute path beneath the storage
// area would not pass), or when no copy of that path can be written, the
// supervisor opens it on a thread that waits for the other end instead
// (InjectedFile::waits).
static std::optional<Decision> OpenFifo(Call& c, int path_arg, bool special_resolve,
                                        int child_flags, OpenedFile f) {
  if (!special_resolve) {
    auto copy = c.after_restart ? Result<uint64_t>(Err(ELOOP, "restarted twice"))
                                : WriteRestartCopy(c, f.fifo_path);
    if (copy.ok()) {
      ++c.s.stats.fifo_restarts;
      return Decision::Restart(path_arg, *copy, ENXIO);
    }
  }
  UniqueFd path_fd(::open(f.fifo_path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!path_fd.valid()) return Errno(errno);
  f.fd = std::move(path_fd);
  f.open_flags |= O_CLOEXEC;
  f.waits = true;
  return InjectOpened(c, std::move(f), child_flags);
}

std::optional<Decision> HandleOpen(Call& c, int dirfd, int path_arg, uint64_t flags64,
                                   uint64_t mode64, const ResolveOptions* ropts) {
  const int flags = static_cast<int>(flags64);
  const bool writes = OpenWrites(flags);
  if (!writes && c.Pristine()) return c.PristineContinue();
  auto path = c.ReadPath(path_arg);
  if (!path.ok()) return FromError(path.error());

  ChildPath p;
  const bool special_resolve =
      ropts != nullptr && (ropts->beneath || ropts->in_root || ropts->no_symlinks);
  if (special_resolve) {
    // RESOLVE_BENEATH / IN_ROOT / NO_SYMLINKS: the engine implements them
    // relative to the dirfd; no cheap walk.
    if (path->empty()) return Errno(ENOENT);
    auto fb = c.BaseOfFd(dirfd);
    if (!fb.ok()) return FromError(fb.error());
    if (!fb->usable || fb->base.outside) return c.Kernel();
    p.kind = ChildPath::Kind::kView;
    p.base = fb->base;
    p.path = *path;
  } else {
    LocateOptions lo;
    lo.follow_final = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
    auto located = c.Locate(dirfd, *path, lo);
    if (!located.ok()) return FromError(located.error());
    p = std::move(*located);
    if (p.kind == ChildPath::Kind::kShm) return OpenShm(c, p, flags, static_cast<mode_t>(mode64));
    if (p.kind == ChildPath::Kind::kKernel && IsTmpfile(flags)) {
      if (auto d = OpenHostTmpfile(c, *path, flags, static_cast<mode_t>(mode64))) return d;
    }
    if (p.kind == ChildPath::Kind::kKernel && writes) {
      // O_CREAT alone of an existing file only reads it: Landlock lets it.
      const bool creates_only =
          (flags & O_ACCMODE) == O_RDONLY && !(flags & O_TRUNC) && !IsTmpfile(flags);
      const std::string where = (*path)[0] == '/' ? *path : p.outside_path;
      if (!creates_only || (c.s.apply_outside_metadata && access(where.c_str(), F_OK) != 0)) {
        NoteOutsideWrite(c, where);
      }
    }
  }
  if (p.kind != ChildPath::Kind::kView) return c.Kernel();
  ResolveOptions ro = ropts != nullptr ? *ropts : ResolveOptions{};
  ro.follow_final = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));

  if (!writes) {
    if (p.kernel_equivalent) return c.FastContinue();
    auto r = c.s.overlay->Resolve(p.base, p.path, ro);
    if (!r.ok()) return FromError(r.error());
    if (r->outside) {
      // Through a symlink the kernel cannot see (made in this run)?
      if (r->kernel_equivalent || special_resolve) return c.Kernel();
      ++c.s.stats.detoured;
      return OpenOutside(c, r->outside_path, flags, static_cast<mode_t>(mode64), ro.follow_final);
    }
    if (r->kernel_equivalent || (!p.kernel_real.empty() && r->real_path == p.kernel_real)) {
      return c.EngineContinue();
    }
    // The kernel refuses to install O_PATH files with ADDFD (EBADF): an
    // O_PATH open gets a read-only fd of the same object instead (it does
    // everything an O_PATH fd does, and reads too).
    int open_flags = flags & ~O_CLOEXEC;
    if (flags & O_PATH) {
      // An O_PATH fd of a symlink cannot be given; glibc's fchmodat and
      // lchmod then report EOPNOTSUPP, as they do for symlinks anyway.
      if (r->exists && r->type == FileType::kSymlink) return Errno(EOPNOTSUPP);
      open_flags = O_RDONLY | (flags & (O_DIRECTORY | O_NOFOLLOW));
    }
    if (r->exists && r->type == FileType::kDirectory) {
      auto f = OpenViewDir(c, r->path, open_flags);
      if (!f.ok()) return FromError(f.error());
      return InjectOpened(c, std::move(*f), flags);
    }
    auto f = c.s.overlay->Open(p.base, p.path, open_flags, 0, ro);
    if (!f.ok()) return FromError(f.error());
    if (!f->fifo_path.empty()) return OpenFifo(c, path_arg, special_resolve, flags, std::move(*f));
    return InjectOpened(c, std::move(*f), flags);
  }

  // Anything that may write: the engine, on the upper layer.
  mode_t mode = static_cast<mode_t>(mode64) & 07777;
  if ((flags & O_CREAT) || IsTmpfile(flags)) {
    auto um = c.Umask();
    if (!um.ok()) return FromError(um.error());
    mode &= ~*um;
  }
  auto view = c.ViewPath(p, ro.follow_final);
  if (!view.ok()) return FromError(view.error());
  if (!view->has_value()) {
    // Resolves outside: the kernel and Landlock, unless the way out is a
    // symlink only the view has.
    if (special_resolve) return c.Kernel();
    auto out = DetouredOutside(c, p, ro.follow_final);
    if (!out.ok()) return FromError(out.error());
    if (!out->has_value()) return c.Kernel();
    return OpenOutside(c, **out, flags, static_cast<mode_t>(mode64), ro.follow_final);
  }
  const std::string& v = **view;
  if (IsTmpfile(flags)) {
    c.s.index.MarkObject(v);
    c.s.index.MarkAncestors(v);
  } else {
    c.s.index.MarkChanged(v);
  }
  c.s.RemeasureRecent();
  auto f = c.s.overlay->Open(p.base, p.path, flags & ~O_CLOEXEC, mode, ro);
  if (!f.ok()) return FromError(f.error());
  if (!f->fifo_path.empty()) {
    return OpenFifo(c, path_arg, special_resolve, flags, std::move(*f));
  }
  if (IsTmpfile(flags)) {
    struct stat st {};
    if (fstat(f->fd.get(), &st) == 0) {
      SessionState::Tmpfile tf;
      tf.dir_view = v;
      tf.ino = st.st_ino;
      tf.fd = UniqueFd(fcntl(f->fd.get(), F_DUPFD_CLOEXEC, 3));
      if (tf.fd.valid()) {
        if (c.s.tmpfiles.size() >= kMaxTmpfiles) c.s.tmpfiles.pop_front();
        c.s.tmpfiles.push_back(std::move(tf));
      }
    }
  } else if (c.s.quota && (flags & O_ACCMODE) != O_RDONLY) {
    if (c.s.recent_writes.size() >= kRecentWrites) c.s.recent_writes.pop_front();
    c.s.recent_writes.push_back(v);
  }
  return InjectOpened(c, std::move(*f), flags);
}

std::optional<Decision> HandleOpenat2(Call& c) {
  const uint64_t how_addr = c.arg(2);
  const uint64_t size = c.arg(3);
  if (size < sizeof(open_how)) return Errno(EINVAL);
  if (size > 4096) return Errno(E2BIG);
  std::vector<std::byte> raw(size);
  if (Status s = ReadExactChecked(c.t, how_addr, raw); !s.ok()) return FromError(s.error());
  for (size_t i = sizeof(open_how); i < size; ++i) {
    if (raw[i] != std::byte{0}) return Errno(E2BIG);
  }
  open_how how{};
  std::memcpy(&how, raw.data(), sizeof how);
  if ((how.flags & ~kValidOpenFlags) || (how.resolve & ~kValidResolve)) return Errno(EINVAL);
  const int flags = static_cast<int>(how.flags);
  if (how.mode != 0 && !(flags & O_CREAT) && !IsTmpfile(flags)) return Errno(EINVAL);
  if (how.mode & ~uint64_t{07777}) return Errno(EINVAL);
  if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT)) return Errno(EINVAL);
  if ((flags & O_PATH) && (flags & ~(O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))) {
    return Errno(EINVAL);
  }
  if (how.resolve & RESOLVE_NO_MAGICLINKS) {
    // The kernel refuses magic links itself before it opens anything.
    auto path = c.ReadPath(1);
    if (!path.ok()) return FromError(path.error());
    if (IsMagicPath(*path)) return c.Kernel();
  }
  if (how.resolve & RESOLVE_CACHED) {
    // Allowed to fail: the caller retries without it.
    if (!OpenWrites(flags) && c.Pristine()) return c.PristineContinue();
    return Errno(EAGAIN);
  }
  ResolveOptions ro;
  ro.no_symlinks = how.resolve & RESOLVE_NO_SYMLINKS;
  ro.beneath = how.resolve & RESOLVE_BENEATH;
  ro.in_root = how.resolve & RESOLVE_IN_ROOT;
  return HandleOpen(c, c.dirfd_arg(0), 1, how.flags, how.mode, &ro);
}

// ---- execve / execveat --------------------------------------------------------

// `path` made at least `size` bytes long without changing where it leads:
// "/" repeated before the last name of an absolute path (so that its
// directories, the workdir's path among them, stay as they were written),
// "./" before a relative one.
static std::string PaddedPath(const std::string& path, size_t size) {
  if (path.size() >= size) return path;
  const size_t missing = size - path.size();
  if (!path.empty() && path[0] == '/') {
    std::string out = path;
    out.insert(path.find_last_of('/'), missing, '/');
    return out;
  }
  std::string out;
  while (out.size() < missing) out += "./";
  return out + path;
}

// What the kernel reads of an executable to find its #! line (BINPRM_BUF_SIZE).
static constexpr size_t kBinprmBuf = 256;
// How many interpreters deep the kernel follows scripts before ELOOP.
static constexpr int kMaxInterpreterDepth = 5;

// binfmt_script, done here for a script the kernel cannot run by the
// child's path (one made or changed in this run): the kernel would run it
// by its fd (/dev/fd/N), and the interpreter would get that for the
// script's name ($0, sys.argv[0]), so `dirname "$0"` would lead nowhere;
// and it would look up an interpreter of the view (#!/work/venv/bin/python)
// in the real workdir. Instead the exec is entered again as an exec of the
// interpreter, with the argv the kernel would build: the interpreter as
// written, its one optional argument, the script's path as the child gave
// it, then argv[1...]. The interpreter opens the script by that path,
// through the view, and its own exec is handled like any other. The block
// (argv array, strings, and the interpreter's path padded so that the next
// exec can be rewritten in place) goes under the stack pointer, as other
// restart copies do; too many arguments for a small block, an unreadable
// argv, a #! line longer than the kernel reads, or an interpreter relative
// to execveat's directory: nullopt (the script then runs by its fd).
static std::optional<Decision> ExecInterpreter(Call& c, int dirfd, int path_arg, int argv_arg,
                                               const std::string& path, const std::string& head,
                                               bool chained) {
  constexpr size_t kMaxArgs = 256;
  constexpr size_t kMaxBlock = 4096;
  size_t end = head.find('\n');
  if (end == std::string::npos) {
    if (head.size() >= kBinprmBuf) return std::nullopt;
    end = head.size();
  }
  auto blank = [](char ch) { return ch == ' ' || ch == '\t'; };
  std::string_view line(head.data() + 2, end - 2);
  while (!line.empty() && blank(line.front())) line.remove_prefix(1);
  // Trailing blanks go; a CR stays, as in the kernel.
  while (!line.empty() && blank(line.back())) line.remove_suffix(1);
  size_t cut = 0;
  while (cut < line.size() && !blank(line[cut]) && line[cut] != '\0') ++cut;
  const std::string interp(line.substr(0, cut));
  std::string_view rest = line.substr(cut);
  while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
  if (interp.empty()) return std::nullopt;
  const bool at_dir = dirfd != AT_FDCWD && !path.empty() && path[0] != '/';
  if (at_dir && interp[0] != '/') return std::nullopt;
  std::vector<std::string> strings = {interp};
  if (!rest.empty()) strings.emplace_back(rest.substr(0, rest.find('\0')));
  // The script's name is the path the exec was given; after an interpreter
  // restart, the previous #! line's interpreter (unpadded).
  strings.push_back(chained  ? c.s.interp.name
                    : at_dir ? "/dev/fd/" + std::to_string(dirfd) + "/" + path
                             : path);

  // argv[1...] of the child, as pointers (the strings stay where they are).
  std::vector<uint64_t> args;
  if (const uint64_t argv = c.arg(argv_arg); argv != 0) {
    constexpr size_t kChunk = 16;
    for (size_t i = 0;; i += kChunk) {
      uint64_t chunk[kChunk];
      auto n = c.t.ReadMemory(argv + i * 8, std::as_writable_bytes(std::span(chunk)));
      if (!n.ok() || *n < 8) return std::nullopt;
      const size_t got = *n / 8;
      bool done = false;
      for (size_t j = 0; j < got && !done; ++j) {
        if (chunk[j] == 0) {
          done = true;
        } else if (i + j > 0) {
          args.push_back(chunk[j]);
        }
      }
      if (done) break;
      if (got < kChunk || args.size() > kMaxArgs) return std::nullopt;
    }
  }
  if (!c.t.IdValid()) return Errno(ESRCH);

  const std::string exec_path = PaddedPath(interp, c.s.self_fd_prefix.size() + 11);
  const size_t slots = strings.size() + args.size() + 1;
  size_t size = slots * 8 + exec_path.size() + 1;
  for (const auto& s : strings) size += s.size() + 1;
  if (size > kMaxBlock) return std::nullopt;
  const size_t exec_path_offset = size - exec_path.size() - 1;
  auto block = WriteRestartBlock(
      c, size,
      [&](uint64_t at) {
        std::vector<uint64_t> pointers;
        std::string text;
        for (const auto& s : strings) {
          pointers.push_back(at + slots * 8 + text.size());
          text += s;
          text.push_back('\0');
        }
        pointers.insert(pointers.end(), args.begin(), args.end());
        pointers.push_back(0);
        text += exec_path;
        text.push_back('\0');
        return std::string(reinterpret_cast<const char*>(pointers.data()), pointers.size() * 8) +
               text;
      },
      chained ? c.s.interp.block : 0);  // argv[1...] may point into the previous block
  if (!block.ok()) return std::nullopt;
  c.s.interp.block = *block;
  c.s.interp.name = interp;
  ++c.s.stats.exec_restarts;
  return Decision::Restart(path_arg, *block + exec_path_offset, argv_arg, *block, ENOEXEC);
}

std::optional<Decision> HandleExec(Call& c, int dirfd, int path_arg, int argv_arg,
                                   uint64_t at_flags) {
  if (c.Pristine()) return c.PristineContinue();
  auto path = c.ReadPath(path_arg);
  if (!path.ok()) return FromError(path.error());
  if (path->empty() && (at_flags & AT_EMPTY_PATH)) return c.Kernel();  // exec of an fd
  const bool follow = !(at_flags & AT_SYMLINK_NOFOLLOW);
  LocateOptions lo;
  lo.follow_final = follow;
  auto p = c.Locate(dirfd, *path, lo);
  if (!p.ok()) return FromError(p.error());
  if (p->kind != ChildPath::Kind::kView) return c.Kernel();
  if (p->kernel_equivalent) return c.FastContinue();
  ResolveOptions ro;
  ro.follow_final = follow;
  auto r = c.s.overlay->Resolve(p->base, p->path, ro);
  if (!r.ok()) return FromError(r.error());
  // Outside the workdir by a way the kernel cannot follow (a symlink made in
  // this run, as venv/bin/python3): run the outside file by the same route.
  const bool detour = r->outside && !r->kernel_equivalent;
  if (r->outside && !detour) return c.Kernel();
  if (detour) {
    ++c.s.stats.detoured;
  } else {
    if (r->kernel_equivalent || (!p->kernel_real.empty() && r->real_path == p->kernel_real)) {
      return c.EngineContinue();
    }
    if (!r->exists) return Errno(ENOENT);
    if (r->type == FileType::kSymlink) return Errno(ELOOP);
    if (r->type != FileType::kRegular) return Errno(EACCES);
    if (Status s = c.s.overlay->Access(p->base, p->path, X_OK, follow); !s.ok()) {
      return FromError(s.error());
    }
  }
  if (!follow) {
    // The rewritten "/dev/fd/N" ends in a magic link, which
    // AT_SYMLINK_NOFOLLOW refuses.
    c.s.Warn("cannot execveat(AT_SYMLINK_NOFOLLOW) '" + *path +
             "': it exists only in the sandbox's upper layer");
    return Errno(ENOEXEC);
  }

  // The kernel must run the upper bytes: install the file in the child and
  // point the path string at it (see the design note in cow_session.h).
  const uint64_t addr = c.arg(path_arg);
  const size_t room = c.t.ChildStringSize(addr, *path);  // bytes before the NUL
  const std::string& prefix = c.s.self_fd_prefix;
  auto refuse = [&](const std::string& why) {
    c.s.Warn("exec of '" + *path +
             "' (changed in the sandbox) failed with ENOEXEC (shells and "
             "execvp then run it with /bin/sh): " +
             why);
    return Errno(ENOEXEC);
  };
  // A string that cannot be rewritten in place: the syscall is entered
  // again with a copy of the path, padded to an equivalent longer one
  // ("./app" -> "./././././app"), below the stack pointer; the next
  // notification rewrites that copy (see the design note in cow_session.h).
  // Once per exec: a second restart in a row from the same thread is refused.
  auto restart = [&](const std::string& why) -> std::optional<Decision> {
    if (c.after_restart) return refuse(why);
    auto copy = WriteRestartCopy(c, PaddedPath(*path, prefix.size() + 11));
    if (!copy.ok())
      return refuse(why + ", and no copy of it could be written (" + copy.error().Message() + ")");
    ++c.s.stats.exec_restarts;
    return Decision::Restart(path_arg, *copy, ENOEXEC);
  };
  auto f = detour ? OpenOutsideForExec(c, r->outside_path)
                  : c.s.overlay->Open(p->base, p->path, O_RDONLY, 0, ro);
  if (!f.ok()) return FromError(f.error());
  // A script runs as its interpreter with the script's own path; only when
  // that cannot be done, by its fd like a binary.
  auto head = c.t.ReadFileHead(f->fd.get(), kBinprmBuf);
  const bool script = head.ok() && head->size() >= 2 && (*head)[0] == '#' && (*head)[1] == '!';
  // An interpreter that is itself a script follows an interpreter restart.
  const bool chained = c.after_restart && c.s.interp.tid == c.n.tid;
  const int depth = chained ? c.s.interp.depth + 1 : 1;
  c.s.interp.tid = 0;
  if (script && (!c.after_restart || chained)) {
    if (depth > kMaxInterpreterDepth) return Errno(ELOOP);
    if (auto d = ExecInterpreter(c, dirfd, path_arg, argv_arg, *path, *head, chained)) {
      c.s.interp.tid = c.n.tid;
      c.s.interp.depth = depth;
      return d;
    }
  }
  if (room < prefix.size() + 2) return restart("its path string is too short to rewrite in place");
  // Writable? (process_vm_writev honours page protections: a string in
  // read-only data cannot be rewritten.)
  if (Status s = c.Write(addr, std::as_bytes(std::span(path->data(), path->size()))); !s.ok()) {
    return restart("its path string is read-only");
  }
  // argv[0] is kept unless it is the very same string.
  uint64_t argv0 = 0;
  if (c.arg(argv_arg) != 0) {
    std::byte raw[8];
    if (ReadExactChecked(c.t, c.arg(argv_arg), raw).ok()) std::memcpy(&argv0, raw, 8);
  }
  InjectedFile what;
  what.root = detour ? FileRoot::kOutside : RootOf(f->layer);
  what.path = f->layer_path;
  what.open_flags = f->open_flags;
  what.fd_flags = script ? 0 : O_CLOEXEC;
  auto fd = c.t.InstallFd(f->fd.get(), what.fd_flags, what);
  if (!fd.ok()) {
    if (fd.code() == ESRCH) return FromError(fd.error());
    return refuse("the fd could not be installed in the child (" + fd.error().Message() + ")");
  }
  std::string rewritten = prefix + std::to_string(*fd);
  if (rewritten.size() > room) {
    return restart("fd " + std::to_string(*fd) + " does not fit its path string");
  }
  // argv[0] is often the very same string (dash runs `./prog` so): then it
  // gets a copy of the original below the stack pointer (unused while the
  // syscall is pending; gone once exec succeeds) and argv[0] points there.
  bool argv0_moved = false;
  const bool argv0_shared = argv0 >= addr && argv0 <= addr + room;
  if (argv0_shared) {
    auto sp = c.t.ReadStackPointer();
    if (sp.ok() && *sp > 4096) {
      const uint64_t copy = (*sp - 256 - (room + 1)) & ~uint64_t{15};
      std::string original = *path;
      original.push_back('\0');
      const uint64_t moved = copy + (argv0 - addr);
      if (c.Write(copy, std::as_bytes(std::span(original.data(), original.size()))).ok() &&
          c.Write(c.arg(argv_arg), std::as_bytes(std::span(&moved, 1))).ok()) {
        argv0_moved = true;
      }
    }
  }
  std::string bytes = rewritten;
  bytes.push_back('\0');
  if (Status s = c.Write(addr, std::as_bytes(std::span(bytes.data(), bytes.size()))); !s.ok()) {
    return refuse("its path string could not be rewritten");
  }
  if (argv0_shared && !argv0_moved) {
    c.s.Warn("'" + *path + "' runs from the sandbox's upper layer with argv[0] " + rewritten +
             " (argv[0] was the path string itself and could not be moved)");
  }
  ++c.s.stats.exec_rewrites;
  return Decision::Continue();
}

}  // namespace sandtrace::cow
