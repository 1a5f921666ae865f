// Unit tests of the replay pieces: path mapping, scratch layout, the lower
// rebuilt from a snapshot (including hostile entries), the RecordedTracee,
// the normalised comparisons, the JSON reader and the baseline check.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "replay/compare.h"
#include "replay/json_reader.h"
#include "replay/path_map.h"
#include "replay/recorded_tracee.h"
#include "replay/scratch.h"
#include "replay/timing.h"
#include "tests/replay/replay_test_util.h"

namespace sandtrace::replay {
namespace {

using replay_test::TempDir;
using trace::TraceeCall;
using trace::TraceeCallKind;

TEST(ReplayPathMap, MapsWholeComponentsBothWays) {
  PathMap m;
  m.Add("/home/u/proj", "/tmp/r/l___");
  m.Add("/run/st/area", "/tmp/r/s___");
  std::string p = "/home/u/proj/src/a.c";
  EXPECT_TRUE(m.ToReplay(p));
  EXPECT_EQ(p, "/tmp/r/l___/src/a.c");
  p = "/home/u/proj";
  EXPECT_TRUE(m.ToReplay(p));
  EXPECT_EQ(p, "/tmp/r/l___");
  p = "/home/u/project/x";  // a prefix, but not on a component boundary
  EXPECT_FALSE(m.ToReplay(p));
  p = "relative/home/u/proj";
  EXPECT_FALSE(m.ToReplay(p));
  std::string bytes = std::string("/tmp/r/s___/upper/f\0/tmp/r/l___x", 32);
  EXPECT_TRUE(m.ToRecorded(bytes));
  EXPECT_EQ(bytes, std::string("/run/st/area/upper/f\0/tmp/r/l___x", 33));
  EXPECT_TRUE(m.IsRecorded("/run/st/area"));
  EXPECT_FALSE(m.IsRecorded("/run/st"));
}

TEST(ReplayPathMap, DoubledSlashesAndDotsInTheRecordedPrefix) {
  // As the kernel reads them: the prefix is mapped, the rest stays.
  PathMap m;
  m.Add("/w", "/tmp/r/l");
  m.Add("/w/deeper", "/tmp/r/d");
  std::string p = "///w//x/./y";
  EXPECT_TRUE(m.ToReplay(p));
  EXPECT_EQ(p, "/tmp/r/l//x/./y");
  p = "/./w";
  EXPECT_TRUE(m.ToReplay(p));
  EXPECT_EQ(p, "/tmp/r/l");
  p = "//w//deeper/z";  // the longer recorded prefix wins
  EXPECT_TRUE(m.ToReplay(p));
  EXPECT_EQ(p, "/tmp/r/d/z");
  p = "//wx/y";
  EXPECT_FALSE(m.ToReplay(p));
  p = "//w/../w";  // ".." is not taken lexically
  EXPECT_TRUE(m.ToReplay(p));
  EXPECT_EQ(p, "/tmp/r/l/../w");
}

TEST(ReplayScratch, PaddedPathsHaveTheRecordedLength) {
  for (size_t len : {size_t{12}, size_t{13}, size_t{40}, size_t{266}, size_t{267}, size_t{268},
                     size_t{600}, size_t{4000}}) {
    bool matched = false;
    std::string p = PaddedPath("/tmp/replay-x", 'l', len, &matched);
    if (len < 15) {
      EXPECT_FALSE(matched);
      EXPECT_EQ(p, "/tmp/replay-x/l");
      continue;
    }
    EXPECT_TRUE(matched) << len;
    EXPECT_EQ(p.size(), len);
    EXPECT_EQ(p.find("//"), std::string::npos);
    size_t comp = 0;
    for (size_t i = 0; i <= p.size(); ++i) {
      if (i == p.size() || p[i] == '/') {
        EXPECT_LE(comp, 255u);
        comp = 0;
      } else {
        ++comp;
      }
    }
  }
  TempDir base;
  auto s = Scratch::Create({base.path(), false}, 200, 0);
  ASSERT_TRUE(s.ok()) << s.error().Message();
  EXPECT_TRUE((*s)->lower_matched());
  EXPECT_EQ((*s)->lower().size(), 200u);
  struct stat st {};
  EXPECT_EQ(stat((*s)->lower().c_str(), &st), 0);
  const std::string root = (*s)->root();
  s->reset();
  EXPECT_NE(stat(root.c_str(), &st), 0) << "the scratch root is removed";
}

trace::SnapshotEntry Entry(std::string path, trace::FileType type, uint32_t mode,
                           uint64_t size = 0) {
  trace::SnapshotEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = mode;
  e.size = size;
  e.mtime_ns = 1'600'000'000'123'456'789LL;
  return e;
}

TEST(ReplayLower, RebuildsEntriesAndRefusesHostileOnes) {
  TempDir base;
  auto s = Scratch::Create({base.path(), false}, 0, 0);
  ASSERT_TRUE(s.ok());
  const Scratch& sc = **s;
  PathMap map;
  map.Add("/rec/work", sc.lower());
  LowerBuilder b(sc, map, geteuid() == 0);
  trace::SnapshotChunk chunk;
  chunk.entries.push_back(Entry("", trace::FileType::kDirectory, 0755));
  chunk.entries.push_back(Entry("dir", trace::FileType::kDirectory, 0750));
  trace::SnapshotEntry withc = Entry("dir/content.txt", trace::FileType::kRegular, 0640, 5);
  withc.content_hash = "abcd";
  chunk.entries.push_back(withc);
  chunk.entries.push_back(Entry("dir/zeros.bin", trace::FileType::kRegular, 0600, 100000));
  trace::SnapshotEntry in = Entry("in", trace::FileType::kSymlink, 0777);
  in.symlink_target = "/rec/work/dir";
  chunk.entries.push_back(in);
  trace::SnapshotEntry out = Entry("out", trace::FileType::kSymlink, 0777);
  out.symlink_target = "/etc";
  chunk.entries.push_back(out);
  chunk.entries.push_back(Entry("fifo", trace::FileType::kFifo, 0644));
  chunk.entries.push_back(Entry("dev", trace::FileType::kCharDevice, 0644));
  chunk.entries.push_back(Entry("deep/er/file", trace::FileType::kRegular, 0644, 1));
  // Hostile: escapes, absolute paths, and a path through a symlink.
  chunk.entries.push_back(Entry("../escaped", trace::FileType::kRegular, 0644, 1));
  chunk.entries.push_back(Entry("/abs", trace::FileType::kRegular, 0644, 1));
  chunk.entries.push_back(Entry("dir/../../x", trace::FileType::kRegular, 0644, 1));
  chunk.entries.push_back(Entry("out/passwd-copy", trace::FileType::kRegular, 0644, 1));
  chunk.blobs.push_back({"abcd", 0, "hel"});
  chunk.blobs.push_back({"abcd", 3, "lo"});
  chunk.blobs.push_back({"../../evil", 0, "x"});
  ASSERT_TRUE(b.Add(chunk).ok());
  auto stats = b.Finish();
  ASSERT_TRUE(stats.ok()) << stats.error().Message();
  EXPECT_EQ(stats->with_content, 1u);
  EXPECT_GE(stats->placeholders, 2u);
  EXPECT_EQ(stats->skipped, 4u);

  const std::string l = sc.lower();
  EXPECT_EQ(replay_test::ReadFile(l + "/dir/content.txt"), "hello");
  struct stat st {};
  ASSERT_EQ(stat((l + "/dir/zeros.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 100000);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'600'000'000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123'456'789);
  ASSERT_EQ(stat((l + "/dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'600'000'000) << "directory times are set after their entries";
  char target[256] = {};
  ASSERT_GT(readlink((l + "/in").c_str(), target, sizeof target - 1), 0);
  EXPECT_EQ(std::string(target), l + "/dir") << "targets into the workdir are mapped";
  ASSERT_EQ(lstat((l + "/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ASSERT_EQ(lstat((l + "/dev").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode)) << "devices are never created";
  EXPECT_EQ(lstat((l + "/deep/er/file").c_str(), &st), 0) << "missing ancestors are made";
  EXPECT_NE(lstat((sc.root() + "/escaped").c_str(), &st), 0);
  EXPECT_NE(lstat("/etc/passwd-copy", &st), 0);
  EXPECT_NE(lstat((sc.root() + "/evil").c_str(), &st), 0);
  EXPECT_FALSE(stats->warnings.empty());
}

class ReplayTracee : public ::testing::Test {
 protected:
  static TraceeCall Call(TraceeCallKind k) {
    TraceeCall c;
    c.kind = k;
    return c;
  }
  PathMap map_;
};

TEST_F(ReplayTracee, ServesRecordedResultsInOrder) {
  map_.Add("/rec/work", "/scr/lowr");
  std::vector<TraceeCall> calls;
  TraceeCall s = Call(TraceeCallKind::kReadString);
  s.addr = 0x1000;
  s.length = 4096;
  s.bytes = "/rec/work/a.txt";
  calls.push_back(s);
  TraceeCall v = Call(TraceeCallKind::kIdValid);
  v.result = 1;
  calls.push_back(v);
  TraceeCall link = Call(TraceeCallKind::kReadProcLink);
  link.link = trace::ProcLink::kFd;
  link.fd = 5;
  link.error = EBADF;
  calls.push_back(link);
  TraceeCall m = Call(TraceeCallKind::kReadMemory);
  m.addr = 0x2000;
  m.length = 8;
  m.bytes = "abc";  // short read
  calls.push_back(m);
  TraceeCall w = Call(TraceeCallKind::kWriteMemory);
  w.addr = 0x3000;
  w.bytes = "/rec/work/a.txt";
  w.result = w.bytes.size();
  calls.push_back(w);
  TraceeCall seek = Call(TraceeCallKind::kSeekFd);
  seek.fd = 3;
  seek.offset = 0;
  seek.whence = SEEK_CUR;
  seek.result = 42;
  calls.push_back(seek);
  TraceeCall ids = Call(TraceeCallKind::kReadProcIds);
  ids.tgid = 100;
  ids.ppid = 99;
  calls.push_back(ids);
  TraceeCall sp = Call(TraceeCallKind::kReadStackPointer);
  sp.result = 0x7ffd0000;
  calls.push_back(sp);

  RecordedTracee t(map_);
  t.Begin(calls);
  auto str = t.ReadString(0x1000, 4096);
  ASSERT_TRUE(str.ok());
  EXPECT_EQ(*str, "/scr/lowr/a.txt");
  EXPECT_TRUE(t.IdValid());
  auto l = t.ReadProcLink(ProcLink::kFd, 5);
  EXPECT_EQ(l.code(), EBADF);
  std::byte buf[8];
  auto n = t.ReadMemory(0x2000, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(std::memcmp(buf, "abc", 3), 0);
  std::string data = "/scr/lowr/a.txt";
  auto wn = t.WriteMemory(0x3000, std::as_bytes(std::span(data.data(), data.size())));
  ASSERT_TRUE(wn.ok());
  EXPECT_EQ(*wn, data.size());
  EXPECT_EQ(*t.SeekFd(3, 0, SEEK_CUR), 42);
  EXPECT_EQ(t.ReadProcIds()->ppid, 99);
  EXPECT_EQ(*t.ReadStackPointer(), 0x7ffd0000u);
  EXPECT_EQ(t.consumed(), calls.size());
  ASSERT_EQ(t.writes().size(), 1u);
  EXPECT_EQ(t.writes()[0].index, 4u);
  EXPECT_EQ(t.writes()[0].bytes, "/rec/work/a.txt") << "scratch paths are mapped back";
  // Past the end of the log: the event fails.
  try {
    (void)t.ReadUmask();
    FAIL() << "no exception";
  } catch (const CallMismatch& e) {
    EXPECT_EQ(e.index(), calls.size());
    EXPECT_NE(e.expected().find("no further call"), std::string::npos);
    EXPECT_EQ(e.got(), "read_umask()");
  }
}

TEST_F(ReplayTracee, OtherInputsOrAnotherOrderFailTheEvent) {
  std::vector<TraceeCall> calls;
  TraceeCall s = Call(TraceeCallKind::kReadString);
  s.addr = 0x1000;
  s.length = 4096;
  calls.push_back(s);
  calls.push_back(Call(TraceeCallKind::kIdValid));
  RecordedTracee t(map_);
  t.Begin(calls);
  EXPECT_THROW((void)t.ReadString(0x1008, 4096), CallMismatch);
  t.Begin(calls);
  try {
    (void)t.IdValid();
    FAIL();
  } catch (const CallMismatch& e) {
    EXPECT_EQ(e.index(), 0u);
    EXPECT_EQ(e.expected(), "read_string(0x1000, 4096)");
    EXPECT_EQ(e.got(), "id_valid()");
  }
  t.Begin(calls);
  EXPECT_THROW((void)t.ReadString(0x1000, 255), CallMismatch);
}

TEST_F(ReplayTracee, HostCallsAreAnsweredFromTheTraceWithoutLookingAtTheHost) {
  map_.Add("/rec/store", "/scr/store");
  std::vector<TraceeCall> calls;
  TraceeCall reach = Call(TraceeCallKind::kHostCall);
  reach.host_op = trace::HostOp::kReach;
  reach.address = "/rec/store/tmp/x";
  reach.offset = 3;
  reach.bytes = std::string("/rec/store/tmp\0x\0rw", 19);
  calls.push_back(reach);
  TraceeCall open = Call(TraceeCallKind::kHostCall);
  open.host_op = trace::HostOp::kOpen;
  open.address = "/opt/none";
  open.offset = O_RDONLY;
  open.error = ENOENT;
  calls.push_back(open);
  RecordedTracee t(map_);
  t.Begin(calls);
  int performed = 0;
  auto perform = [&]() -> Result<std::string> {
    ++performed;
    return std::string("from the host");
  };
  auto r = t.HostCall(HostOp::kReach, "/scr/store/tmp/x", 3, perform);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::string("/scr/store/tmp\0x\0rw", 19)) << "the canonical path is mapped in";
  EXPECT_EQ(t.HostCall(HostOp::kOpen, "/opt/none", O_RDONLY, perform).code(), ENOENT);
  EXPECT_EQ(performed, 0);
  // Another op, path or argument than recorded: the event fails.
  t.Begin(calls);
  EXPECT_THROW((void)t.HostCall(HostOp::kStat, "/scr/store/tmp/x", 3, perform), CallMismatch);
  t.Begin(calls);
  EXPECT_THROW((void)t.HostCall(HostOp::kReach, "/scr/store/tmp/y", 3, perform), CallMismatch);
  t.Begin(calls);
  EXPECT_THROW((void)t.HostCall(HostOp::kReach, "/scr/store/tmp/x", 1, perform), CallMismatch);
  // A path the engine reached through ".." from the workdir: beneath the
  // recorded workdir's parent there, beneath the scratch's parent here.
  std::vector<TraceeCall> up_calls;
  TraceeCall up = Call(TraceeCallKind::kHostCall);
  up.host_op = trace::HostOp::kStat;
  up.address = "/rec/other/x";
  up.offset = 1;
  up.error = ENOENT;
  up_calls.push_back(up);
  map_.Add("/rec/work", "/scr/lowr");
  t.Begin(up_calls);
  EXPECT_EQ(t.HostCall(HostOp::kStat, "/scr/other/x", 1, perform).code(), ENOENT);
  t.Begin(up_calls);
  EXPECT_THROW((void)t.HostCall(HostOp::kStat, "/scr/other/y", 1, perform), CallMismatch);
  // An inotify watch of an upper object: the path in the scratch storage
  // stands for the recorded one; the recorded wd comes back.
  std::vector<TraceeCall> watch_calls;
  TraceeCall watch = Call(TraceeCallKind::kAddWatch);
  watch.fd = 3;
  watch.address = "/rec/store/upper/made";
  watch.offset = 0x300;
  watch.result = 7;
  watch_calls.push_back(watch);
  t.Begin(watch_calls);
  EXPECT_EQ(*t.AddWatch(3, "/scr/store/upper/made", 0x300), 7);
  t.Begin(watch_calls);
  EXPECT_THROW((void)t.AddWatch(4, "/scr/store/upper/made", 0x300), CallMismatch);
  // A trace from before host calls were recorded: lookups ask this host,
  // opens and changes are neither made nor failed.
  t.set_host_calls_recorded(false);
  std::vector<TraceeCall> none;
  t.Begin(none);
  EXPECT_EQ(*t.HostCall(HostOp::kStat, "/opt/x", 0, perform), "from the host");
  EXPECT_EQ(*t.HostCall(HostOp::kOpen, "/opt/x", O_WRONLY | O_TRUNC, perform), "");
  EXPECT_EQ(*t.HostCall(HostOp::kChange, "/opt/x", 1, perform), "");
  EXPECT_EQ(performed, 1);
  EXPECT_EQ(t.consumed(), 0u);
}

std::string StatBytes(const struct stat& st) {
  return std::string(reinterpret_cast<const char*>(&st), sizeof st);
}

TEST(ReplayCompare, StatBuffersIgnoreIdentityTimesAndLayout) {
  struct stat e {};
  e.st_mode = S_IFREG | 0644;
  e.st_size = 12;
  e.st_nlink = 1;
  e.st_ino = 1234;
  e.st_dev = 0x801;
  e.st_mtim.tv_sec = 100;
  e.st_blocks = 8;
  struct stat g = e;
  g.st_ino = 99;
  g.st_dev = 0x2a;
  g.st_mtim.tv_sec = 200;
  g.st_blocks = 0;
  g.st_blksize = 512;
  CompareContext ctx;
  ctx.syscall = "newfstatat";
  TraceeCall call;
  call.kind = TraceeCallKind::kWriteMemory;
  call.bytes = StatBytes(e);
  RecordedTracee::Write w{3, 0x7000, StatBytes(g)};
  EXPECT_FALSE(CompareWrite(ctx, call, w).has_value());
  g.st_size = 13;
  w.bytes = StatBytes(g);
  auto d = CompareWrite(ctx, call, w);
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->what.find("st_size 12 vs 13"), std::string::npos) << d->what;
  // ... unless the child wrote the file through an injected fd.
  std::set<std::pair<uint64_t, uint64_t>> written = {{0x2a, 99}};
  ctx.written_inodes = &written;
  EXPECT_FALSE(CompareWrite(ctx, call, w).has_value());
  // Owners count only when they were restored.
  g = e;
  g.st_uid = 65534;
  w.bytes = StatBytes(g);
  EXPECT_TRUE(CompareWrite(ctx, call, w).has_value());
  ctx.owners_restored = false;
  EXPECT_FALSE(CompareWrite(ctx, call, w).has_value());
}

TEST(ReplayCompare, DirentsIgnoreInodesOnly) {
  auto rec = [](uint64_t ino, uint64_t off, const char* name) {
    std::string r(24, '\0');
    std::memcpy(r.data(), &ino, 8);
    std::memcpy(r.data() + 8, &off, 8);
    uint16_t reclen = 24;
    std::memcpy(r.data() + 16, &reclen, 2);
    r[18] = 8;  // DT_REG
    std::strncpy(r.data() + 19, name, 4);
    return r;
  };
  CompareContext ctx;
  ctx.syscall = "getdents64";
  TraceeCall call;
  call.bytes = rec(11, 1001, "a") + rec(12, 1002, "b");
  RecordedTracee::Write w{0, 0, rec(91, 1001, "a") + rec(92, 1002, "b")};
  EXPECT_FALSE(CompareWrite(ctx, call, w).has_value());
  w.bytes = rec(91, 1001, "a") + rec(92, 1003, "b");
  EXPECT_TRUE(CompareWrite(ctx, call, w).has_value());
  w.bytes = rec(91, 1001, "a") + rec(92, 1002, "c");
  EXPECT_TRUE(CompareWrite(ctx, call, w).has_value());
}

TEST(ReplayCompare, DecisionsAndChangeLists) {
  PathMap map;
  trace::DecisionRecord e;
  e.kind = trace::DecisionKind::kInjectFd;
  e.file = {trace::FileRoot::kUpper, "a/b", O_RDWR | O_CLOEXEC, O_CLOEXEC, 7};
  InjectedFile f{FileRoot::kUpper, "a/b", O_RDWR | O_CLOEXEC, O_CLOEXEC};
  EXPECT_FALSE(CompareDecision(e, Decision::Inject(UniqueFd(), f), map).has_value())
      << "the child's fd number is not compared";
  f.fd_flags = 0;
  auto d = CompareDecision(e, Decision::Inject(UniqueFd(), f), map);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->what, "decision");
  d = CompareDecision(e, Decision::Errno(ENOENT), map);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->got, "errno ENOENT");

  std::vector<trace::Change> rec = {{trace::ChangeKind::kAdded, "new"},
                                    {trace::ChangeKind::kModified, "written"},
                                    {trace::ChangeKind::kModified, "chmodded"},
                                    {trace::ChangeKind::kDeleted, "gone"}};
  cow::ChangeList got = {{cow::ChangeKind::kAdded, "new"},
                         {cow::ChangeKind::kDeleted, "gone"},
                         {cow::ChangeKind::kAdded, "extra"}};
  auto diffs = CompareChanges(rec, got, {"written"});
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].what, "change \"chmodded\"");
  EXPECT_EQ(diffs[0].got, "(not listed)");
  EXPECT_EQ(diffs[1].what, "change \"extra\"");
  EXPECT_EQ(diffs[1].expected, "(not listed)");
}

TEST(ReplayJson, ParsesDocumentsAndSaysWhereItFails) {
  auto v =
      JsonValue::Parse(R"({"a": [1, 2.5e1, -3], "b": {"c": "x\u00e9\n"}, "d": true, "e": null})");
  ASSERT_TRUE(v.ok()) << v.error().context;
  ASSERT_NE(v->Find("a"), nullptr);
  EXPECT_EQ(v->Find("a")->items().size(), 3u);
  EXPECT_EQ(v->Find("a")->items()[1].number(), 25);
  EXPECT_EQ(v->Find("b")->Find("c")->string(), "x\xc3\xa9\n");
  EXPECT_TRUE(v->Find("d")->boolean());
  auto bad = JsonValue::Parse("{\"a\": [1,\n 2,, 3]}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().context.find("line 2"), std::string::npos) << bad.error().context;
  EXPECT_FALSE(JsonValue::Parse(std::string(100000, '[')).ok()) << "nesting is bounded";
  EXPECT_FALSE(JsonValue::Parse("{} x").ok());
  EXPECT_FALSE(JsonValue::Parse("\"unterminated").ok());
}

TEST(ReplayTiming, BaselineFlagsOnlyRowsBeyondTheThreshold) {
  TimingCollector c;
  for (int i = 0; i < 100; ++i) {
    c.Add("openat", "cow", 2000, 9000);
    c.Add("getrandom", "seed", 500, 700);
  }
  TimingReport now = c.Summarise();
  ASSERT_EQ(now.by_syscall.size(), 2u);
  EXPECT_EQ(now.all.replay.count, 200u);
  EXPECT_EQ(now.all.live.count, 200u);
  const std::string base = R"({"timing": {
    "all": {"name": "all events", "replay": {"count": 200, "p99_ns": 2000}},
    "by_handler": [{"name": "cow", "replay": {"count": 100, "p99_ns": 1000}},
                   {"name": "seed", "replay": {"count": 100, "p99_ns": 1000}}],
    "by_syscall": [{"name": "openat", "replay": {"count": 100, "p99_ns": 1000}},
                   {"name": "getrandom", "replay": {"count": 5, "p99_ns": 1}}]}})";
  BaselineOptions o;
  auto r = CompareBaseline(base, now, o);
  ASSERT_TRUE(r.ok()) << r.error().context;
  // cow and openat doubled; seed halved; getrandom has too few samples.
  std::vector<std::string> rows;
  for (const Regression& g : r->regressions) rows.push_back(g.row);
  EXPECT_EQ(rows, (std::vector<std::string>{"handler cow", "syscall openat"}));
  EXPECT_EQ(r->rows_compared, 4u);
  o.threshold = 1.5;
  EXPECT_TRUE(CompareBaseline(base, now, o)->regressions.empty());
  o.percentile = "p42";
  EXPECT_FALSE(CompareBaseline(base, now, o).ok());
  o.percentile = "p99";
  EXPECT_FALSE(CompareBaseline("[1, 2]", now, o).ok());
  EXPECT_FALSE(CompareBaseline("not json", now, o).ok());
}

}  // namespace
}  // namespace sandtrace::replay
