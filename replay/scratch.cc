#include "replay/scratch.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace sandtrace::replay {

namespace {

constexpr size_t kMaxWarnings = 8;
constexpr uint64_t kMaxBlobOffset = uint64_t{1} << 40;

Status MkdirAll(const std::string& path, mode_t mode) {
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at != path.size() && path[at] != '/') continue;
    std::string prefix = path.substr(0, at);
    if (mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) return ErrnoError("mkdir " + prefix);
  }
  return OkStatus();
}

long OpenBeneath(int dirfd, const std::string& path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return syscall(SYS_openat2, dirfd, path.empty() ? "." : path.c_str(), &how, sizeof how);
}

// A snapshot path is usable if it is relative and has no "", "." or ".."
// component ("" alone is the root).
bool GoodPath(const std::string& p) {
  if (p.empty()) return true;
  if (p[0] == '/' || p.find('\0') != std::string::npos || p.size() >= PATH_MAX) return false;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string_view c(p.data() + i, j - i);
    if (c.empty() || c == "." || c == ".." || c.size() > NAME_MAX) return false;
    i = j + 1;
  }
  return true;
}

bool GoodHash(const std::string& h) {
  if (h.empty() || h.size() > 128) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// Makes the missing directories of `parent` (0755), one component at a
// time, for an entry whose ancestors the snapshot did not list.
void MakeParents(int lower_fd, const std::string& parent) {
  size_t i = 0;
  while (i < parent.size()) {
    size_t j = parent.find('/', i);
    if (j == std::string::npos) j = parent.size();
    const std::string dir = i == 0 ? std::string() : parent.substr(0, i - 1);
    const std::string leaf = parent.substr(i, j - i);
    long d = OpenBeneath(lower_fd, dir, O_PATH | O_DIRECTORY);
    if (d < 0) return;
    UniqueFd dfd(static_cast<int>(d));
    (void)mkdirat(dfd.get(), leaf.c_str(), 0755);
    i = j + 1;
  }
}

Status RemoveAt(int parent, const char* name) {
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) return OkStatus();
  if (errno != EISDIR && errno != EPERM) return ErrnoError(std::string("unlink ") + name);
  // A directory: make it ours to empty, then empty it.
  (void)fchmodat(parent, name, 0700, 0);
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoError(std::string("open ") + name);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    close(fd);
    return ErrnoError("fdopendir");
  }
  Status result = OkStatus();
  std::vector<std::string> names;
  while (dirent* d = readdir(dir)) {
    if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0) continue;
    names.emplace_back(d->d_name);
  }
  for (const std::string& n : names) {
    Status s = RemoveAt(dirfd(dir), n.c_str());
    if (!s.ok() && result.ok()) result = s;
  }
  closedir(dir);
  if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT && result.ok()) {
    result = ErrnoError(std::string("rmdir ") + name);
  }
  return result;
}

}  // namespace

std::string PaddedPath(const std::string& root, char tag, size_t length, bool* matched) {
  *matched = false;
  if (length < root.size() + 2) return root + "/" + tag;
  size_t remaining = length - root.size();  // bytes of "/name[/name...]"
  std::string out = root;
  bool first = true;
  while (remaining > 0) {
    // One component: "/" + n bytes, n in [1, NAME_MAX]; never leave 1 byte.
    size_t n = std::min<size_t>(remaining - 1, NAME_MAX);
    if (remaining - 1 - n == 1) --n;
    std::string name(n, '_');
    name[0] = first ? tag : '_';
    out += "/" + name;
    remaining -= n + 1;
    first = false;
  }
  *matched = out.size() == length;
  return out;
}

