#include "cow/handlers/process_table.h"

namespace sandtrace::cow {

void ProcessTable::Register(uint32_t tid, const ProcIds& ids) {
  if (threads_.size() >= kMaxThreads) {
    // A long run's many short-lived threads: forget them all (they are
    // looked up again on their next notification). Processes with a
    // virtual cwd are kept.
    threads_.clear();
    for (auto it = procs_.begin(); it != procs_.end();) {
      it = it->second.vcwd ? std::next(it) : procs_.erase(it);
    }
  }
  threads_[tid] = ids.tgid;
  auto it = procs_.find(ids.tgid);
  if (it != procs_.end() && it->second.start_time == ids.start_time) return;
  // A process seen for the first time (or a reused pid): it starts where
  // its parent is, as fork does.
  Proc proc;
  proc.start_time = ids.start_time;
  auto parent = procs_.find(ids.ppid);
  if (parent != procs_.end() && parent->second.vcwd) {
    proc.vcwd = parent->second.vcwd;
    proc.vcwd_removed = parent->second.vcwd_removed;
  }
  if (it != procs_.end()) {
    if (it->second.vcwd) --virtual_count_;
    it->second = std::move(proc);
  } else {
    it = procs_.emplace(ids.tgid, std::move(proc)).first;
  }
  if (it->second.vcwd) ++virtual_count_;
}

pid_t ProcessTable::Observe(uint32_t tid, Tracee& tracee) {
  auto it = threads_.find(tid);
  if (it != threads_.end()) {
    auto proc = procs_.find(it->second);
    if (proc == procs_.end() || !proc->second.vcwd) return it->second;
    // The cached process has a virtual cwd: make sure the tid still belongs
    // to it (pids are reused) before it is used.
  }
  auto ids = tracee.ReadProcIds();
  if (!ids.ok() || ids->tgid <= 0) {
    threads_[tid] = 0;  // unknown: not asked again
    return 0;
  }
  Register(tid, *ids);
  return ids->tgid;
}

const std::string* ProcessTable::VirtualCwd(pid_t tgid) const {
  if (virtual_count_ == 0 || tgid <= 0) return nullptr;
  auto it = procs_.find(tgid);
  return it != procs_.end() && it->second.vcwd ? &*it->second.vcwd : nullptr;
}

void ProcessTable::SetVirtualCwd(pid_t tgid, std::string view_path, bool removed) {
  if (tgid <= 0) return;
  Proc& p = procs_[tgid];
  if (!p.vcwd) ++virtual_count_;
  p.vcwd = std::move(view_path);
  p.vcwd_removed = removed;
}

bool ProcessTable::VirtualCwdRemoved(pid_t tgid) const {
  if (virtual_count_ == 0 || tgid <= 0) return false;
  auto it = procs_.find(tgid);
  return it != procs_.end() && it->second.vcwd && it->second.vcwd_removed;
}

void ProcessTable::RemoveVirtualCwds(const std::string& dir) {
  if (virtual_count_ == 0) return;
  for (auto& [tgid, p] : procs_) {
    if (p.vcwd && *p.vcwd == dir) p.vcwd_removed = true;
  }
}

const mode_t* ProcessTable::Umask(pid_t tgid) const {
  if (tgid <= 0) return nullptr;
  auto it = procs_.find(tgid);
  return it != procs_.end() && it->second.umask ? &*it->second.umask : nullptr;
}

void ProcessTable::SetUmask(pid_t tgid, mode_t mask) {
  if (tgid <= 0) return;
  auto it = procs_.find(tgid);
  if (it != procs_.end()) it->second.umask = mask & 0777;
}

void ProcessTable::MoveVirtualCwds(const std::string& from, const std::string& to, bool exchange) {
  if (virtual_count_ == 0) return;
  // `path` is `dir` or lies under it (view paths: "" is the root).
  auto within = [](const std::string& path, const std::string& dir) {
    if (dir.empty()) return true;
    return path.compare(0, dir.size(), dir) == 0 &&
           (path.size() == dir.size() || path[dir.size()] == '/');
  };
  auto rebase = [](const std::string& path, const std::string& old_dir,
                   const std::string& new_dir) {
    std::string rest = path.substr(old_dir.size());
    if (new_dir.empty() && !rest.empty()) rest.erase(0, 1);  // "/x" under the root is "x"
    return new_dir + rest;
  };
  for (auto& [tgid, p] : procs_) {
    if (!p.vcwd) continue;
    // A removed cwd moves only with the directories above it: the one now
    // at its own path is another directory.
    if (p.vcwd_removed && (*p.vcwd == from || (exchange && *p.vcwd == to))) continue;
    if (within(*p.vcwd, from)) {
      p.vcwd = rebase(*p.vcwd, from, to);
    } else if (exchange && within(*p.vcwd, to)) {
      p.vcwd = rebase(*p.vcwd, to, from);
    }
  }
}

void ProcessTable::ClearVirtualCwd(pid_t tgid) {
  auto it = procs_.find(tgid);
  if (it == procs_.end() || !it->second.vcwd) return;
  it->second.vcwd.reset();
  it->second.vcwd_removed = false;
  --virtual_count_;
}

}  // namespace sandtrace::cow
