#include "tracer/live_tracee.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "tracer/base/unix_address.h"
#include "tracer/core/kernel_abi.h"

namespace sandtrace {

namespace {

std::string ProcPath(pid_t tid, const char* what) {
  return "/proc/" + std::to_string(tid) + "/" + what;
}

}  // namespace

size_t FdCacheEntries() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 256;
  return std::clamp<size_t>(static_cast<size_t>(r.rlim_cur / 4), 16, 4096);
}

int MemFdCache::Get(pid_t tid) {
  auto it = fds_.find(tid);
  if (it != fds_.end()) return it->second.get();
  return Reopen(tid);
}

int MemFdCache::Reopen(pid_t tid) {
  fds_.erase(tid);
  // A bound on a long run's many short-lived processes; entries are cheap to
  // reopen.
  if (fds_.size() >= max_entries_) fds_.clear();
  int fd = open(ProcPath(tid, "mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
    // Out of fds: the cached ones are only a speed-up.
    fds_.clear();
    fd = open(ProcPath(tid, "mem").c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return -errno;
  fds_.emplace(tid, UniqueFd(fd));
  return fd;
}

Result<size_t> LiveTracee::RawRead(uint64_t addr, std::span<std::byte> out) {
  if (out.empty()) return size_t{0};
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = attempt == 0 ? cache_.Get(tid_) : cache_.Reopen(tid_);
    if (fd < 0) return Err(ESRCH, "open /proc/" + std::to_string(tid_) + "/mem");
    ssize_t n = pread(fd, out.data(), out.size(), static_cast<off_t>(addr));
    if (n > 0) return static_cast<size_t>(n);
    if (n < 0 && errno != EIO && errno != EFAULT && errno != EINVAL) {
      return ErrnoError("read child memory");
    }
    if (n < 0 && attempt == 1) return Err(EFAULT, "read child memory");
    // n == 0: the mm this fd refers to is gone (the tid exec'd); reopen.
    // n < 0 on a cached fd: the fd may still point at an mm that lives on
    // elsewhere, the parent's when the tid was a vfork child (dash runs
    // simple commands with vfork) before it exec'd; reopen once as well.
  }
  return Err(ESRCH, "read child memory");
}

Result<size_t> LiveTracee::ReadMemory(uint64_t addr, std::span<std::byte> out) {
  Touch();
  auto n = RawRead(addr, out);
  if (!CheckNow()) return Err(ESRCH, "notification no longer valid");
  return n;
}

Result<std::string> LiveTracee::ReadString(uint64_t addr, size_t max_len) {
  Touch();
  constexpr uint64_t kPage = 4096;
  std::string s;
  char buf[kPage];
  while (s.size() < max_len) {
    // Never cross a page in one read: the next page may be unmapped while
    // the string ends on this one.
    size_t chunk = std::min<uint64_t>(kPage - (addr % kPage), max_len - s.size());
    auto n = RawRead(addr, std::as_writable_bytes(std::span(buf, chunk)));
    if (!n.ok()) {
      if (!CheckNow()) return Err(ESRCH, "notification no longer valid");
      return n.error();
    }
    const char* nul = static_cast<const char*>(std::memchr(buf, 0, *n));
    if (nul != nullptr) {
      s.append(buf, nul - buf);
      if (!CheckNow()) return Err(ESRCH, "notification no longer valid");
      return s;
    }
    s.append(buf, *n);
    addr += *n;
  }
  if (!CheckNow()) return Err(ESRCH, "notification no longer valid");
  return Err(ENAMETOOLONG, "string in child memory");
}

namespace {

// Whether the task of `pidfd` lives on (a pidfd is readable once its task
// has exited).
bool Alive(const UniqueFd& pidfd) {
  pollfd p{pidfd.get(), POLLIN, 0};
  return poll(&p, 1, 0) == 0;
}

// A pidfd of thread `tid` (of its process before 6.9, where only a thread
// group leader has one); invalid with errno set when it cannot be had.
UniqueFd OpenThreadPidfd(pid_t tid) {
  long pidfd = syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
  if (pidfd < 0 && errno == EINVAL) pidfd = syscall(SYS_pidfd_open, tid, 0);
  return UniqueFd(pidfd < 0 ? -1 : static_cast<int>(pidfd));
}

// `name` in the supervisor's directory fd `dirfd`, as a path.
std::string ProcFdName(int dirfd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

}  // namespace

const std::string* CwdCache::Get(pid_t tid) {
  if (!SettleExited()) return nullptr;
  auto it = entries_.find(tid);
  if (it == entries_.end() || it->second.epoch != epoch_ || !Alive(it->second.pidfd)) {
    return nullptr;
  }
  return &it->second.target;
}

void CwdCache::Put(pid_t tid, const std::string& target) {
  if (!unsettled_.empty()) return;
  auto it = entries_.find(tid);
  if (it != entries_.end() && !Alive(it->second.pidfd)) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    UniqueFd pidfd = OpenThreadPidfd(tid);
    if (!pidfd) return;  // a thread on a kernel before 6.9: not cached
    if (entries_.size() >= max_entries_) entries_.clear();
    it = entries_.emplace(tid, Entry{std::move(pidfd), {}, 0}).first;
  }
  it->second.target = target;
  it->second.epoch = epoch_;
}

bool CwdCache::SettleExited() {
  for (size_t i = 0; i < unsettled_.size();) {
    if (unsettled_[i].second && !Alive(unsettled_[i].second)) {
      unsettled_.erase(unsettled_.begin() + static_cast<ptrdiff_t>(i));
      ++epoch_;
    } else {
      ++i;
    }
  }
  return unsettled_.empty();
}

void CwdCache::Settle(pid_t tid) {
  if (unsettled_.empty()) return;
  auto it = std::find_if(unsettled_.begin(), unsettled_.end(),
                         [tid](const auto& u) { return u.first == tid; });
  if (it == unsettled_.end()) return;
  unsettled_.erase(it);
  ++epoch_;
}

void CwdCache::Unsettle(pid_t tid) {
  ++epoch_;
  for (const auto& u : unsettled_) {
    if (u.first == tid) return;
  }
  unsettled_.emplace_back(tid, OpenThreadPidfd(tid));
}

const ProcIds* ProcIdsCache::Get(pid_t tid) const {
  auto it = entries_.find(tid);
  if (it == entries_.end() || !it->second.pidfd.valid()) return nullptr;
  return Alive(it->second.pidfd) ? &it->second.ids : nullptr;
}

void ProcIdsCache::Put(pid_t tid, const ProcIds& ids, UniqueFd pidfd) {
  if (entries_.size() >= max_entries_ && entries_.count(tid) == 0) entries_.clear();
  entries_[tid] = Entry{ids, std::move(pidfd)};
}

Result<std::string> LiveTracee::ReadProcLink(ProcLink which, int fd) {
  Touch();
  if (which == ProcLink::kCwd && cwd_ != nullptr) {
    // Nothing of the child was read: the pidfd Get polled has shown the
    // task is the one that cached it, so no ID_VALID is owed here.
    if (const std::string* hit = cwd_->Get(tid_)) return *hit;
  }
  std::string path;
  switch (which) {
    case ProcLink::kCwd:
      path = ProcPath(tid_, "cwd");
      break;
    case ProcLink::kRoot:
      path = ProcPath(tid_, "root");
      break;
    case ProcLink::kExe:
      path = ProcPath(tid_, "exe");
      break;
    case ProcLink::kFd:
      path = ProcPath(tid_, "fd/") + std::to_string(fd);
      break;
  }
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  int err = errno;
  const bool cache =
      which == ProcLink::kCwd && cwd_ != nullptr && n > 0 && static_cast<size_t>(n) < sizeof buf;
  // Cached before the check below, which then also shows that the pidfd
  // Put took is the notifying task's (it still waits in its syscall).
  if (cache) cwd_->Put(tid_, std::string(buf, static_cast<size_t>(n)));
  if (!CheckNow()) {
    if (cache) cwd_->Forget(tid_);
    return Err(ESRCH, "notification no longer valid");
  }
  if (n < 0) return Err(err, "readlink " + path);
  if (static_cast<size_t>(n) == sizeof buf) return Err(ENAMETOOLONG, "readlink " + path);
  return std::string(buf, static_cast<size_t>(n));
}

Result<mode_t> LiveTracee::ReadUmask() {
  Touch();
  std::string path = ProcPath(tid_, "status");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + path);
  UniqueFd owner(fd);
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (!CheckNow()) return Err(ESRCH, "notification no longer valid");
  if (n <= 0) return Err(EIO, "read " + path);
  buf[n] = 0;
  const char* p = std::strstr(buf, "\nUmask:");
  if (p == nullptr) return Err(EIO, "no Umask in " + path);
  return static_cast<mode_t>(std::strtoul(p + 7, nullptr, 8));
}

bool LiveTracee::CheckNow() {
  checked_ = listener_.IdValid(id_);
  return checked_;
}

bool LiveTracee::IdValid() {
  if (std::exchange(checked_, false)) return true;
  return listener_.IdValid(id_);
}

Result<size_t> LiveTracee::WriteMemory(uint64_t addr, std::span<const std::byte> data) {
  Touch();
  if (data.empty()) return size_t{0};
  iovec local{const_cast<std::byte*>(data.data()), data.size()};
  iovec remote{reinterpret_cast<void*>(addr), data.size()};
  ssize_t n = process_vm_writev(tid_, &local, 1, &remote, 1, 0);
  if (n < 0) return ErrnoError("write child memory");
  return static_cast<size_t>(n);
}

namespace {

// Reads a small /proc file whole (they fit in a page or two).
Result<std::string> ReadProcFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open " + path);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0) return ErrnoError("read " + path);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// The decimal number after "\n<key>:" in a /proc status text, or -1.
long long StatusField(const std::string& text, const char* key) {
  std::string k = std::string("\n") + key + ":";
  size_t at = text.find(k);
  if (at == std::string::npos) return -1;
  return std::strtoll(text.c_str() + at + k.size(), nullptr, 10);
}

}  // namespace

Result<ProcIds> LiveTracee::ReadProcIds() {
  Touch();
  if (ids_ != nullptr) {
    if (const ProcIds* hit = ids_->Get(tid_)) return *hit;
  }
  // Asked again for this tid: a pidfd taken before the read (which ID_VALID
  // then vouches for) lets the answer be cached.
  UniqueFd pidfd = ids_ != nullptr && ids_->WantsPidfd(tid_) ? OpenThreadPidfd(tid_) : UniqueFd();
  auto status = ReadProcFile(ProcPath(tid_, "status"));
  if (!status.ok()) {
    if (!CheckNow()) return Err(ESRCH, "notification no longer valid");
    return status.error();
  }
  ProcIds ids;
  long long tgid = StatusField(*status, "Tgid");
  long long ppid = StatusField(*status, "PPid");
  if (tgid <= 0 || ppid < 0) return Err(EIO, "no Tgid/PPid in /proc/<tid>/status");
  ids.tgid = static_cast<pid_t>(tgid);
  ids.ppid = static_cast<pid_t>(ppid);
  auto stat = ReadProcFile(ProcPath(ids.tgid, "stat"));
  if (stat.ok()) {
    // Field 22 (starttime), counted after the ")" that ends the command name.
    size_t paren = stat->rfind(')');
    if (paren != std::string::npos) {
      const char* p = stat->c_str() + paren + 1;
      for (int field = 3; field < 22 && *p != '\0'; ++field) {
        while (*p == ' ') ++p;
        while (*p != ' ' && *p != '\0') ++p;
      }
      ids.start_time = std::strtoull(p, nullptr, 10);
    }
  }
  if (!CheckNow()) return Err(ESRCH, "notification no longer valid");
  if (ids_ != nullptr) ids_->Put(tid_, ids, std::move(pidfd));
  return ids;
}

Result<UniqueFd> LiveTracee::ChildFd(int fd) {
  UniqueFd owner = OpenThreadPidfd(tid_);
  if (!owner.valid()) {
    const int err = errno;
    if (!CheckNow()) return Err(ESRCH, "notification no longer valid");
    return Err(err, "pidfd_open");
  }
  long dup = syscall(SYS_pidfd_getfd, owner.get(), fd, 0);
  if (dup < 0) {
    int err = errno;
    if (!CheckNow()) return Err(ESRCH, "notification no longer valid");
    return Err(err, "pidfd_getfd");
  }
  return UniqueFd(static_cast<int>(dup));
}

Result<int64_t> LiveTracee::SeekFd(int fd, int64_t offset, int whence) {
  Touch();
  auto child_fd = ChildFd(fd);
  if (!child_fd.ok()) return child_fd.error();
  off_t r = lseek(child_fd->get(), static_cast<off_t>(offset), whence);
  if (r < 0) return ErrnoError("lseek on the child's fd");
  return static_cast<int64_t>(r);
}

Result<int> LiveTracee::InstallFd(int srcfd, uint32_t fd_flags, const InjectedFile&) {
  Touch();
  seccomp_notif_addfd addfd{};
  addfd.id = id_;
  addfd.flags = 0;  // no SEND: the syscall stays pending
  addfd.srcfd = static_cast<__u32>(srcfd);
  addfd.newfd = 0;
  addfd.newfd_flags = fd_flags & O_CLOEXEC;
  for (;;) {
    int r = ioctl(listener_.fd(), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno == ENOENT) return Err(ESRCH, "notification no longer valid");
    return ErrnoError("SECCOMP_IOCTL_NOTIF_ADDFD");
  }
}

// Binds `sock` to `sa`, an absolute path whose directory is to be `dirfd`:
// a helper process takes a mount namespace of its own (and a user
// namespace first when not root), mounts `dirfd` over that directory (or,
// when the directory was made in the run, the matching ancestor of `dirfd`
// over the nearest ancestor that exists) and binds there, so the socket
// file is made in `dirfd` and the kernel keeps the child's path as its
// address. Returns 0, bind's errno, or -1 when the namespace or the mount
// could not be had (the caller binds otherwise).
static int BindUnderMount(int sock, const UnixAddress& sa, int dirfd, const std::string& address) {
  const std::string dir = address.substr(0, std::max<size_t>(address.find_last_of('/'), 1));
  // By path: an fd is of the old namespace's mount, which a bind mount in
  // the new one refuses.
  char source[PATH_MAX];
  const std::string self = "/proc/self/fd/" + std::to_string(dirfd);
  const ssize_t len = readlink(self.c_str(), source, sizeof source - 1);
  if (len <= 0 || source[0] != '/') return -1;
  source[len] = '\0';
  // (target, source) pairs, the directory itself first, then up to the
  // top level below "/" (never "/" itself).
  // The walk ends at the lower root at the latest (it exists); a target
  // that does not exist yet (made in the run) is passed over.
  std::vector<std::pair<std::string, std::string>> mounts;
  for (std::string target = dir, from = source;;) {
    mounts.emplace_back(target, from);
    const size_t t = target.find_last_of('/'), f = from.find_last_of('/');
    if (t == 0 || t == std::string::npos || f == 0 || f == std::string::npos) break;
    target.resize(t);
    from.resize(f);
  }
  const bool root = geteuid() == 0;
  const std::string uid_map = std::to_string(geteuid()) + " " + std::to_string(geteuid()) + " 1";
  const std::string gid_map = std::to_string(getegid()) + " " + std::to_string(getegid()) + " 1";
  constexpr int kNoNamespace = 255;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // Only system calls from here (a fork of a threaded process).
    if (unshare(root ? CLONE_NEWNS : CLONE_NEWUSER | CLONE_NEWNS) != 0) _exit(kNoNamespace);
    if (!root) {
      auto put = [](const char* file, const std::string& text) {
        int f = open(file, O_WRONLY | O_CLOEXEC);
        bool ok = f >= 0 && write(f, text.data(), text.size()) == static_cast<ssize_t>(text.size());
        if (f >= 0) close(f);
        return ok;
      };
      if (!put("/proc/self/setgroups", "deny") || !put("/proc/self/uid_map", uid_map) ||
          !put("/proc/self/gid_map", gid_map)) {
        _exit(kNoNamespace);
      }
    }
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(kNoNamespace);
    bool mounted = false;
    for (const auto& [target, from] : mounts) {
      if (mount(from.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0) {
        mounted = true;
        break;
      }
      if (errno != ENOENT) break;
    }
    if (!mounted) _exit(kNoNamespace);
    _exit(bind(sock, sa.get(), sa.len) == 0 ? 0
                                            : (errno > 0 && errno < kNoNamespace ? errno : EIO));
  }
  int status = 0;
  while (waitpid(pid, &status, __WALL) < 0) {
    if (errno != EINTR) return -1;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) == kNoNamespace) return -1;
  return WEXITSTATUS(status);
}

