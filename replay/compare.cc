#include "replay/compare.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include <map>
#include "formats/core_enums.h"
#include "replay/message_text.h"

namespace sandtrace::replay {

namespace {

enum class BufferKind : uint8_t { kRaw, kStat, kStatx, kDirent64, kDirent };

BufferKind KindOf(const std::string& syscall, size_t size) {
  if ((syscall == "stat" || syscall == "lstat" || syscall == "fstat" || syscall == "newfstatat") &&
      size == sizeof(struct stat)) {
    return BufferKind::kStat;
  }
  if (syscall == "statx" && size == sizeof(struct statx)) return BufferKind::kStatx;
  if (syscall == "getdents64") return BufferKind::kDirent64;
  if (syscall == "getdents") return BufferKind::kDirent;
  return BufferKind::kRaw;
}

template <class T>
T Load(const std::string& s) {
  T v{};
  std::memcpy(&v, s.data(), sizeof v);
  return v;
}
template <class T>
void Store(std::string& s, const T& v) {
  std::memcpy(s.data(), &v, sizeof v);
}

bool Written(const CompareContext& ctx, uint64_t dev, uint64_t ino) {
  return ctx.written_inodes != nullptr && ctx.written_inodes->count({dev, ino}) != 0;
}

void NormaliseStat(const CompareContext& ctx, std::string& expected, std::string& got) {
  struct stat e = Load<struct stat>(expected);
  struct stat g = Load<struct stat>(got);
  const bool written = S_ISREG(g.st_mode) && Written(ctx, g.st_dev, g.st_ino);
  for (struct stat* s : {&e, &g}) {
    s->st_dev = 0;
    s->st_ino = 0;
    s->st_atim = {};
    s->st_mtim = {};
    s->st_ctim = {};
    s->st_blksize = 0;
    s->st_blocks = 0;
    if (S_ISDIR(s->st_mode)) {
      s->st_size = 0;
      s->st_nlink = 0;
    }
    if (written) s->st_size = 0;
    if (!ctx.owners_restored) {
      s->st_uid = 0;
      s->st_gid = 0;
    }
  }
  Store(expected, e);
  Store(got, g);
}

void NormaliseStatx(const CompareContext& ctx, std::string& expected, std::string& got) {
  struct statx e = Load<struct statx>(expected);
  struct statx g = Load<struct statx>(got);
  const uint64_t gdev = makedev(g.stx_dev_major, g.stx_dev_minor);
  const bool written = S_ISREG(g.stx_mode) && Written(ctx, gdev, g.stx_ino);
  for (struct statx* s : {&e, &g}) {
    s->stx_mask &= ~static_cast<uint32_t>(STATX_BTIME);
    s->stx_blksize = 0;
    s->stx_attributes = 0;
    s->stx_attributes_mask = 0;
    s->stx_ino = 0;
    s->stx_blocks = 0;
    s->stx_atime = {};
    s->stx_btime = {};
    s->stx_ctime = {};
    s->stx_mtime = {};
    s->stx_dev_major = 0;
    s->stx_dev_minor = 0;
    if (S_ISDIR(s->stx_mode)) {
      s->stx_size = 0;
      s->stx_nlink = 0;
    }
    if (written) s->stx_size = 0;
    if (!ctx.owners_restored) {
      s->stx_uid = 0;
      s->stx_gid = 0;
    }
    // The mount id and what follows (direct-I/O alignment, newer fields).
    auto* bytes = reinterpret_cast<unsigned char*>(s);
    const size_t from = offsetof(struct statx, stx_mnt_id);
    std::memset(bytes + from, 0, sizeof(struct statx) - from);
  }
  Store(expected, e);
  Store(got, g);
}

// Zeroes d_ino of every well-formed record (d_ino is the first 8 bytes of
// both linux_dirent64 and the legacy linux_dirent on 64-bit).
void NormaliseDirents(std::string& buf) {
  constexpr size_t kHead = 8 + 8 + 2;  // d_ino, d_off, d_reclen
  size_t at = 0;
  while (at + kHead <= buf.size()) {
    uint16_t reclen = 0;
    std::memcpy(&reclen, buf.data() + at + 16, sizeof reclen);
    if (reclen < kHead || at + reclen > buf.size()) break;
    std::memset(buf.data() + at, 0, 8);
    at += reclen;
  }
}

// Which struct stat fields differ, for the message.
std::string StatFieldDiff(const std::string& expected, const std::string& got) {
  struct stat e = Load<struct stat>(expected);
  struct stat g = Load<struct stat>(got);
  std::string out;
  auto field = [&](const char* name, uint64_t a, uint64_t b, bool octal = false) {
    if (a == b) return;
    char buf[96];
    std::snprintf(buf, sizeof buf,
                  octal ? "%s%s 0%" PRIo64 " vs 0%" PRIo64 : "%s%s %" PRIu64 " vs %" PRIu64,
                  out.empty() ? "" : ", ", name, a, b);
    out += buf;
  };
  field("st_mode", e.st_mode, g.st_mode, true);
  field("st_nlink", e.st_nlink, g.st_nlink);
  field("st_uid", e.st_uid, g.st_uid);
  field("st_gid", e.st_gid, g.st_gid);
  field("st_rdev", e.st_rdev, g.st_rdev);
  field("st_size", static_cast<uint64_t>(e.st_size), static_cast<uint64_t>(g.st_size));
  return out;
}

std::string StatxFieldDiff(const std::string& expected, const std::string& got) {
  struct statx e = Load<struct statx>(expected);
  struct statx g = Load<struct statx>(got);
  std::string out;
  auto field = [&](const char* name, uint64_t a, uint64_t b) {
    if (a == b) return;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s %" PRIu64 " vs %" PRIu64, out.empty() ? "" : ", ", name, a,
                  b);
    out += buf;
  };
  field("stx_mask", e.stx_mask, g.stx_mask);
  field("stx_mode", e.stx_mode, g.stx_mode);
  field("stx_nlink", e.stx_nlink, g.stx_nlink);
  field("stx_uid", e.stx_uid, g.stx_uid);
  field("stx_gid", e.stx_gid, g.stx_gid);
  field("stx_size", e.stx_size, g.stx_size);
  field("stx_rdev_major", e.stx_rdev_major, g.stx_rdev_major);
  field("stx_rdev_minor", e.stx_rdev_minor, g.stx_rdev_minor);
  return out;
}

// "offset 12: ...0a 62 63... vs ...0a 62 64..." around the first difference.
std::string ByteDiff(const std::string& a, const std::string& b, std::string* got_text) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  auto window = [i](const std::string& s) {
    std::string out;
    size_t from = i >= 4 ? i - 4 : 0;
    for (size_t k = from; k < s.size() && k < i + 12; ++k) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned char>(s[k]));
      if (!out.empty()) out += ' ';
      out += buf;
    }
    return out;
  };
  std::string prefix = std::to_string(a.size()) + " bytes, at offset " + std::to_string(i) + ": ";
  *got_text =
      std::to_string(b.size()) + " bytes, at offset " + std::to_string(i) + ": " + window(b);
  return prefix + window(a);
}

