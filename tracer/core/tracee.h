// The Tracee seam (DESIGN.md §2): the only way a handler reaches the child.
//
// A Tracee is bound to one notification (its tid and id). Live, it is the
// kernel (process_vm_readv or /proc/<tid>/mem, SECCOMP_IOCTL_NOTIF_ID_VALID,
// readlink of /proc/<tid>/...), wrapped by the recorder, which logs every
// call and its result in order. In replay, a RecordedTracee serves those
// results back and fails the event if the handler asks for anything else, or
// in another order. So a handler must call these, and nothing else, to learn
// about the child, and must call them deterministically.
//
// TOCTOU: the child (or another thread of it) may change its memory right
// after a read. Handlers must call IdValid() after reading and before using
// what they read (ReadPathChecked does both), and must never CONTINUE a
// mutating operation on the workdir based on what they read.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "tracer/base/result.h"

namespace sandtrace {

// The /proc/<tid>/... magic links a handler may read.
enum class ProcLink : uint8_t {
  kCwd,   // /proc/<tid>/cwd
  kFd,    // /proc/<tid>/fd/<fd>
  kRoot,  // /proc/<tid>/root
  kExe,   // /proc/<tid>/exe
};

class Tracee {
 public:
  virtual ~Tracee() = default;

  // Reads up to out.size() bytes at `addr` in the child. Returns the number
  // of bytes read (possibly fewer at the end of a mapping), or EFAULT/ESRCH.
  virtual Result<size_t> ReadMemory(uint64_t addr, std::span<std::byte> out) = 0;

  // Reads a NUL-terminated string at `addr` of at most `max_len` bytes
  // including the NUL (PATH_MAX for paths). ENAMETOOLONG if no NUL within
  // max_len, EFAULT for a bad address. The NUL is not included.
  virtual Result<std::string> ReadString(uint64_t addr, size_t max_len) = 0;

  // The target of /proc/<tid>/<which> (fd is used only for kFd).
  virtual Result<std::string> ReadProcLink(ProcLink which, int fd) = 0;

  // The child's file-mode creation mask (from /proc/<tid>/status).
  virtual Result<mode_t> ReadUmask() = 0;

  // True while the notification is still pending (the child is still
  // blocked in this syscall), i.e. what was read so far is still relevant.
  virtual bool IdValid() = 0;

  // Writes `data` at `addr` in the child. Returns bytes written or an errno.
  virtual Result<size_t> WriteMemory(uint64_t addr, std::span<const std::byte> data) = 0;
};

// ReadString(addr, PATH_MAX) followed by the ID_VALID check: returns ESRCH
// (as an expected outcome) if the notification died meanwhile.
Result<std::string> ReadPathChecked(Tracee& tracee, uint64_t addr);

// ReadMemory of exactly out.size() bytes (EFAULT if short), then ID_VALID.
Status ReadExactChecked(Tracee& tracee, uint64_t addr, std::span<std::byte> out);

}  // namespace sandtrace
