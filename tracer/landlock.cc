#include "tracer/landlock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "tracer/core/kernel_abi.h"

namespace sandtrace {

namespace {

constexpr uint64_t kRead =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
// Rights that make sense on a file (not a directory) rule.
constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                 LANDLOCK_ACCESS_FS_IOCTL_DEV;
constexpr uint64_t kDevNode = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                              LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV |
                              LANDLOCK_ACCESS_FS_READ_DIR;
constexpr const char* kDevNodes[] = {"/dev/null", "/dev/zero", "/dev/full",    "/dev/tty",
                                     "/dev/ptmx", "/dev/pts",  "/dev/urandom", "/dev/random"};

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  if (realpath(p.c_str(), buf) == nullptr) return {};
  return buf;
}

// True if `inner` is `outer` or lies beneath it (both canonical).
bool Beneath(const std::string& inner, const std::string& outer) {
  if (outer == "/") return true;
  return inner == outer ||
         (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
          inner[outer.size()] == '/');
}

Status AddRule(int ruleset, const std::string& path, uint64_t access, uint64_t handled,
               bool optional) {
  UniqueFd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd.valid()) {
    if (optional) return OkStatus();
    return ErrnoError("landlock rule for " + path);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoError("stat " + path);
  if (!S_ISDIR(st.st_mode)) access &= kFileRights;
  access &= handled;
  if (access == 0) return OkStatus();
  landlock_path_beneath_attr attr{};
  attr.allowed_access = access;
  attr.parent_fd = fd.get();
  if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) != 0) {
    return ErrnoError("landlock_add_rule " + path);
  }
  return OkStatus();
}

}  // namespace

uint64_t LandlockFsRights(int abi) {
  if (abi <= 0) return 0;
  uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) r |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return r;
}

Status CheckWritePaths(const std::vector<std::string>& write_paths, const std::string& workdir) {
  std::string wd = RealPath(workdir);
  if (wd.empty()) return ErrnoError("workdir " + workdir);
  for (const std::string& w : write_paths) {
    std::string real = RealPath(w);
    if (real.empty()) return ErrnoError("-w " + w);
    if (Beneath(wd, real)) {
      return Err(EINVAL, "-w " + w + " contains the workdir " + wd +
                             " (the workdir is never writable; its changes go through the "
                             "supervisor)");
    }
    if (Beneath(real, wd)) {
      return Err(EINVAL,
                 "-w " + w + " is inside the workdir " + wd + " (the workdir is never writable)");
    }
  }
  return OkStatus();
}

Result<LandlockRuleset> BuildLandlockRuleset(const LandlockPolicy& policy, int abi) {
  if (abi <= 0) return Err(EOPNOTSUPP, "Landlock is not available on this kernel");
  LandlockRuleset rs;
  rs.abi = abi;
  rs.handled_fs = LandlockFsRights(abi);
  rs.scoped = abi >= 6 ? LANDLOCK_SCOPE_SIGNAL : 0;

  kabi::LandlockRulesetAttr attr{};
  attr.handled_access_fs = rs.handled_fs;
  attr.scoped = rs.scoped;
  size_t size = abi >= 6   ? sizeof(attr)
                : abi >= 4 ? offsetof(kabi::LandlockRulesetAttr, scoped)
                           : offsetof(kabi::LandlockRulesetAttr, handled_access_net);
  long fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (fd < 0) return ErrnoError("landlock_create_ruleset");
  rs.fd = UniqueFd(static_cast<int>(fd));  // the kernel creates it O_CLOEXEC

  const uint64_t write = rs.handled_fs;  // read + write + create/remove beneath
  std::string reads;
  if (policy.read_paths.empty()) {
    if (Status s = AddRule(rs.fd.get(), "/", kRead, rs.handled_fs, false); !s.ok())
      return s.error();
    reads = "/";
  } else {
    for (const auto& p : policy.read_paths) {
      if (Status s = AddRule(rs.fd.get(), p, kRead, rs.handled_fs, false); !s.ok()) {
        return s.error();
      }
      reads += (reads.empty() ? "" : " ") + p;
    }
    if (!policy.workdir.empty()) {
      if (Status s = AddRule(rs.fd.get(), policy.workdir, kRead, rs.handled_fs, false); !s.ok()) {
        return s.error();
      }
      reads += " " + policy.workdir + " (workdir)";
    }
  }
  std::string writes;
  for (const auto& p : policy.write_paths) {
    if (Status s = AddRule(rs.fd.get(), p, write, rs.handled_fs, false); !s.ok()) return s.error();
    writes += (writes.empty() ? "" : " ") + p;
  }
  if (!policy.tmpdir.empty()) {
    if (Status s = AddRule(rs.fd.get(), policy.tmpdir, write, rs.handled_fs, false); !s.ok()) {
      return s.error();
    }
    writes += (writes.empty() ? "" : " ") + policy.tmpdir + " (TMPDIR)";
  }
  for (const auto& p : policy.open_rw_paths) {
    const uint64_t rw = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE;
    if (Status s = AddRule(rs.fd.get(), p, rw, rs.handled_fs, false); !s.ok()) return s.error();
    writes += (writes.empty() ? "" : " ") + p + " (existing files only)";
  }
  for (const char* dev : kDevNodes) {
    if (Status s = AddRule(rs.fd.get(), dev, kDevNode, rs.handled_fs, true); !s.ok()) {
      return s.error();
    }
  }
  writes += (writes.empty() ? "" : " ") +
            std::string("/dev/{null,zero,full,tty,ptmx,pts,urandom,random}");

  char hex[32];
  std::snprintf(hex, sizeof hex, "%#llx", static_cast<unsigned long long>(rs.handled_fs));
  rs.description = "landlock: ABI " + std::to_string(abi) + ", handled fs rights " + hex +
                   (rs.scoped ? ", signals scoped" : "") + "\nlandlock read+exec: " + reads +
                   "\nlandlock write: " + writes + "\n";
  return rs;
}

int LandlockRestrictSelf(int ruleset_fd) {
  long r = syscall(SYS_landlock_restrict_self, ruleset_fd, 0);
  return r == 0 ? 0 : -errno;
}

}  // namespace sandtrace
