// bind and connect of AF_UNIX sockets by a path into the workdir.
//
// bind(2) makes a socket file at its path: in the workdir that is a new
// entry, so it is made in the upper layer, by the supervisor binding its own
// copy of the child's socket there (Tracee::BindSocket, through the upper
// directory's fd), with the child's umask. connect(2) to a socket file of
// the view that the kernel cannot reach by the child's path (one bound in
// this run lives in the upper layer) is made the same way
// (Tracee::ConnectSocket). Everything else -- other families, abstract and
// unnamed addresses, paths outside the workdir, and paths the kernel
// resolves exactly as the view does -- is the kernel's. sendto/sendmsg to a
// datagram socket by a path are not handled (the kernel answers them).
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "cow/handlers/handlers.h"

namespace sandtrace::cow {
namespace {

// The path of a named AF_UNIX sockaddr at args[addr_arg] (length
// args[len_arg]), or nullopt for anything the kernel decides alone.
Result<std::optional<std::string>> UnixPath(Call& c, int addr_arg, int len_arg) {
  const uint64_t len = c.arg(len_arg);
  constexpr size_t kPathAt = offsetof(sockaddr_un, sun_path);
  if (c.arg(addr_arg) == 0 || len <= kPathAt || len > sizeof(sockaddr_un)) {
    return std::optional<std::string>();
  }
  std::byte raw[sizeof(sockaddr_un)] = {};
  if (Status s = ReadExactChecked(c.t, c.arg(addr_arg), std::span(raw, len)); !s.ok()) {
    return s.error();
  }
  sa_family_t family;
  std::memcpy(&family, raw, sizeof family);
  const char* path = reinterpret_cast<const char*>(raw) + kPathAt;
  const size_t max = len - kPathAt;
  if (family != AF_UNIX || path[0] == '\0') return std::optional<std::string>();  // abstract
  return std::optional<std::string>(std::string(path, strnlen(path, max)));
}

}  // namespace

std::optional<Decision> HandleBind(Call& c) {
  auto path = UnixPath(c, 1, 2);
  if (!path.ok()) return FromError(path.error());
  if (!path->has_value()) return c.Kernel();
  LocateOptions lo;
  lo.follow_final = false;  // bind never follows a final symlink: EADDRINUSE
  auto p = c.Locate(AT_FDCWD, **path, lo);
  if (!p.ok()) return FromError(p.error());
  if (p->kind != ChildPath::Kind::kView) return c.Kernel();
  auto view = c.ViewPath(*p, false);
  if (!view.ok()) return FromError(view.error());
  if (!view->has_value()) return c.Kernel();
  auto um = c.Umask();
  if (!um.ok()) return FromError(um.error());
  const mode_t mode = 0777 & ~*um;
  const int fd = c.dirfd_arg(0);
  c.s.index.MarkChanged(**view);
  c.s.RemeasureRecent();
  Status s = c.s.overlay->CreateWith(
      p->base, p->path, FileType::kSocket, mode,
      [&](int dirfd, const std::string& name) { return c.t.BindSocket(fd, dirfd, name, mode); });
  if (!s.ok() && s.code() == EEXIST) return Errno(EADDRINUSE);
  return FromStatus(s);
}

std::optional<Decision> HandleConnect(Call& c) {
  if (c.Pristine()) return c.PristineContinue();
  auto path = UnixPath(c, 1, 2);
  if (!path.ok()) return FromError(path.error());
  if (!path->has_value()) return c.Kernel();
  auto p = c.Locate(AT_FDCWD, **path);
  if (!p.ok()) return FromError(p.error());
  if (p->kind != ChildPath::Kind::kView) return c.Kernel();
  if (p->kernel_equivalent) return c.FastContinue();
  auto r = c.s.overlay->Resolve(p->base, p->path);
  if (!r.ok()) return FromError(r.error());
  if (r->outside || r->kernel_equivalent) return c.Kernel();
  if (!r->exists) return Errno(ENOENT);
  if (r->type != FileType::kSocket) return Errno(ECONNREFUSED);
  if (r->layer == Layer::kUpper && !c.after_restart) {
    // The child connects by itself (blocking, interrupted, refused exactly
    // as natively) to a link to the socket beneath the storage area: its
    // connect is entered again with a sockaddr_un of that path.
    auto link = c.s.overlay->SocketLink(p->base, p->path);
    if (link.ok() && link->size() < sizeof(sockaddr_un::sun_path)) {
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      std::memcpy(sa.sun_path, link->data(), link->size());
      const size_t len = offsetof(sockaddr_un, sun_path) + link->size() + 1;
      auto copy = WriteRestartCopy(c, std::string_view(reinterpret_cast<const char*>(&sa), len));
      if (copy.ok()) {
        ++c.s.stats.fifo_restarts;
        return Decision::Restart(1, *copy, 2, len, ECONNREFUSED);
      }
    }
  }
  // A socket of the lower layer the kernel cannot reach by the child's path
  // (under a renamed directory), or no restart: connected by the supervisor.
  auto where = c.s.overlay->ParentOf(p->base, p->path);
  if (!where.ok()) return FromError(where.error());
  return FromStatus(c.t.ConnectSocket(c.dirfd_arg(0), where->first.get(), where->second));
}

}  // namespace sandtrace::cow
