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

#include <string>
#include <unordered_map>
#include <vector>

#include "tracer/base/unique_fd.h"
#include "tracer/core/tracee.h"
#include "tracer/unotify.h"

namespace sandtrace {

// How many fds each of the caches below may hold: a quarter of the soft
// RLIMIT_NOFILE when it is made (the supervisor raises it first), between
// 16 and 4096, so that together they leave room for the fds the handlers
// need (an open they make for the child must not fail with EMFILE).
size_t FdCacheEntries();

class MemFdCache {
 public:
  // The cached fd for `tid` (opening it if needed), or -errno.
  int Get(pid_t tid);
  // Drops and reopens the fd for `tid`; returns it or -errno.
  int Reopen(pid_t tid);
  void Forget(pid_t tid) { fds_.erase(tid); }
  size_t size() const { return fds_.size(); }

 private:
  const size_t max_entries_ = FdCacheEntries();
  std::unordered_map<pid_t, UniqueFd> fds_;
};

// CwdCache: the last /proc/<tid>/cwd target read for each tid, so that the
// handlers' many relative paths do not each cost a readlink (~2.5 us, most
// of a stat's handler time). An entry answers only while nothing can have
// changed the target:
//   - the task is the same: a pidfd taken with the first read still shows
//     it alive (one poll, ~0.3 us), so a reused tid misses;
//   - no cwd or directory path changed since: Supervisor calls Unsettle for
//     every notification that can change a cwd (chdir, fchdir) or the real
//     path of a directory (rename*, rmdir, unlinkat with AT_REMOVEDIR),
//     which drops every entry; and as the kernel may complete such a call
//     after the answer (CONTINUE), nothing is cached or answered until
//     that task's next notification (Settle) or its exit (seen on a pidfd
//     taken at Unsettle) shows it returned. A task that never comes back
//     only leaves the cache off.
// Misses fall back to readlink (then ID_VALID, as after every read); a hit
// reads nothing of the child and needs no ID_VALID. The supervisor passes
// the cache to LiveTracee only when its handler sets notify every one of
// those syscalls, every time (the COW set does); otherwise a chdir could
// go unseen.
class CwdCache {
 public:
  // The cached target for `tid`, or nullptr.
  const std::string* Get(pid_t tid);
  void Put(pid_t tid, const std::string& target);
  // A notification from `tid`: its previous syscall has returned.
  void Settle(pid_t tid);
  // `tid` is in a syscall that may change a cwd or a directory's path.
  void Unsettle(pid_t tid);
  void Forget(pid_t tid) { entries_.erase(tid); }
  size_t size() const { return entries_.size(); }

 private:
  const size_t max_entries_ = FdCacheEntries();
  struct Entry {
    UniqueFd pidfd;
    std::string target;
    uint64_t epoch = 0;
  };
  // Settles the unsettled tasks that have exited; true if none is left.
  bool SettleExited();
  std::unordered_map<pid_t, Entry> entries_;
  std::vector<std::pair<pid_t, UniqueFd>> unsettled_;
  uint64_t epoch_ = 1;
};

// ProcIdsCache: ReadProcIds answers for a tid asked again. The COW
// handlers ask on every notification of a process with a virtual cwd (to
// tell a reused pid from the process that had it), and reading
// /proc/<tid>/status and /proc/<tgid>/stat costs ~20 us, most of such a
// notification's handler time. The second read of a tid takes a pidfd
// first (then reads, then ID_VALID: the pidfd is of the very task that
// notified); later reads are answered from the entry while that pidfd shows
// the task alive (one poll). A thread on a kernel before 6.9 (no
// PIDFD_THREAD) is not cached. The answer is the first one: a ppid that
// changed since (the parent died) is not seen, which the handlers do not
// need (they use it when they first see a process).
class ProcIdsCache {
 public:
  // The cached ids of `tid` if its task is alive, else nullptr.
  const ProcIds* Get(pid_t tid) const;
  // Whether a read of `tid` should take a pidfd first (seen before).
  bool WantsPidfd(pid_t tid) const { return entries_.count(tid) != 0; }
  void Put(pid_t tid, const ProcIds& ids, UniqueFd pidfd);
  void Forget(pid_t tid) { entries_.erase(tid); }
  size_t size() const { return entries_.size(); }

 private:
  const size_t max_entries_ = FdCacheEntries();
  struct Entry {
    ProcIds ids;
    UniqueFd pidfd;  // invalid: seen once, not cached yet
  };
  std::unordered_map<pid_t, Entry> entries_;
};

class LiveTracee final : public Tracee {
 public:
  LiveTracee(const Listener& listener, MemFdCache& cache, uint64_t id, pid_t tid,
             CwdCache* cwd = nullptr, ProcIdsCache* ids = nullptr)
      : listener_(listener), cache_(cache), cwd_(cwd), ids_(ids), id_(id), tid_(tid) {}

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
  Status BindSocket(int fd, int dirfd, const std::string& name, mode_t mode,
                    const std::string& address) override;
  Status ConnectSocket(int fd, int dirfd, const std::string& name) override;
  Result<int> AddWatch(int fd, const std::string& path, uint32_t mask) override;
  Result<int> InstallFd(int srcfd, uint32_t fd_flags, const InjectedFile& what) override;
  Result<uint64_t> ReadStackPointer() override;

 private:
  // The supervisor's own copy of the child's fd (pidfd_getfd).
  Result<UniqueFd> ChildFd(int fd);
  // pread on the cached mem fd, reopening once on a stale (0-byte) read.
  Result<size_t> RawRead(uint64_t addr, std::span<std::byte> out);

  // Starts every Tracee operation but IdValid: a check made before it no
  // longer answers for what comes after.
  void Touch() { checked_ = false; }
  // The kernel's answer to ID_VALID (one ioctl).
  bool CheckNow();

  const Listener& listener_;
  MemFdCache& cache_;
  CwdCache* cwd_;      // may be null: no caching
  ProcIdsCache* ids_;  // may be null: no caching
  uint64_t id_;
  pid_t tid_;
  // The last operation ended with a successful ID_VALID of its own (reads
  // check after reading): the caller's IdValid() right after it is answered
  // from that, once, instead of by a second ioctl back to back
  // (ReadPathChecked and the xattr-name reads ask exactly then).
  bool checked_ = false;
};

}  // namespace sandtrace
