// LiveTracee: the Tracee seam (tracer/core/tracee.h) over the kernel.
//
// Reads go through one cached /proc/<tid>/mem fd per tracee (MemFdCache)
// rather than an open per read (measured ~1.8 us against ~6.7 us per read);
// writes use process_vm_writev, which, unlike /proc/<tid>/mem, honours page
// protections as the kernel would for the child's own syscall. Every read of
// child memory or of /proc/<tid>/... is followed by SECCOMP_IOCTL_NOTIF_ID_VALID
// before it is returned: if the notification died meanwhile (the tid may
// already belong to another process) the read fails with ESRCH.
//
// Stale cache entries: after an execve the old mm is gone and a read returns
// 0 bytes; the entry is then reopened once. The supervisor forgets a tid's
// entry when it reaps that process. TODO(security): a thread that exits while
// its process lives on leaves an entry that a new task could reuse after a
// pid wrap-around; both tasks are sandboxed, so this can only mislead a
// handler with memory the sandbox controls anyway.
//
// Ownership: LiveTracee borrows the Listener and the cache; it is built per
// notification, on the stack. Thread-safety: one thread.
#pragma once

#include <sys/types.h>

#include <unordered_map>

#include "tracer/base/unique_fd.h"
#include "tracer/core/tracee.h"
#include "tracer/unotify.h"

namespace sandtrace {

class MemFdCache {
 public:
  // The cached fd for `tid` (opening it if needed), or -errno.
  int Get(pid_t tid);
  // Drops and reopens the fd for `tid`; returns it or -errno.
  int Reopen(pid_t tid);
  void Forget(pid_t tid) { fds_.erase(tid); }
  size_t size() const { return fds_.size(); }

 private:
  static constexpr size_t kMaxEntries = 4096;
  std::unordered_map<pid_t, UniqueFd> fds_;
};

class LiveTracee final : public Tracee {
 public:
  LiveTracee(const Listener& listener, MemFdCache& cache, uint64_t id, pid_t tid)
      : listener_(listener), cache_(cache), id_(id), tid_(tid) {}

  Result<size_t> ReadMemory(uint64_t addr, std::span<std::byte> out) override;
  Result<std::string> ReadString(uint64_t addr, size_t max_len) override;
  Result<std::string> ReadProcLink(ProcLink which, int fd) override;
  Result<mode_t> ReadUmask() override;
  bool IdValid() override;
  Result<size_t> WriteMemory(uint64_t addr, std::span<const std::byte> data) override;
  Result<ProcIds> ReadProcIds() override;
  // Through a duplicate of the child's fd (pidfd_getfd): the offset lives
  // in the shared open file description.
  Result<int64_t> SeekFd(int fd, int64_t offset, int whence) override;
  Status BindSocket(int fd, int dirfd, const std::string& name, mode_t mode) override;
  Status ConnectSocket(int fd, int dirfd, const std::string& name) override;
  Result<int> InstallFd(int srcfd, uint32_t fd_flags, const InjectedFile& what) override;
  Result<uint64_t> ReadStackPointer() override;

 private:
  // The supervisor's own copy of the child's fd (pidfd_getfd).
  Result<UniqueFd> ChildFd(int fd);
  // pread on the cached mem fd, reopening once on a stale (0-byte) read.
  Result<size_t> RawRead(uint64_t addr, std::span<std::byte> out);

  const Listener& listener_;
  MemFdCache& cache_;
  uint64_t id_;
  pid_t tid_;
};

}  // namespace sandtrace
