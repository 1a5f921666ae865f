// bind, connect, sendto and sendmsg of AF_UNIX sockets by a path into the
// workdir.
//
// bind(2) makes a socket file at its path: in the workdir that is a new
// entry, so it is made in the upper layer, by the supervisor binding its own
// copy of the child's socket there (Tracee::BindSocket, through the upper
// directory's fd), with the child's umask. The kernel keeps the path given
// to bind as the socket's address (getsockname, the peers' getpeername):
// for a relative path of plain names the supervisor binds by that very
// path, from the matching upper directory; otherwise (absolute paths,
// "..", symlinks on the way) by a /proc/self/fd path, which those calls
// then report. connect(2), sendto(2) and
// sendmsg(2) to a socket file of the view that the kernel cannot reach by
// the child's path (one bound in this run lives in the upper layer) are
// entered again (Decision::Restart) with an address the kernel can reach:
// the socket's link beneath the storage area (Overlay::SocketLink), or for
// a lower socket under a renamed directory its real path. The child then
// waits, is interrupted and is refused exactly as natively. For sendmsg
// the restarted call gets a copy of its msghdr naming the new address,
// both in the red zone under the stack pointer (see WriteRestartBlock).
// Everything else -- other families, abstract and unnamed addresses,
// sendto without an address (the filter does not even notify it), paths
// outside the workdir, and paths the kernel resolves exactly as the view
// does -- is the kernel's. sendmmsg names an address per message: the
// messages before the first one the kernel cannot reach are sent as they
// are (the call is entered again with vlen cut there: a short count, which
// callers of sendmmsg handle), and that one alone is sent by a copy of its
// mmsghdr naming the reachable address (its msg_len in the child's array is
// set to the datagram's length beforehand, as the kernel would set it).
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <functional>
#include <vector>

#include "cow/handlers/handlers.h"
#include "tracer/base/unix_address.h"

