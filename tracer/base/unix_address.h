// A named AF_UNIX socket address for a path, as bind(2), connect(2) and
// sendto(2) take it. The one place that builds one (the supervisor's own
// binds and connects, and the copies handed to a restarted syscall).
#pragma once

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <optional>
#include <string_view>

namespace sandtrace {

struct UnixAddress {
  sockaddr_un sa{};
  socklen_t len = 0;  // up to and including the path's NUL
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&sa); }
};

// nullopt when `path` does not fit in sun_path (with its NUL).
inline std::optional<UnixAddress> MakeUnixAddress(std::string_view path) {
  UnixAddress a;
  if (path.size() >= sizeof a.sa.sun_path) return std::nullopt;
  a.sa.sun_family = AF_UNIX;
  std::memcpy(a.sa.sun_path, path.data(), path.size());
  a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return a;
}

}  // namespace sandtrace
