// Seeded, randomized differential test of the overlay engine.
//
// Each case builds a small random tree, copies it, and applies one random
// sequence of operations both through the engine (over the tree) and with
// plain syscalls to the copy. After every step the merged view (names,
// types, contents, modes, symlink targets) must equal the copy and both
// sides must have returned the same result or errno; at the end the case
// commits (the workdir must then equal the copy) or aborts (the workdir must
// equal the original tree). A failure prints its seed and a shrunk sequence.
//
// COW_FUZZ_SEQUENCES=N runs N cases in all (default 10000, split over the
// shards below so ctest can run them in parallel); COW_FUZZ_SEED=S moves the
// seed range; COW_FUZZ_ONLY=seed replays one case.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <sstream>

#include "cow/overlay.h"
#include "cow/storage.h"
#include "tests/cow/cow_test_util.h"

namespace sandtrace::cow {
namespace {

using testing::SnapshotReal;
using testing::SnapshotView;
using testing::Tree;

constexpr int kShards = 4;
const char* const kNames[] = {"a", "b", "c", "d"};

enum OpKind {
  kCreate,
  kWrite,
  kAppend,
  kTruncate,
  kMkdir,
  kRmdir,
  kUnlink,
  kRename,
  kSymlink,
  kLink,
  kChmod,
  kUtimens,
  kMkfifo,
  kLstat,
  kReadlink,
  kOpenDir,
  kOpKinds
};
const char* const kOpNames[] = {"create", "write",  "append",   "truncate", "mkdir", "rmdir",
                                "unlink", "rename", "symlink",  "link",     "chmod", "utimens",
                                "mkfifo", "lstat",  "readlink", "opendir"};

struct Op {
  OpKind kind = kCreate;
  std::string a, b;  // paths (b: rename/link destination; symlink target)
  int flags = 0;     // open flags (create), rename flags, follow (utimens)
  mode_t mode = 0;
  std::string data;
  off_t length = 0;
};

std::string Describe(const Op& op) {
  std::ostringstream o;
  o << kOpNames[op.kind] << " '" << op.a << "'";
  if (!op.b.empty()) o << " '" << op.b << "'";
  o << std::oct << " flags=0" << op.flags << " mode=0" << op.mode << std::dec;
  if (!op.data.empty()) o << " data='" << op.data << "'";
  if (op.kind == kTruncate) o << " len=" << op.length;
  return o.str();
}

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  bool OneIn(uint32_t n) { return Below(n) == 0; }

  // A relative path of 1-3 components; ".." only where it cannot climb
  // above the root (symlink targets never contain "..", so the canonical
  // depth is always at least the lexical one).
  std::string Path() {
    int comps = 1 + static_cast<int>(Below(3));
    std::string p;
    int depth = 0;
    for (int i = 0; i < comps; ++i) {
      std::string c = kNames[Below(4)];
      if (depth >= 1 && OneIn(8)) {
        c = "..";
      } else if (OneIn(16)) {
        c = ".";
      }
      if (c == "..") {
        --depth;
      } else if (c != ".") {
        ++depth;
      }
      p += (p.empty() ? "" : "/") + c;
    }
    if (depth < 1) p += "/" + std::string(kNames[Below(4)]);
    if (OneIn(20)) p += "/";
    return p;
  }
  std::string Target() {
    std::string t = kNames[Below(4)];
    if (OneIn(3)) t += "/" + std::string(kNames[Below(4)]);
    return t;
  }
  std::string Data() {
    static const char* const kData[] = {"", "x", "hello", "0123456789abcdef"};
    return kData[Below(4)];
  }
  mode_t FileMode() {
    static const mode_t kModes[] = {0644, 0600, 0755, 0444};
    return kModes[Below(4)];
  }
  mode_t DirMode() { return OneIn(3) ? 0700 : 0755; }