Status LiveTracee::BindSocket(int fd, int dirfd, const std::string& name, mode_t mode,
                              const std::string& address) {
  Touch();
  auto sock = ChildFd(fd);
  if (!sock.ok()) return sock.error();
  Status bound = OkStatus();
  auto sa = MakeUnixAddress(address);
  if (!address.empty() && !sa) return Err(ENAMETOOLONG, "socket path " + address);
  // Bound already (0), bind's errno, or -1: bound by no path of the child's.
  int by_address = -1;
  if (!address.empty() && address[0] == '/') {
    by_address = BindUnderMount(sock->get(), *sa, dirfd, address);
  } else if (!address.empty()) {
    // The kernel keeps the path bind(2) was given as the socket's address:
    // the child's own relative path, resolved from the directory it names
    // relative to (as many levels above `dirfd` as it has components
    // before the name), by a thread with a working directory of its own.
    std::string up = ".";
    for (char ch : address) {
      if (ch == '/') up += "/..";
    }
    auto bind_here = [&] {
      if (unshare(CLONE_FS) != 0) {
        bound = ErrnoError("unshare(CLONE_FS)");
        return;
      }
      UniqueFd from(openat(dirfd, up.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!from.valid()) {
        bound = ErrnoError("open " + up);
        return;
      }
      if (fchdir(from.get()) != 0) {
        bound = ErrnoError("fchdir");
        return;
      }
      if (bind(sock->get(), sa->get(), sa->len) != 0) bound = ErrnoError("bind");
    };
    try {
      std::thread(bind_here).join();
    } catch (const std::system_error& e) {
      return Err(e.code().value() != 0 ? e.code().value() : EAGAIN, "bind thread");
    }
    if (!bound.ok()) return bound;
    by_address = 0;
  }
  if (by_address > 0) return Err(by_address, "bind");
  if (by_address < 0) {
    // No address given, or no mount namespace to be had for an absolute
    // one: bound through the supervisor's fd of the directory.
    const std::string proc = ProcFdName(dirfd, name);
    auto pa = MakeUnixAddress(proc);
    if (!pa) return Err(ENAMETOOLONG, "socket path " + proc);
    if (bind(sock->get(), pa->get(), pa->len) != 0) return ErrnoError("bind");
  }
  if (fchmodat(dirfd, name.c_str(), mode & 07777, 0) != 0) return ErrnoError("chmod socket");
  return OkStatus();
}

Status LiveTracee::ConnectSocket(int fd, int dirfd, const std::string& name) {
  Touch();
  auto sock = ChildFd(fd);
  if (!sock.ok()) return sock.error();
  const std::string path = ProcFdName(dirfd, name);
  auto sa = MakeUnixAddress(path);
  if (!sa) return Err(ENAMETOOLONG, "socket path " + path);
  while (connect(sock->get(), sa->get(), sa->len) != 0) {
    if (errno != EINTR) return ErrnoError("connect");
  }
  return OkStatus();
}

Result<int> LiveTracee::AddWatch(int fd, const std::string& path, uint32_t mask) {
  Touch();
  auto instance = ChildFd(fd);
  if (!instance.ok()) return instance.error();
  int wd = inotify_add_watch(instance->get(), path.c_str(), mask);
  if (wd < 0) return ErrnoError("inotify_add_watch " + path);
  return wd;
}

Result<uint64_t> LiveTracee::ReadStackPointer() {
  Touch();
  // "nr arg0 ... arg5 sp pc" while the thread is blocked in a syscall.
  auto text = ReadProcFile(ProcPath(tid_, "syscall"));
  if (!CheckNow()) return Err(ESRCH, "notification no longer valid");
  if (!text.ok()) return text.error();
  const char* p = text->c_str();
  for (int field = 0; field < 7; ++field) {
    while (*p == ' ') ++p;
    while (*p != ' ' && *p != '\0') ++p;
  }
  char* end = nullptr;
  uint64_t sp = std::strtoull(p, &end, 16);
  if (end == p || sp == 0) return Err(EIO, "no stack pointer in /proc/<tid>/syscall");
  return sp;
}

}  // namespace sandtrace
