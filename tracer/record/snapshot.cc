#include "tracer/record/snapshot.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <map>
#include <memory>
#include <set>

#include "tracer/base/unique_fd.h"
#include "tracer/record/sha256.h"

namespace sandtrace::record {

void LowerAccessSet::Add(std::string_view layer_path, uint8_t bits) {
  auto it = paths_.find(layer_path);
  if (it != paths_.end()) {
    it->second |= bits;
    return;
  }
  paths_.emplace(std::string(layer_path), bits);
}

uint8_t LowerAccessSet::Get(std::string_view layer_path) const {
  auto it = paths_.find(layer_path);
  return it == paths_.end() ? 0 : it->second;
}

namespace {

// openat2 beneath `root`, never through a symlink or magic link. "" is the
// root itself.
Result<UniqueFd> OpenBeneath(int root, const std::string& rel, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const char* p = rel.empty() ? "." : rel.c_str();
  for (;;) {
    long fd = syscall(SYS_openat2, root, p, &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno == EINTR || errno == EAGAIN) continue;
    return ErrnoError("open lower " + (rel.empty() ? std::string(".") : rel));
  }
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string NameOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool Excluded(const std::string& path, const std::vector<std::string>& exclude) {
  for (const auto& ex : exclude) {
    if (ex.empty()) continue;
    if (path == ex) return true;
    if (path.size() > ex.size() && path.compare(0, ex.size(), ex) == 0 && path[ex.size()] == '/') {
      return true;
    }
  }
  return false;
}

trace::FileType TypeOf(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return trace::FileType::kRegular;
    case S_IFDIR:
      return trace::FileType::kDirectory;
    case S_IFLNK:
      return trace::FileType::kSymlink;
    case S_IFIFO:
      return trace::FileType::kFifo;
    case S_IFSOCK:
      return trace::FileType::kSocket;
    case S_IFCHR:
      return trace::FileType::kCharDevice;
    case S_IFBLK:
      return trace::FileType::kBlockDevice;
  }
  return trace::FileType::kUnknown;
}

Status ReadFull(int fd, uint64_t offset, std::string& buf, size_t want) {
  buf.resize(want);
  size_t got = 0;
  while (got < want) {
    ssize_t n = pread(fd, buf.data() + got, want - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read lower file");
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  return OkStatus();
}

class Builder {
 public:
  Builder(int root, const SnapshotOptions& o, const SnapshotSink& sink)
      : root_(root), o_(o), sink_(sink) {}

  Status Run(const std::map<std::string, uint8_t>& wanted) {
    for (const auto& [path, bits] : wanted) {
      if (Status s = One(path, bits); !s.ok()) return s;
    }
    return Emit(true);
  }

  SnapshotStats stats;

 private:
  // The O_PATH fd of `dir` (cached: sorted paths come grouped by parent).
  Result<int> Dir(const std::string& dir) {
    if (dir_fd_.valid() && dir == dir_path_) return dir_fd_.get();
    auto fd = OpenBeneath(root_, dir, O_PATH | O_DIRECTORY);
    if (!fd.ok()) return fd.error();
    dir_fd_ = std::move(*fd);
    dir_path_ = dir;
    return dir_fd_.get();
  }

  Status One(const std::string& path, uint8_t bits) {
    struct stat st {};
    int parent = -1;
    const std::string name = NameOf(path);
    if (path.empty()) {
      if (fstat(root_, &st) != 0) return ErrnoError("stat lower root");
    } else {
      auto d = Dir(ParentOf(path));
      if (!d.ok()) {
        // A vanished or replaced directory: the lower changed under us.
        if (d.code() == ENOENT || d.code() == ENOTDIR || d.code() == ELOOP) return OkStatus();
        return d.error();
      }
      parent = *d;
      if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return OkStatus();
        return ErrnoError("stat lower " + path);
      }
    }
    trace::SnapshotEntry e;
    e.path = path;
    if (IsPlaceholder(path)) {
      e.type = trace::FileType::kRegular;
      e.mode = st.st_mode & 07777;
      e.uid = st.st_uid;
      e.gid = st.st_gid;
      pending_bytes_ += 64 + e.path.size();
      chunk_.entries.push_back(std::move(e));
      ++stats.entries;
      return Emit(false);
    }
    e.type = TypeOf(st.st_mode);
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.size = static_cast<uint64_t>(st.st_size);
    e.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) e.rdev = st.st_rdev;
    if (S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX];
      ssize_t n = readlinkat(parent, name.c_str(), buf, sizeof buf);
      if (n < 0) return ErrnoError("readlink lower " + path);
      e.symlink_target.assign(buf, static_cast<size_t>(n));
    }
    if (S_ISREG(st.st_mode) && (bits & kAccessRead) && o_.mode == trace::SnapshotMode::kFull) {
      if (Status s = Content(parent, path, name, e); !s.ok()) return s;
    }
    pending_bytes_ += 64 + e.path.size() + e.symlink_target.size();
    chunk_.entries.push_back(std::move(e));
    ++stats.entries;
    return Emit(false);
  }

  bool IsPlaceholder(const std::string& path) const {
    for (const auto& p : o_.placeholders) {
      if (p == path) return true;
    }
    return false;
  }

