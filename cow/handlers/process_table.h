// ProcessTable: which process each notifying thread belongs to, and the
// processes whose working directory is virtual.
//
// Why a virtual cwd: the kernel lets a process chdir only to a directory
// that really exists, and a handler cannot change the syscall's arguments.
// When the child changes into a directory the kernel cannot reach by the
// same path (it exists only in the upper layer, e.g. `mkdir build && cd
// build`), the handler answers chdir with success and records the view path
// here as the process's virtual cwd; its real cwd stays where it was. From
// then on every notified syscall of that process that resolves a path
// relative to AT_FDCWD uses the virtual cwd, and none of them is CONTINUEd
// (the kernel would use the stale real cwd). The virtual cwd ends when the
// process changes directory in a way the kernel can follow (an absolute
// chdir to a directory the kernel reaches, fchdir).
//
// A removed virtual cwd: when the directory is removed (rmdir, or a rename
// that replaces it), the process stays in it as the kernel keeps a process
// in its deleted cwd: getcwd fails with ENOENT, names cannot be looked up
// in it, and ".." still leads to the directory it was removed from (which
// follows renames of that directory). A directory made later at the same
// path is another one.
//
// Inheritance: a process is registered the first time one of its threads
// sends a notification (Tracee::ReadProcIds: thread group, parent and start
// time). A process first seen while its parent has a virtual cwd inherits
// it, as a forked child inherits its parent's cwd. Threads share their
// process's entry.
//
// Limits (documented in the README of cow/handlers): a child forked before
// its parent's virtual chdir but first seen after it inherits the new
// directory; syscalls that are not notified (bind/connect on AF_UNIX paths,
// statfs...) resolve relative paths against the stale
// real cwd; a tid reused by a new process is recognised by its start time
// only when its cached process has a virtual cwd (that is when it matters).
//
// Thread-safety: none. Deterministic given the Tracee's answers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "tracer/core/tracee.h"

namespace sandtrace::cow {

class ProcessTable {
 public:
  static constexpr size_t kMaxThreads = 1 << 16;

  // Registers the notifying thread if it is new (and re-checks it when its
  // process has a virtual cwd). Returns its thread group id, or 0 if the
  // Tracee cannot tell (then the thread has no virtual cwd).
  pid_t Observe(uint32_t tid, Tracee& tracee);

  // The virtual cwd (a view path) of process `tgid`, if it has one.
  const std::string* VirtualCwd(pid_t tgid) const;
  // The directory's view path as it was when it was removed.
  bool VirtualCwdRemoved(pid_t tgid) const;
  void SetVirtualCwd(pid_t tgid, std::string view_path, bool removed = false);
  void ClearVirtualCwd(pid_t tgid);
  // The directory at view path `dir` was removed: the virtual cwds that
  // were it are now removed ones.
  void RemoveVirtualCwds(const std::string& dir);
  bool any_virtual_cwd() const { return virtual_count_ > 0; }
  // A directory of the view moved from `from` to `to` (and, with exchange,
  // `to` to `from`): virtual cwds in it follow it, as a real cwd follows
  // its directory.
  void MoveVirtualCwds(const std::string& from, const std::string& to, bool exchange);

  // The file-mode creation mask of process `tgid` as last learned (read
  // from /proc, or seen passing through umask(2), which is notified).
  const mode_t* Umask(pid_t tgid) const;
  void SetUmask(pid_t tgid, mode_t mask);

  size_t threads() const { return threads_.size(); }
  size_t processes() const { return procs_.size(); }

 private:
  struct Proc {
    uint64_t start_time = 0;
    std::optional<std::string> vcwd;
    bool vcwd_removed = false;  // vcwd names where a removed directory was
    std::optional<mode_t> umask;
  };
  void Register(uint32_t tid, const ProcIds& ids);

  std::unordered_map<uint32_t, pid_t> threads_;  // tid -> tgid
  std::unordered_map<pid_t, Proc> procs_;        // tgid -> process
  size_t virtual_count_ = 0;
};

}  // namespace sandtrace::cow