std::string FileText(trace::FileRoot root, const std::string& path, int32_t open_flags,
                     uint32_t fd_flags) {
  return std::string(trace::Name(root)) + " " + Quoted(path) + " flags " +
         Hex(static_cast<uint32_t>(open_flags)) + " fd_flags " + Hex(fd_flags);
}

}  // namespace

void NormaliseWrite(const CompareContext& ctx, std::string& expected, std::string& got) {
  switch (KindOf(ctx.syscall, got.size())) {
    case BufferKind::kStat:
      if (expected.size() == got.size()) NormaliseStat(ctx, expected, got);
      break;
    case BufferKind::kStatx:
      if (expected.size() == got.size()) NormaliseStatx(ctx, expected, got);
      break;
    case BufferKind::kDirent64:
    case BufferKind::kDirent:
      NormaliseDirents(expected);
      NormaliseDirents(got);
      break;
    case BufferKind::kRaw:
      break;
  }
}

std::optional<Difference> CompareWrite(const CompareContext& ctx, const trace::TraceeCall& expected,
                                       const RecordedTracee::Write& got) {
  std::string e = expected.bytes;
  std::string g = got.bytes;
  NormaliseWrite(ctx, e, g);
  if (e == g) return std::nullopt;
  Difference d;
  d.what = "bytes written by call " + std::to_string(got.index) + " at " + Hex(got.addr);
  const BufferKind kind = KindOf(ctx.syscall, g.size());
  if (kind == BufferKind::kStat && e.size() == g.size()) {
    d.what += " (struct stat: " + StatFieldDiff(e, g) + ")";
  } else if (kind == BufferKind::kStatx && e.size() == g.size()) {
    d.what += " (struct statx: " + StatxFieldDiff(e, g) + ")";
  }
  const bool printable = [&] {
    for (unsigned char ch : e + g) {
      if (ch != 0 && (ch < 0x20 || ch >= 0x7f)) return false;
    }
    return kind == BufferKind::kRaw;
  }();
  if (printable) {
    d.expected = Quoted(e);
    d.got = Quoted(g);
  } else {
    d.expected = ByteDiff(e, g, &d.got);
  }
  return d;
}