  Status Content(int parent, const std::string& path, const std::string& name,
                 trace::SnapshotEntry& e) {
    auto fd = OpenBeneath(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!fd.ok()) return fd.error();
    struct stat st {};
    if (fstat(fd->get(), &st) != 0) return ErrnoError("stat lower " + path);
    if (!S_ISREG(st.st_mode)) return OkStatus();  // changed type: no contents
    const size_t piece = std::max<size_t>(o_.chunk_bytes, 4096);
    // Pass 1: the hash (a small file stays in `buf_` for pass 2).
    Sha256 h;
    uint64_t off = 0;
    bool whole_in_buf = false;
    for (;;) {
      if (Status s = ReadFull(fd->get(), off, buf_, piece); !s.ok()) return s;
      h.Update(buf_);
      if (off == 0 && buf_.size() < piece) whole_in_buf = true;
      off += buf_.size();
      if (buf_.size() < piece) break;
    }
    const uint64_t real_size = off;
    e.size = real_size;  // what was read is what replay will see
    auto digest = h.Finish();
    e.content_hash.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
    ++stats.files_with_content;
    stats.content_bytes += real_size;
    if (!seen_.insert(e.content_hash).second) return OkStatus();
    stats.stored_bytes += real_size;
    // Pass 2: the bytes, as blobs of at most `piece` bytes.
    for (uint64_t at = 0; at < real_size || (at == 0 && real_size == 0);) {
      trace::SnapshotBlob b;
      b.hash = e.content_hash;
      b.offset = at;
      if (whole_in_buf) {
        b.bytes = buf_;
      } else {
        if (Status s = ReadFull(fd->get(), at, b.bytes, piece); !s.ok()) return s;
        if (b.bytes.empty()) break;  // shrank meanwhile
      }
      at += b.bytes.size();
      pending_bytes_ += b.bytes.size() + 48;
      chunk_.blobs.push_back(std::move(b));
      ++stats.blobs;
      if (Status s = Emit(false); !s.ok()) return s;
      if (whole_in_buf || real_size == 0) break;
    }
    return OkStatus();
  }

  Status Emit(bool last) {
    if (chunk_.entries.empty() && chunk_.blobs.empty()) return OkStatus();
    if (!last && pending_bytes_ < o_.chunk_bytes) return OkStatus();
    Status s = sink_(chunk_);
    ++stats.chunks;
    chunk_.entries.clear();
    chunk_.blobs.clear();
    pending_bytes_ = 0;
    return s;
  }

  int root_;
  const SnapshotOptions& o_;
  const SnapshotSink& sink_;
  UniqueFd dir_fd_;
  std::string dir_path_;
  std::string buf_;
  std::set<std::string> seen_;
  trace::SnapshotChunk chunk_;
  size_t pending_bytes_ = 0;
};

// Adds the names of lower directory `dir` to `wanted`.
Status AddListing(int root, const std::string& dir, const std::vector<std::string>& exclude,
                  std::map<std::string, uint8_t>& wanted) {
  auto fd = OpenBeneath(root, dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) {
    if (fd.code() == ENOENT || fd.code() == ENOTDIR || fd.code() == ELOOP) return OkStatus();
    return fd.error();
  }
  DIR* d = fdopendir(fd->get());
  if (d == nullptr) return ErrnoError("list lower " + dir);
  (void)fd->release();
  std::unique_ptr<DIR, int (*)(DIR*)> owner(d, closedir);
  errno = 0;
  while (dirent* de = readdir(d)) {
    std::string_view name = de->d_name;
    if (name == "." || name == "..") continue;
    std::string child = dir.empty() ? std::string(name) : dir + "/" + std::string(name);
    if (!Excluded(child, exclude)) wanted[child] |= kAccessLookup;
  }
  if (errno != 0) return ErrnoError("list lower " + dir);
  return OkStatus();
}

}  // namespace

Result<SnapshotStats> BuildSnapshot(const std::string& lower_root, const LowerAccessSet& accessed,
                                    const SnapshotOptions& options, const SnapshotSink& sink) {
  int raw = open(lower_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) return ErrnoError("open workdir " + lower_root);
  UniqueFd root(raw);

  // Sorted, so parents come before their entries.
  std::map<std::string, uint8_t> wanted;
  wanted[""] |= kAccessLookup;
  std::vector<std::string> listed;
  accessed.ForEach([&](const std::string& path, uint8_t bits) {
    if (Excluded(path, options.exclude)) return;
    wanted[path] |= bits;
    for (std::string p = ParentOf(path); !p.empty(); p = ParentOf(p)) {
      auto [it, fresh] = wanted.emplace(p, kAccessLookup);
      if (!fresh) break;  // its ancestors are in already
    }
    if (bits & kAccessList) listed.push_back(path);
  });
  for (const auto& dir : listed) {
    if (Status s = AddListing(root.get(), dir, options.exclude, wanted); !s.ok()) return s.error();
  }
  Builder b(root.get(), options, sink);
  if (Status s = b.Run(wanted); !s.ok()) return s.error();
  return b.stats;
}

}  // namespace sandtrace::record
