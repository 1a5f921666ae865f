#include "cow/handlers/cow_session.h"
#include "cow/fs_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cow/handlers/handlers.h"
#include "cow/storage.h"

namespace sandtrace::cow {

Status RegisterCowHandlers(std::shared_ptr<SessionState> state, HandlerRegistry& registry,
                           std::string_view set);

namespace {

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  if (realpath(p.c_str(), buf) == nullptr) return {};
  return buf;
}

bool IsEmptyDir(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return false;
  char buf[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, fd.get(), buf, sizeof buf);
    if (n < 0) return false;
    if (n == 0) return true;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      std::string_view name = d->d_name;
      if (name != "." && name != "..") return false;
      off += d->d_reclen;
    }
  }
}

// The storage area for options.storage: created 0700 if missing, else it
// must be an empty directory.
Result<std::string> PrepareStorage(const std::string& requested) {
  if (requested.empty()) return CreateStorageArea();
  if (mkdir(requested.c_str(), 0700) != 0 && errno != EEXIST) {
    return Err(EINVAL, "--storage " + requested + ": " + std::strerror(errno));
  }
  std::string real = RealPath(requested);
  if (real.empty()) return Err(EINVAL, "--storage " + requested + ": " + std::strerror(errno));
  struct stat st {};
  if (stat(real.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Err(EINVAL, "--storage " + requested + " is not a directory");
  }
  if (!IsEmptyDir(real)) return Err(EINVAL, "--storage " + requested + " is not empty");
  return real;
}

}  // namespace

// ---- SessionState -------------------------------------------------------------------------

void SessionState::Warn(std::string message) {
  if (warnings.size() >= 100) return;
  if (std::find(warnings.begin(), warnings.end(), message) != warnings.end()) return;
  warnings.push_back(std::move(message));
}

void SessionState::NoteServedPosition(int64_t pos) {
  if (!served_positions.insert(pos).second) return;
  served_positions_fifo.push_back(pos);
  if (served_positions_fifo.size() > kMaxServedPositions) {
    served_positions.erase(served_positions_fifo.front());
    served_positions_fifo.pop_front();
  }
}

Result<UniqueFd> SessionState::LowerDirAt(std::string_view view, bool path_only) const {
  open_how how{};
  how.flags = (path_only ? O_PATH : O_RDONLY) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  std::string rel = view.empty() ? "." : std::string(view);
  long fd = syscall(SYS_openat2, lower_fd.get(), rel.c_str(), &how, sizeof how);
  if (fd < 0) return ErrnoError("lower directory " + rel);
  return UniqueFd(static_cast<int>(fd));
}

bool SessionState::OutsideWritable(const std::string& real) const {
  for (const std::string& w : writable_paths) {
    if (fs::PathWithin(real, w)) return true;
  }
  if (!private_tmpdir.empty()) return fs::PathWithin(real, private_tmpdir);
  // Not told which (a session used without the supervisor, a trace made
  // before the policy named it): a private TMPDIR, <base>/sandtrace-XXXXXX,
  // ours, 0700 (tracer/supervisor.cc makes it with mkdtemp).
  for (const std::string& base : tmpdir_bases) {
    if (!fs::PathWithin(real, base) || real.size() <= base.size() + 1) continue;
    std::string rest = real.substr(base == "/" ? 1 : base.size() + 1);
    std::string top = rest.substr(0, rest.find('/'));
    if (top.size() != 16 || top.compare(0, 10, "sandtrace-") != 0) continue;
    struct stat st {};
    std::string dir = base + "/" + top;
    if (lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 07777) == 0700) {
      return true;
    }
  }
  return false;
}

bool SessionState::OutsideReadable(const std::string& real) const {
  if (readable_paths.empty()) return true;
  for (const std::string& r : readable_paths) {
    if (fs::PathWithin(real, r)) return true;
  }
  return OutsideWritable(real);  // what the child may write it may read
}

void SessionState::RemeasureRecent() {
  for (const std::string& path : recent_writes) {
    (void)overlay->Remeasure(Base::Root(), path.empty() ? "." : path);
  }
  recent_writes.clear();
}