Result<std::unique_ptr<Scratch>> Scratch::Create(const ScratchOptions& options, size_t lower_len,
                                                 size_t storage_len) {
  std::string base = options.base;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp";
  }
  char real[PATH_MAX];
  if (realpath(base.c_str(), real) == nullptr) return ErrnoError("scratch directory " + base);
  std::string dir = real;
  if (dir == "/") dir.clear();
  // Short, so that the padded lower path can match short workdirs too.
  std::string templ = dir + "/rp-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return ErrnoError("create a scratch directory in " + base);
  std::unique_ptr<Scratch> s(new Scratch());
  s->root_ = templ;
  s->keep_ = options.keep;
  s->lower_ = PaddedPath(s->root_, 'l', lower_len, &s->lower_matched_);
  s->storage_ = PaddedPath(s->root_, 's', storage_len, &s->storage_matched_);
  s->blobs_ = s->root_ + "/b";
  for (const std::string* dir : {&s->lower_, &s->blobs_}) {
    if (Status st = MkdirAll(*dir, 0700); !st.ok()) return st.error();
  }
  // The storage's parents only: CowSession creates the area itself (0700).
  std::string parent = s->storage_.substr(0, s->storage_.rfind('/'));
  if (Status st = MkdirAll(parent, 0700); !st.ok()) return st.error();
  return s;
}

Scratch::~Scratch() {
  if (!keep_ && !root_.empty()) (void)RemoveScratchTree(root_);
}

Status RemoveScratchTree(const std::string& path) {
  size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == std::string::npos || slash + 1 >= path.size()) {
    return Err(EINVAL, "remove " + path);
  }
  std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd pfd(open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!pfd.valid()) return ErrnoError("open " + parent);
  return RemoveAt(pfd.get(), path.c_str() + slash + 1);
}

// ---- LowerBuilder ----------------------------------------------------------------------