std::optional<Difference> CompareInstall(const trace::TraceeCall& expected,
                                         const RecordedTracee::Install& got) {
  const trace::InjectedFileRecord& e = expected.file;
  const trace::FileRoot root = ToTrace(got.file.root);
  if (e.root == root && e.path == got.file.path && e.open_flags == got.file.open_flags &&
      e.fd_flags == got.file.fd_flags) {
    return std::nullopt;
  }
  return Difference{"file installed by call " + std::to_string(got.index),
                    FileText(e.root, e.path, e.open_flags, e.fd_flags),
                    FileText(root, got.file.path, got.file.open_flags, got.file.fd_flags)};
}

trace::DecisionRecord ToRecord(const Decision& d, const PathMap& map) {
  trace::DecisionRecord r;
  r.kind = ToTrace(d.kind);
  switch (d.kind) {
    case DecisionKind::kContinue:
      break;
    case DecisionKind::kReturn:
      r.value = d.value;
      break;
    case DecisionKind::kErrno:
      r.error = d.error;
      break;
    case DecisionKind::kInjectFd:
      r.file.root = ToTrace(d.file.root);
      r.file.path = d.file.path;
      if (d.file.root == FileRoot::kOutside) map.ToRecorded(r.file.path);
      r.file.open_flags = d.file.open_flags;
      r.file.fd_flags = d.file.fd_flags;
      r.file.waits = d.file.waits;
      break;
    case DecisionKind::kRestart:
      r.arg = d.arg;
      r.arg2 = d.arg2;
      r.value2 = d.value2;
      r.value = d.value;
      r.error = d.error;
      break;
  }
  return r;
}

std::string DescribeDecision(const trace::DecisionRecord& d) {
  switch (d.kind) {
    case trace::DecisionKind::kContinue:
      return "continue";
    case trace::DecisionKind::kReturn:
      return "return " + std::to_string(d.value);
    case trace::DecisionKind::kErrno:
      return "errno " + ErrnoText(d.error);
    case trace::DecisionKind::kInjectFd:
      return "inject " + FileText(d.file.root, d.file.path, d.file.open_flags, d.file.fd_flags) +
             (d.file.waits ? " once a blocking open returns" : "");
    case trace::DecisionKind::kRestart:
      return "restart with arg" + std::to_string(d.arg) + " = " +
             Hex(static_cast<uint64_t>(d.value)) +
             (d.arg2 >= 0 ? ", arg" + std::to_string(d.arg2) + " = " + Hex(d.value2) : "") +
             " (else errno " + ErrnoText(d.error) + ")";
    case trace::DecisionKind::kUnknown:
      break;
  }
  return "unknown";
}

std::optional<Difference> CompareDecision(const trace::DecisionRecord& expected,
                                          const Decision& got, const PathMap& map,
                                          int64_t written_length_delta) {
  trace::DecisionRecord g = ToRecord(got, map);
  if (g.kind == trace::DecisionKind::kReturn) g.value += written_length_delta;
  trace::DecisionRecord e = expected;
  e.file.fd = -1;  // the child's fd number is informational (rule 4)
  g.file.fd = -1;
  if (e == g) return std::nullopt;
  return Difference{"decision", DescribeDecision(e), DescribeDecision(g)};
}

std::vector<Difference> CompareChanges(const std::vector<trace::Change>& expected,
                                       const cow::ChangeList& got,
                                       const std::set<std::string>& written) {
  auto letter = [](trace::ChangeKind k) -> std::string {
    switch (k) {
      case trace::ChangeKind::kAdded:
        return "A";
      case trace::ChangeKind::kModified:
        return "M";
      case trace::ChangeKind::kDeleted:
        return "D";
      case trace::ChangeKind::kUnknown:
        break;
    }
    return "?";
  };
  // By path (the two lists need not share a sort order to compare).
  std::map<std::string, std::pair<std::string, std::string>> by_path;
  for (const trace::Change& e : expected) by_path[e.path].first = letter(e.kind);
  for (const cow::Change& g : got)
    by_path[g.path].second = std::string(1, cow::ChangeKindLetter(g.kind));
  std::vector<Difference> out;
  for (const auto& [path, kinds] : by_path) {
    const auto& [e, g] = kinds;
    if (e == g) continue;
    if (e == "M" && g.empty() && written.count(path)) continue;  // rule 6
    out.push_back(
        {"change " + Quoted(path), e.empty() ? "(not listed)" : e, g.empty() ? "(not listed)" : g});
  }
  return out;
}

}  // namespace sandtrace::replay