// ---- CowSession ---------------------------------------------------------------------------

CowSession::CowSession(std::shared_ptr<SessionState> state) : state_(std::move(state)) {}
CowSession::~CowSession() = default;

Result<std::unique_ptr<CowSession>> CowSession::Create(const CowSessionOptions& options) {
  const std::string requested = options.workdir.empty() ? "." : options.workdir;
  std::string workdir = RealPath(requested);
  if (workdir.empty()) return Err(EINVAL, "workdir " + requested + ": " + std::strerror(errno));
  struct stat st {};
  if (stat(workdir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Err(EINVAL, "workdir " + requested + " is not a directory");
  }
  if (workdir == "/") {
    return Err(EINVAL, "refusing / as the workdir (give -C/--workdir a directory below it)");
  }
  auto storage = PrepareStorage(options.storage);
  if (!storage.ok()) return storage.error();
  if (fs::PathWithin(*storage, workdir) || fs::PathWithin(workdir, *storage)) {
    // A default area we just created: remove it again.
    if (options.storage.empty()) (void)RemoveTree(*storage);
    return Err(EINVAL, "the storage area " + *storage + " is inside the workdir " + workdir +
                           " (or contains it): choose another with --storage DIR");
  }
  OverlayOptions oo;
  oo.quota_bytes = options.quota_bytes;
  oo.unify_device = options.unify_device;
  oo.observer = options.observer;
  if (options.check_permissions) {
    Credentials creds;
    creds.uid = geteuid();
    creds.gid = getegid();
    int n = getgroups(0, nullptr);
    if (n > 0) {
      creds.groups.resize(static_cast<size_t>(n));
      n = getgroups(n, creds.groups.data());
      creds.groups.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
    oo.creds = std::move(creds);
  }
  auto overlay = Overlay::Create(OverlayPaths{workdir, *storage}, oo);
  if (!overlay.ok()) {
    if (options.storage.empty()) (void)RemoveTree(*storage);
    return overlay.error();
  }
  auto state = std::make_shared<SessionState>();
  state->overlay = std::move(*overlay);
  state->quota = options.quota_bytes > 0;
  for (const std::string& w : options.writable_paths) {
    std::string real = options.paths_canonical ? w : RealPath(w);
    if (!real.empty()) state->writable_paths.push_back(real);
  }
  for (const std::string& r : options.readable_paths) {
    std::string real = options.paths_canonical ? r : RealPath(r);
    if (!real.empty()) state->readable_paths.push_back(real);
  }
  std::vector<std::string> bases;
  if (const char* t = getenv("TMPDIR"); t != nullptr && t[0] == '/') bases.emplace_back(t);
  for (const char* b : {"/tmp", "/dev/shm", "/var/tmp"}) bases.emplace_back(b);
  for (const std::string& b : bases) {
    std::string real = RealPath(b);
    if (!real.empty()) state->tmpdir_bases.push_back(real);
  }
  state->private_tmpdir = options.private_tmpdir;
  state->recorded_workdir = options.recorded_workdir;
  state->lower_root = state->overlay->lower_root();
  state->upper_root = state->overlay->upper_root();
  state->storage_root = state->overlay->storage_root();
  state->lower_fd = UniqueFd(open(state->lower_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!state->lower_fd.valid()) return ErrnoError("open workdir " + state->lower_root);
  state->apply_outside_metadata = options.apply_outside_metadata;
  // The run's own /dev/shm (handlers_shm.cc), unless -w gives the host's.
  if (!state->OutsideWritable("/dev/shm")) {
    state->shm_root = state->storage_root + "/shm";
    // 1777 as the host's (the storage area around it is private).
    if (mkdir(state->shm_root.c_str(), 01777) != 0 && errno != EEXIST) {
      return ErrnoError("mkdir " + state->shm_root);
    }
    (void)chmod(state->shm_root.c_str(), 01777);  // past the umask
    state->shm_fd = UniqueFd(open(state->shm_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!state->shm_fd.valid()) return ErrnoError("open " + state->shm_root);
  }
  bool dev_fd = false;
  if (options.dev_fd_is_proc.has_value()) {
    dev_fd = *options.dev_fd_is_proc;
  } else {
    char link[64];
    ssize_t n = readlink("/dev/fd", link, sizeof link - 1);
    dev_fd = n > 0 && std::string_view(link, static_cast<size_t>(n)) == "/proc/self/fd";
  }
  if (dev_fd) {
    state->dev_fd_is_proc = true;
    state->self_fd_prefix = "/dev/fd/";
  }
  return std::unique_ptr<CowSession>(new CowSession(std::move(state)));
}

Status CowSession::Register(HandlerRegistry& registry, std::string_view set) {
  if (Status st = RegisterCowHandlers(state_, registry, set); !st.ok()) return st;
  // The run's own TMPDIR, once the supervisor has made it.
  registry.AddRunListener([state = state_](const HandlerRegistry::RunInfo& run) {
    if (!run.tmpdir.empty()) state->private_tmpdir = run.tmpdir;
  });
  return OkStatus();
}

const std::string& CowSession::private_tmpdir() const { return state_->private_tmpdir; }

Overlay& CowSession::overlay() { return *state_->overlay; }
const std::string& CowSession::workdir() const { return state_->lower_root; }
const std::string& CowSession::storage() const { return state_->storage_root; }
const std::string& CowSession::fifo_dir() const { return state_->overlay->fifo_dir(); }

bool CowSession::unify_device() const { return state_->overlay->unify_device(); }
const std::vector<std::string>& CowSession::writable_paths() const {
  return state_->writable_paths;
}
const std::vector<std::string>& CowSession::readable_paths() const {
  return state_->readable_paths;
}
const CowStats& CowSession::stats() const { return state_->stats; }

std::vector<std::string> CowSession::TakeWarnings() {
  std::vector<std::string> out;
  out.swap(state_->warnings);
  return out;
}

std::string RefusedWritesNote(const CowStats& s) {
  if (s.outside_writes == 0) return "";
  return "note: the sandbox refused " + std::to_string(s.outside_writes) +
         (s.outside_writes == 1 ? " write" : " writes") +
         " outside the workdir (first: " + s.first_outside_write +
         "); -w DIR allows writes beneath DIR\n";
}

std::string FormatStats(const CowStats& s, const ArchTable& table) {
  char line[512];
  std::string out;
  std::snprintf(line, sizeof line,
                "cow: %" PRIu64 " notifications: %" PRIu64 " continued (%" PRIu64
                " before any change, %" PRIu64 " by the cheap walk), %" PRIu64 " answered, %" PRIu64
                " fds injected; %" PRIu64 " decided with the engine\n",
                s.notifications, s.continued, s.pristine, s.fast, s.emulated, s.injected, s.engine);
  out += line;
  std::snprintf(line, sizeof line,
                "cow: %" PRIu64 " stat calls with AT_EMPTY_PATH and a dirfd (fstat), %" PRIu64
                " exec rewrites (%" PRIu64 " by a restart), %" PRIu64
                " FIFO opens and socket connects or sends handed to the child, %" PRIu64
                " virtual chdirs, %" PRIu64 " getdents served, %" PRIu64
                " metadata changes outside the workdir, %" PRIu64
                " outside objects reached through the view, %" PRIu64 " tmpfile(3)s of /tmp\n",
                s.empty_path, s.exec_rewrites, s.exec_restarts, s.fifo_restarts, s.virtual_chdirs,
                s.getdents_served, s.outside_metadata, s.detoured, s.host_tmpfiles);
  out += line;
  std::vector<std::pair<uint64_t, int>> by;
  for (size_t nr = 0; nr < s.by_nr.size(); ++nr) {
    if (s.by_nr[nr] > 0) by.emplace_back(s.by_nr[nr], static_cast<int>(nr));
  }
  std::sort(by.rbegin(), by.rend());
  if (!by.empty()) {
    out += "cow: by syscall:";
    for (const auto& [count, nr] : by) out += " " + table.NameOf(nr) + "=" + std::to_string(count);
    out += "\n";
  }
  return out;
}

}  // namespace sandtrace::cow