  Op Next() {
    Op op;
    op.kind = static_cast<OpKind>(Below(kOpKinds));
    op.a = Path();
    switch (op.kind) {
      case kCreate:
        op.flags = O_CREAT | O_WRONLY | (OneIn(3) ? O_EXCL : 0) | (OneIn(2) ? O_TRUNC : 0);
        op.mode = FileMode();
        op.data = Data();
        break;
      case kWrite:
      case kAppend:
        op.data = Data();
        break;
      case kTruncate:
        op.length = static_cast<off_t>(Below(3) * 4);
        break;
      case kMkdir:
        op.mode = DirMode();
        break;
      case kRename:
        op.b = Path();
        op.flags = OneIn(4) ? RENAME_NOREPLACE : OneIn(4) ? RENAME_EXCHANGE : 0;
        break;
      case kSymlink:
        op.b = Target();
        break;
      case kLink:
        op.b = Path();
        break;
      case kChmod:
        op.mode = OneIn(2) ? FileMode() : DirMode();
        break;
      case kUtimens:
        op.flags = OneIn(2);
        break;
      case kMkfifo:
        op.mode = FileMode();
        break;
      default:
        break;
    }
    return op;
  }

  // Builds a random tree under `dir` (depth <= 2, a handful of entries).
  void Tree(const std::string& dir, int depth) {
    for (const char* name : kNames) {
      if (std::string(name) == "d") continue;  // always free at first
      std::string p = dir + "/" + name;
      switch (Below(10)) {
        case 0:
        case 1:
        case 2:
          break;
        case 3:
        case 4:
        case 5:
          testing::WriteFile(p, Data(), FileMode());
          break;
        case 6:
        case 7:
          if (depth < 2) {
            ::mkdir(p.c_str(), 0755);
            Tree(p, depth + 1);
            ::chmod(p.c_str(), DirMode());
          }
          break;
        case 8:
          (void)::symlink(Target().c_str(), p.c_str());
          break;
        case 9:
          if (OneIn(3)) (void)::mkfifo(p.c_str(), 0644);
          break;
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = ::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Case {
  uint64_t seed = 0;
  std::vector<Op> ops;
  bool commit = false;
};

Case MakeCase(uint64_t seed) {
  Case c;
  c.seed = seed;
  Gen g(seed * 7919 + 1);
  const uint64_t max_len = EnvNumber("COW_FUZZ_MAXLEN", 8);
  int n = 1 + static_cast<int>(g.Below(static_cast<uint32_t>(max_len)));
  for (int i = 0; i < n; ++i) c.ops.push_back(g.Next());
  c.commit = g.OneIn(2);
  return c;
}

std::string Errno(int e) { return e == 0 ? "ok" : strerrorname_np(e) ? strerrorname_np(e) : "?"; }

// Writes data through an fd (both sides use this), returning 0 or errno.
int WriteAll(int fd, const std::string& data, bool append) {
  if (data.empty()) return 0;
  ssize_t n =
      append ? ::write(fd, data.data(), data.size()) : ::pwrite(fd, data.data(), data.size(), 0);
  return n == static_cast<ssize_t>(data.size()) ? 0 : errno;
}

int RealOp(const Op& op, const std::string& root) {
  const std::string a = root + "/" + op.a;
  const std::string b = root + "/" + op.b;
  auto rc = [](int r) { return r == 0 ? 0 : errno; };
  switch (op.kind) {
    case kCreate:
    case kWrite:
    case kAppend: {
      int flags = op.kind == kCreate  ? op.flags
                  : op.kind == kWrite ? O_WRONLY
                                      : O_WRONLY | O_APPEND;
      int fd = ::open(a.c_str(), flags | O_NONBLOCK | O_CLOEXEC, op.mode);
      if (fd < 0) return errno;
      int r = WriteAll(fd, op.data, op.kind == kAppend);
      ::close(fd);
      return r;
    }
    case kTruncate:
      return rc(::truncate(a.c_str(), op.length));
    case kMkdir:
      return rc(::mkdir(a.c_str(), op.mode));
    case kRmdir:
      return rc(::rmdir(a.c_str()));
    case kUnlink:
      return rc(::unlink(a.c_str()));
    case kRename:
      return rc(::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), op.flags));
    case kSymlink:
      return rc(::symlink(op.b.c_str(), a.c_str()));
    case kLink:
      return rc(::link(a.c_str(), b.c_str()));
    case kChmod:
      return rc(::chmod(a.c_str(), op.mode));
    case kUtimens: {
      struct timespec ts[2] = {{1234, 0}, {5678, 9}};
      return rc(::utimensat(AT_FDCWD, a.c_str(), ts, op.flags ? 0 : AT_SYMLINK_NOFOLLOW));
    }
    case kMkfifo:
      return rc(::mknod(a.c_str(), S_IFIFO | op.mode, 0));
    case kLstat: {
      struct stat st {};
      return rc(::lstat(a.c_str(), &st));
    }
    case kReadlink: {
      char buf[256];
      return ::readlink(a.c_str(), buf, sizeof(buf)) >= 0 ? 0 : errno;
    }
    case kOpenDir: {
      int fd = ::open(a.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) return errno;
      ::close(fd);
      return 0;
    }
    default:
      return EINVAL;
  }
}

int EngineOp(const Op& op, Overlay& ov, mode_t umask_bits) {
  const Base r = Base::Root();
  switch (op.kind) {
    case kCreate:
    case kWrite:
    case kAppend: {
      int flags = op.kind == kCreate  ? op.flags
                  : op.kind == kWrite ? O_WRONLY
                                      : O_WRONLY | O_APPEND;
      auto f = ov.Open(r, op.a, flags | O_NONBLOCK, op.mode & ~umask_bits);
      if (!f) return f.code();
      int res = WriteAll(f->fd.get(), op.data, op.kind == kAppend);
      (void)ov.Remeasure(r, op.a);
      return res;
    }
    case kTruncate:
      return ov.Truncate(r, op.a, op.length).code();
    case kMkdir:
      return ov.Mkdir(r, op.a, op.mode & ~umask_bits).code();
    case kRmdir:
      return ov.Rmdir(r, op.a).code();
    case kUnlink:
      return ov.Unlink(r, op.a).code();
    case kRename:
      return ov.Rename(r, op.a, r, op.b, static_cast<unsigned>(op.flags)).code();
    case kSymlink:
      return ov.Symlink(op.b, r, op.a).code();
    case kLink:
      return ov.Link(r, op.a, r, op.b).code();
    case kChmod:
      return ov.Chmod(r, op.a, op.mode).code();
    case kUtimens: {
      struct timespec ts[2] = {{1234, 0}, {5678, 9}};
      return ov.Utimens(r, op.a, ts, op.flags != 0).code();
    }
    case kMkfifo:
      return ov.Mknod(r, op.a, S_IFIFO | (op.mode & ~umask_bits)).code();
    case kLstat:
      return ov.Stat(r, op.a, false).code();
    case kReadlink:
      return ov.Readlink(r, op.a).code();
    case kOpenDir:
      return ov.Open(r, op.a, O_RDONLY | O_DIRECTORY, 0).code();
    default:
      return EINVAL;
  }
}

// Runs one case in fresh directories under `scratch`; "" when it passes.
std::string RunCase(const Case& c, const std::string& scratch) {
  const std::string lower = scratch + "/lower";
  const std::string ref = scratch + "/ref";
  const std::string store = scratch + "/store";
  for (const auto& d : {lower, ref, store}) (void)RemoveTree(d);
  ::mkdir(lower.c_str(), 0755);
  ::mkdir(store.c_str(), 0700);
  // The same seed builds the same tree twice (cheaper than cp -a).
  ::mkdir(ref.c_str(), 0755);
  Gen(c.seed).Tree(lower, 0);
  Gen(c.seed).Tree(ref, 0);
  const Tree original = SnapshotReal(lower);
  mode_t um = ::umask(0);
  ::umask(um);

  std::string failure;
  {
    auto ov = Overlay::Create({lower, store}, {});
    if (!ov) return "create: " + ov.error().Message();
    for (size_t i = 0; i < c.ops.size() && failure.empty(); ++i) {
      int want = RealOp(c.ops[i], ref);
      int got = EngineOp(c.ops[i], **ov, um);
      if (want != got) {
        failure = "step " + std::to_string(i) + " (" + Describe(c.ops[i]) + "): real " +
                  Errno(want) + ", engine " + Errno(got);
        break;
      }
      std::string diff = testing::DescribeDiff(SnapshotReal(ref), SnapshotView(**ov));
      if (!diff.empty()) {
        failure = "step " + std::to_string(i) + " (" + Describe(c.ops[i]) +
                  "): view differs from the copy:\n" + diff;
      }
    }
    if (!failure.empty()) {
      (void)(*ov)->Abort();
      return failure;
    }
    if (c.commit) {
      auto report = (*ov)->Commit();
      if (!report) return "commit: " + report.error().Message();
      std::string diff = testing::DescribeDiff(SnapshotReal(ref), SnapshotReal(lower));
      if (!diff.empty()) return "after commit the workdir differs from the copy:\n" + diff;
    } else {
      if (auto s = (*ov)->Abort(); !s) return "abort: " + s.error().Message();
      std::string diff = testing::DescribeDiff(original, SnapshotReal(lower));
      if (!diff.empty()) return "after abort the workdir differs from the original:\n" + diff;
    }
  }
  return "";
}

// Drops operations one at a time while the case still fails.
Case Shrink(Case c, const std::string& scratch) {
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t i = 0; i < c.ops.size(); ++i) {
      Case smaller = c;
      smaller.ops.erase(smaller.ops.begin() + static_cast<long>(i));
      if (!RunCase(smaller, scratch).empty()) {
        c = std::move(smaller);
        progress = true;
        break;
      }
    }
  }
  return c;
}

class CowFuzz : public ::testing::TestWithParam<int> {};

TEST_P(CowFuzz, EngineMatchesPlainFilesystem) {
  const uint64_t total = EnvNumber("COW_FUZZ_SEQUENCES", 10000);
  const uint64_t base = EnvNumber("COW_FUZZ_SEED", 1);
  const int shard = GetParam();
  // Scratch on tmpfs when there is one: the cases are metadata-heavy.
  std::string parent = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  if (const char* t = ::getenv("COW_TEST_TMP")) parent = t;
  std::string tmpl = parent + "/cowfuzz-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string scratch = tmpl;

  std::vector<uint64_t> seeds;
  if (const char* only = ::getenv("COW_FUZZ_ONLY")) {
    if (shard == 0) seeds.push_back(std::strtoull(only, nullptr, 10));
  } else {
    for (uint64_t i = static_cast<uint64_t>(shard); i < total; i += kShards) {
      seeds.push_back(base + i);
    }
  }
  int failures = 0;
  for (uint64_t seed : seeds) {
    Case c = MakeCase(seed);
    std::string failure = RunCase(c, scratch);
    if (failure.empty()) continue;
    Case small = Shrink(c, scratch);
    std::string small_failure = RunCase(small, scratch);
    std::string seq;
    for (const auto& op : small.ops) seq += "    " + Describe(op) + "\n";
    ADD_FAILURE() << "seed " << seed << " (COW_FUZZ_ONLY=" << seed << "), "
                  << (small.commit ? "commit" : "abort") << "\n  " << small_failure
                  << "\n  shrunk sequence:\n"
                  << seq;
    if (++failures >= 3) break;
  }
  (void)RemoveTree(scratch);
  RecordProperty("sequences", static_cast<int>(seeds.size()));
}

INSTANTIATE_TEST_SUITE_P(CowShards, CowFuzz, ::testing::Range(0, kShards));

}  // namespace
}  // namespace sandtrace::cow