namespace sandtrace::cow {
namespace {

// The path of a named AF_UNIX sockaddr at `addr` (`len` bytes), or nullopt
// for anything the kernel decides alone.
Result<std::optional<std::string>> UnixPathAt(Call& c, uint64_t addr, uint64_t len) {
  constexpr size_t kPathAt = offsetof(sockaddr_un, sun_path);
  if (addr == 0 || len <= kPathAt || len > sizeof(sockaddr_un)) {
    return std::optional<std::string>();
  }
  std::byte raw[sizeof(sockaddr_un)] = {};
  if (Status s = ReadExactChecked(c.t, addr, std::span(raw, len)); !s.ok()) return s.error();
  sa_family_t family;
  std::memcpy(&family, raw, sizeof family);
  const char* path = reinterpret_cast<const char*>(raw) + kPathAt;
  const size_t max = len - kPathAt;
  if (family != AF_UNIX || path[0] == '\0') return std::optional<std::string>();  // abstract
  return std::optional<std::string>(std::string(path, strnlen(path, max)));
}

Result<std::optional<std::string>> UnixPath(Call& c, int addr_arg, int len_arg) {
  return UnixPathAt(c, c.arg(addr_arg), c.arg(len_arg));
}

// The bytes of a sockaddr_un naming `path` (nullopt if too long), to copy
// into the child.
std::optional<std::string> SockaddrOf(const std::string& path) {
  auto a = MakeUnixAddress(path);
  if (!a) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(&a->sa), a->len);
}

// Where the kernel can reach the socket file the child names by `path`
// (relative to its cwd) when it cannot by that path: nullopt when the
// kernel should answer the call as it is, an errno decision when the view
// answers it, else a path to put in a restarted call's address.
struct SocketTarget {
  std::optional<Decision> answer;  // set: decided (kernel or errno)
  std::string reachable;           // otherwise: the address to restart with
};

SocketTarget LocateSocket(Call& c, const std::string& path) {
  SocketTarget t;
  auto p = c.Locate(AT_FDCWD, path);
  if (!p.ok()) return {FromError(p.error()), {}};
  if (p->kind != ChildPath::Kind::kView || c.after_restart) return {c.Kernel(), {}};
  if (p->kernel_equivalent) return {c.FastContinue(), {}};
  auto r = c.s.overlay->Resolve(p->base, p->path);
  if (!r.ok()) return {FromError(r.error()), {}};
  if (r->outside || r->kernel_equivalent) return {c.Kernel(), {}};
  if (!r->exists) return {Errno(ENOENT), {}};
  if (r->type != FileType::kSocket) return {Errno(ECONNREFUSED), {}};
  if (r->layer == Layer::kUpper) {
    auto link = c.s.overlay->SocketLink(p->base, p->path);
    if (!link.ok()) return {FromError(link.error()), {}};
    t.reachable = std::move(*link);
  } else {
    t.reachable = r->real_path;  // a lower socket under a renamed directory
  }
  return t;
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
  // getsockname and the peers' getpeername report the path given to bind:
  // the child's own, when the upper directory reaches the new file by it
  // (a relative path of plain names, no symlink on the way).
  const std::string& asked = **path;
  // An absolute path of plain names into the workdir: the supervisor binds
  // by it too (Tracee::BindSocket, with the upper directory mounted where
  // the lower one is, in a mount namespace of its own).
  const bool absolute = asked.size() > c.s.lower_root.size() + 1 &&
                        asked.compare(0, c.s.lower_root.size(), c.s.lower_root) == 0 &&
                        asked[c.s.lower_root.size()] == '/' &&
                        PlainRelative(asked.substr(c.s.lower_root.size() + 1)) &&
                        **view == asked.substr(c.s.lower_root.size() + 1);
  const bool plain = absolute || (!p->base.outside && PlainRelative(asked) &&
                                  **view == JoinView(p->base.view, asked));
  const std::string address = plain ? asked : std::string();
  c.s.index.MarkChanged(**view);
  c.s.RemeasureRecent();
  Status s = c.s.overlay->CreateWith(p->base, p->path, FileType::kSocket, mode,
                                     [&](int dirfd, const std::string& name) {
                                       return c.t.BindSocket(fd, dirfd, name, mode, address);
                                     });
  if (!s.ok() && s.code() == EEXIST) return Errno(EADDRINUSE);
  return FromStatus(s);
}

// connect and sendto name their address in two arguments: when it is a
// socket of the view the kernel cannot reach by the child's path, the call
// is entered again with a reachable address; `no_restart` answers when
// that copy cannot be written (it gets the child's path and why).
std::optional<Decision> RestartWithReachableAddress(
    Call& c, int addr_arg, int len_arg,
    const std::function<std::optional<Decision>(const std::string&, const Error&)>& no_restart) {
  if (c.Pristine()) return c.PristineContinue();
  auto path = UnixPath(c, addr_arg, len_arg);
  if (!path.ok()) return FromError(path.error());
  if (!path->has_value()) return c.Kernel();
  SocketTarget t = LocateSocket(c, **path);
  if (t.answer) return std::move(t.answer);
  auto sa = SockaddrOf(t.reachable);
  // (WriteRestartCopy's NUL is not part of the address.)
  auto copy = sa ? WriteRestartCopy(c, *sa) : Result<uint64_t>(Err(ENAMETOOLONG, t.reachable));
  if (!copy.ok()) return no_restart(**path, copy.error());
  ++c.s.stats.fifo_restarts;
  return Decision::Restart(addr_arg, *copy, len_arg, sa->size(), ECONNREFUSED);
}

// A send whose address could not be handed to the child.
std::optional<Decision> RefuseSend(Call& c, const Error& why) {
  c.s.Warn("a send to a socket made in the sandbox could not be handed to the child (" +
           why.Message() + "): it failed with ECONNREFUSED");
  return Errno(ECONNREFUSED);
}

std::optional<Decision> HandleConnect(Call& c) {
  // The child connects by itself (blocking, interrupted, refused exactly as
  // natively). Without a restart (no ptrace, or an address too long) the
  // supervisor connects, and then waits for a full backlog with the child.
  return RestartWithReachableAddress(
      c, 1, 2, [&](const std::string& path, const Error&) -> std::optional<Decision> {
        auto p = c.Locate(AT_FDCWD, path);
        if (!p.ok()) return FromError(p.error());
        auto where = c.s.overlay->ParentOf(p->base, p->path);
        if (!where.ok()) return FromError(where.error());
        return FromStatus(c.t.ConnectSocket(c.dirfd_arg(0), where->first.get(), where->second));
      });
}

NotifyWhen SendtoNotifyWhen() { return {ArgMatch{4, ~uint64_t{0}, 0, /*differs=*/true}}; }

std::optional<Decision> HandleSendto(Call& c) {
  return RestartWithReachableAddress(
      c, 4, 5, [&](const std::string&, const Error& why) { return RefuseSend(c, why); });
}

msghdr& HeaderOf(msghdr& m) { return m; }
msghdr& HeaderOf(mmsghdr& m) { return m.msg_hdr; }

// A copy of the child's message header `h` (msghdr, or mmsghdr) naming the
// socket at `reachable` instead, that address right after it (the header
// is 8-aligned), under the stack pointer: the copy's address.
template <class Header>
Result<uint64_t> WriteHeaderNaming(Call& c, Header h, const std::string& reachable) {
  auto sa = SockaddrOf(reachable);
  if (!sa) return Err(ENAMETOOLONG, reachable);
  return WriteRestartBlock(c, sizeof(Header) + sa->size(), [&](uint64_t at) {
    HeaderOf(h).msg_name = reinterpret_cast<void*>(at + sizeof(Header));
    HeaderOf(h).msg_namelen = static_cast<socklen_t>(sa->size());
    return std::string(reinterpret_cast<const char*>(&h), sizeof h) + *sa;
  });
}

std::optional<Decision> HandleSendmsg(Call& c) {
  if (c.Pristine()) return c.PristineContinue();
  msghdr m{};
  if (c.arg(1) == 0) return c.Kernel();
  if (Status s = ReadExactChecked(c.t, c.arg(1), std::as_writable_bytes(std::span(&m, 1)));
      !s.ok()) {
    return c.Kernel();  // EFAULT and the like: the kernel's answer
  }
  auto path = UnixPathAt(c, reinterpret_cast<uint64_t>(m.msg_name), m.msg_namelen);
  if (!path.ok()) return c.Kernel();
  if (!path->has_value()) return c.Kernel();
  SocketTarget t = LocateSocket(c, **path);
  if (t.answer) return std::move(t.answer);
  auto copy = WriteHeaderNaming(c, m, t.reachable);
  if (!copy.ok()) return RefuseSend(c, copy.error());
  ++c.s.stats.fifo_restarts;
  return Decision::Restart(1, *copy, ECONNREFUSED);
}

std::optional<Decision> HandleSendmmsg(Call& c) {
  if (c.Pristine()) return c.PristineContinue();
  const uint64_t vec = c.arg(1);
  const size_t vlen = std::min<uint64_t>(c.arg(2) & 0xffffffffu, UIO_MAXIOV);
  if (vec == 0 || vlen == 0) return c.Kernel();
  std::vector<mmsghdr> msgs(vlen);
  if (Status s = ReadExactChecked(c.t, vec, std::as_writable_bytes(std::span(msgs))); !s.ok()) {
    return c.Kernel();  // EFAULT and the like: the kernel's answer
  }
  for (size_t i = 0; i < vlen; ++i) {
    const msghdr& m = msgs[i].msg_hdr;
    auto path = UnixPathAt(c, reinterpret_cast<uint64_t>(m.msg_name), m.msg_namelen);
    if (!path.ok() || !path->has_value()) continue;  // the kernel's, as it is
    SocketTarget t = LocateSocket(c, **path);
    if (t.answer && t.answer->kind == DecisionKind::kContinue) continue;
    // The messages before it go as they are, by themselves.
    if (i > 0) {
      ++c.s.stats.fifo_restarts;
      return Decision::Restart(2, i, ECONNREFUSED);
    }
    if (t.answer) return std::move(t.answer);  // the first message fails: so does the call
    // A datagram goes whole: msg_len is the sum of its iovec lengths.
    const size_t iovlen = std::min<size_t>(m.msg_iovlen, UIO_MAXIOV);
    std::vector<iovec> iov(iovlen);
    if (iovlen > 0 && !ReadExactChecked(c.t, reinterpret_cast<uint64_t>(m.msg_iov),
                                        std::as_writable_bytes(std::span(iov)))
                           .ok()) {
      return c.Kernel();  // EFAULT: the kernel's answer
    }
    uint64_t total = 0;
    for (const iovec& v : iov) total += v.iov_len;
    const auto len = static_cast<unsigned>(std::min<uint64_t>(total, UINT32_MAX));
    if (Status s = c.Write(vec + offsetof(mmsghdr, msg_len), std::as_bytes(std::span(&len, 1)));
        !s.ok()) {
      return RefuseSend(c, s.error());
    }
    mmsghdr first = msgs[0];
    first.msg_len = 0;
    auto copy = WriteHeaderNaming(c, first, t.reachable);
    if (!copy.ok()) return RefuseSend(c, copy.error());
    ++c.s.stats.fifo_restarts;
    return Decision::Restart(1, *copy, 2, 1, ECONNREFUSED);
  }
  return c.Kernel();
}

}  // namespace sandtrace::cow
