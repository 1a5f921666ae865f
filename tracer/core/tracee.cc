#include "tracer/core/tracee.h"

#include <linux/limits.h>
#include <unistd.h>

#include <cerrno>

#include "tracer/base/errors.h"

namespace sandtrace {

Result<ProcIds> Tracee::ReadProcIds() { return Err(ENOSYS, "ReadProcIds: not supported"); }

Result<int64_t> Tracee::SeekFd(int, int64_t, int) { return Err(ENOSYS, "SeekFd: not supported"); }

Result<int> Tracee::InstallFd(int, uint32_t, const InjectedFile&) {
  return Err(ENOSYS, "InstallFd: not supported");
}

Status Tracee::BindSocket(int, int, const std::string&, mode_t, const std::string&) {
  return Err(ENOSYS, "BindSocket: not supported");
}

Status Tracee::ConnectSocket(int, int, const std::string&) {
  return Err(ENOSYS, "ConnectSocket: not supported");
}

Result<int> Tracee::AddWatch(int, const std::string&, uint32_t) {
  return Err(ENOSYS, "AddWatch not supported by this Tracee");
}

Result<std::string> Tracee::ReadFileHead(int fd, size_t max) {
  std::string out(max, '\0');
  ssize_t n;
  do {
    n = pread(fd, out.data(), max, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError("pread");
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<uint64_t> Tracee::ReadStackPointer() {
  return Err(ENOSYS, "ReadStackPointer: not supported");
}

Result<std::string> ReadPathChecked(Tracee& tracee, uint64_t addr) {
  auto path = tracee.ReadString(addr, PATH_MAX);
  if (!tracee.IdValid()) return Err(ESRCH, "notification no longer valid");
  return path;
}

Status ReadExactChecked(Tracee& tracee, uint64_t addr, std::span<std::byte> out) {
  auto n = tracee.ReadMemory(addr, out);
  if (!tracee.IdValid()) return Err(ESRCH, "notification no longer valid");
  if (!n.ok()) return n.error();
  if (*n != out.size()) return Err(EFAULT, "short read of child memory");
  return OkStatus();
}

}  // namespace sandtrace