LowerBuilder::LowerBuilder(const Scratch& scratch, const PathMap& map, bool restore_owners)
    : scratch_(scratch), map_(map), restore_owners_(restore_owners) {
  stats_.owners_restored = restore_owners;
  blob_dir_ = UniqueFd(open(scratch.blobs().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
}

LowerBuilder::~LowerBuilder() = default;

void LowerBuilder::Warn(std::string line) {
  if (++warned_ <= kMaxWarnings) stats_.warnings.push_back(std::move(line));
}

Status LowerBuilder::Add(const trace::SnapshotChunk& chunk) {
  for (const trace::SnapshotEntry& e : chunk.entries) entries_[e.path] = e;
  for (const trace::SnapshotBlob& b : chunk.blobs) {
    if (!GoodHash(b.hash) || b.offset > kMaxBlobOffset) {
      Warn("snapshot blob with a bad hash or offset ignored");
      continue;
    }
    UniqueFd fd(
        openat(blob_dir_.get(), b.hash.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return ErrnoError("snapshot blob " + b.hash);
    size_t done = 0;
    while (done < b.bytes.size()) {
      ssize_t n = pwrite(fd.get(), b.bytes.data() + done, b.bytes.size() - done,
                         static_cast<off_t>(b.offset + done));
      if (n <= 0) return ErrnoError("write snapshot blob " + b.hash);
      done += static_cast<size_t>(n);
    }
  }
  return OkStatus();
}

Status LowerBuilder::CreateEntry(int lower_fd, const trace::SnapshotEntry& e) {
  if (e.path.empty()) return OkStatus();  // the root exists
  const size_t slash = e.path.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : e.path.substr(0, slash);
  const std::string name = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
  long pfd_raw = OpenBeneath(lower_fd, parent, O_PATH | O_DIRECTORY);
  if (pfd_raw < 0 && errno == ENOENT) {
    MakeParents(lower_fd, parent);
    pfd_raw = OpenBeneath(lower_fd, parent, O_PATH | O_DIRECTORY);
  }
  if (pfd_raw < 0) return ErrnoError("parent of " + e.path);
  UniqueFd pfd(static_cast<int>(pfd_raw));
  const char* n = name.c_str();
  switch (e.type) {
    case trace::FileType::kDirectory:
      if (mkdirat(pfd.get(), n, 0700) != 0 && errno != EEXIST) return ErrnoError("mkdir " + e.path);
      return OkStatus();
    case trace::FileType::kSymlink: {
      std::string target = e.symlink_target;
      map_.ToReplay(target);
      if (symlinkat(target.c_str(), pfd.get(), n) != 0) return ErrnoError("symlink " + e.path);
      return OkStatus();
    }
    case trace::FileType::kFifo:
      if (mknodat(pfd.get(), n, S_IFIFO | 0600, 0) != 0) return ErrnoError("mkfifo " + e.path);
      return OkStatus();
    case trace::FileType::kSocket:
      if (mknodat(pfd.get(), n, S_IFSOCK | 0600, 0) != 0) return ErrnoError("mknod " + e.path);
      return OkStatus();
    case trace::FileType::kCharDevice:
    case trace::FileType::kBlockDevice:
      Warn("device " + e.path + " replaced by an empty regular file");
      [[fallthrough]];
    case trace::FileType::kRegular:
    case trace::FileType::kUnknown: {
      UniqueFd fd(openat(pfd.get(), n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!fd.valid()) return ErrnoError("create " + e.path);
      if (e.type != trace::FileType::kRegular) return OkStatus();
      bool copied = false;
      if (!e.content_hash.empty() && GoodHash(e.content_hash)) {
        UniqueFd blob(
            openat(blob_dir_.get(), e.content_hash.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        struct stat st {};
        if (blob.valid() && fstat(blob.get(), &st) == 0 &&
            static_cast<uint64_t>(st.st_size) == e.size) {
          off_t in = 0;
          uint64_t left = e.size;
          while (left > 0) {
            ssize_t k = copy_file_range(blob.get(), &in, fd.get(), nullptr, left, 0);
            if (k <= 0) break;
            left -= static_cast<uint64_t>(k);
          }
          copied = left == 0;
        }
        if (!copied) Warn("contents of " + e.path + " missing from the snapshot: zeros instead");
      }
      if (copied) {
        ++stats_.with_content;
      } else {
        if (ftruncate(fd.get(), static_cast<off_t>(e.size)) != 0) {
          return ErrnoError("size " + e.path);
        }
        ++stats_.placeholders;
      }
      return OkStatus();
    }
  }
  return OkStatus();
}

void LowerBuilder::ApplyMetadata(int lower_fd, const trace::SnapshotEntry& e) {
  const bool link = e.type == trace::FileType::kSymlink;
  const size_t slash = e.path.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : e.path.substr(0, slash);
  std::string name = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
  UniqueFd pfd;
  if (e.path.empty()) {
    pfd.reset(dup(lower_fd));
    name = ".";
  } else {
    long raw = OpenBeneath(lower_fd, parent, O_PATH | O_DIRECTORY);
    if (raw < 0) return;
    pfd.reset(static_cast<int>(raw));
  }
  const int nofollow = link ? AT_SYMLINK_NOFOLLOW : 0;
  if (restore_owners_ && stats_.owners_restored) {
    if (fchownat(pfd.get(), name.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW) != 0 &&
        (errno == EPERM || errno == EINVAL)) {
      stats_.owners_restored = false;
    }
  }
  if (!link) {
    // The lower root may be given any mode; ours must stay searchable.
    mode_t mode = static_cast<mode_t>(e.mode & 07777);
    if (e.path.empty()) mode |= 0700;
    (void)fchmodat(pfd.get(), name.c_str(), mode, 0);
  }
  timespec times[2];
  times[0].tv_sec = e.mtime_ns / 1'000'000'000;
  times[0].tv_nsec = e.mtime_ns % 1'000'000'000;
  if (times[0].tv_nsec < 0) {
    times[0].tv_nsec += 1'000'000'000;
    times[0].tv_sec -= 1;
  }
  times[1] = times[0];
  (void)utimensat(pfd.get(), name.c_str(), times, nofollow);
}

Result<LowerStats> LowerBuilder::Finish() {
  UniqueFd lower(open(scratch_.lower().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!lower.valid()) return ErrnoError("open " + scratch_.lower());
  std::vector<const trace::SnapshotEntry*> made;
  made.reserve(entries_.size());
  for (const auto& [path, e] : entries_) {
    ++stats_.entries;
    if (!GoodPath(path)) {
      ++stats_.skipped;
      Warn("snapshot entry with a bad path skipped");
      continue;
    }
    if (Status s = CreateEntry(lower.get(), e); !s.ok()) {
      ++stats_.skipped;
      Warn("snapshot entry not rebuilt: " + s.error().Message());
      continue;
    }
    made.push_back(&e);
  }
  // Deepest first, so a directory's times are set after its entries.
  for (auto it = made.rbegin(); it != made.rend(); ++it) ApplyMetadata(lower.get(), **it);
  if (warned_ > kMaxWarnings) {
    stats_.warnings.push_back("... and " + std::to_string(warned_ - kMaxWarnings) +
                              " more snapshot warnings");
  }
  return stats_;
}

}  // namespace sandtrace::replay
