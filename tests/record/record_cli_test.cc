// `trace record` as a subprocess: default output and exit status, usage
// errors, per-syscall counts against strace, SIGINT, SIGKILL at random
// points of 20 recordings, and a full disk.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "cow/handlers/cow_session.h"
#include "tests/record/record_test_util.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace::record {
namespace {

using rtest::ReadTrace;
using rtest::RunProcess;
using rtest::Subprocess;
using rtest::TempDir;

const std::string kTrace = TRACE_BIN;

// A fingerprint of a directory tree (names, sizes, modes, contents).
std::string TreeFingerprint(const std::string& root) {
  auto r = RunProcess({"/bin/sh", "-c",
                       "cd '" + root +
                           "' && find . -printf '%p %s %m %y\\n' | sort && "
                           "find . -type f -exec cat {} +"});
  return r.out;
}

bool WaitGone(const std::string& marker, int ms) {
  for (int i = 0; i < ms / 10; ++i) {
    if (rtest::ProcessesWithArg(marker).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return rtest::ProcessesWithArg(marker).empty();
}

int Lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

class RecordCli : public ::testing::Test {
 protected:
  void SetUp() override {
    rtest::WriteFile(work_.path() + "/a.txt", "alpha\n");
    rtest::WriteFile(work_.path() + "/b.txt", "beta\n");
  }
  TempDir work_;
  TempDir out_;
};

TEST_F(RecordCli, DefaultOutputIsTraceCapnpInTheCurrentDirectory) {
  auto r = RunProcess({kTrace, "record", "--", "/bin/sh", "-c", "cat a.txt > /dev/null; exit 3"},
                      60, work_.path());
  EXPECT_EQ(r.code(), 3) << r.err;
  const std::string path = work_.path() + "/trace.capnp";
  auto c = ReadTrace(path);
  ASSERT_EQ(c.open_error, "") << r.err;
  ASSERT_EQ(c.read_error, "");
  EXPECT_EQ(c.warning, "");
  ASSERT_TRUE(c.header.has_value());
  EXPECT_EQ(c.header->argv,
            (std::vector<std::string>{"/bin/sh", "-c", "cat a.txt > /dev/null; exit 3"}));
  char real[PATH_MAX];
  ASSERT_NE(realpath(work_.path().c_str(), real), nullptr);
  EXPECT_EQ(c.header->cwd, real);
  EXPECT_EQ(c.header->workdir, real);
  EXPECT_FALSE(c.header->env.has_value());
  EXPECT_EQ(c.header->snapshot_mode, trace::SnapshotMode::kMetadata);
  EXPECT_EQ(c.header->arch, NativeSyscalls().audit_arch());
  std::map<std::string, trace::Feature> features;
  for (const auto& f : c.header->features) features[f.name] = f;
  EXPECT_TRUE(features.count("landlock.abi"));
  EXPECT_TRUE(features.count("seccomp.sync_wake_up"));
  EXPECT_TRUE(features.count("seccomp.wait_killable_recv"));
  ASSERT_TRUE(c.footer.has_value());
  EXPECT_TRUE(c.footer->clean_end);
  EXPECT_EQ(c.footer->exit_status, 3);
  EXPECT_EQ(c.footer->signal, 0);
  EXPECT_EQ(c.footer->totals.events, c.events.size());
  // The trace's bytes are never part of the snapshot (at most its name).
  for (const auto& e : c.entries) {
    if (e.path != "trace.capnp") continue;
    EXPECT_EQ(e.size, 0u);
    EXPECT_TRUE(e.content_hash.empty());
  }
}

TEST_F(RecordCli, RecordEnvAndContentSnapshotAreInTheHeader) {
  const std::string path = out_.path() + "/t.capnp";
  auto r = RunProcess(
      {kTrace, "record", "-o", path, "--record-env", "--snapshot", "content", "--", "/bin/true"},
      60, work_.path());
  ASSERT_EQ(r.code(), 0) << r.err;
  auto c = ReadTrace(path);
  ASSERT_TRUE(c.header.has_value());
  ASSERT_TRUE(c.header->env.has_value());
  bool has_path = false;
  for (const auto& e : *c.header->env) has_path |= e.rfind("PATH=", 0) == 0;
  EXPECT_TRUE(has_path);
  EXPECT_EQ(c.header->snapshot_mode, trace::SnapshotMode::kFull);
  EXPECT_EQ(c.header->snapshot_hash, "sha256");
}

TEST_F(RecordCli, ThePolicyNamesTheRunsTmpdirAndCanonicalWritePaths) {
  // Replay judges outside paths by these, and `trace diff` recognises the
  // run's TMPDIR in paths by it.
  const std::string path = out_.path() + "/t.capnp";
  const std::string link = out_.path() + "/wlink";
  ASSERT_EQ(symlink(out_.path().c_str(), link.c_str()), 0);
  auto r = RunProcess({kTrace, "record", "-o", path, "-w", link, "--discard", "--", "/bin/sh", "-c",
                       "echo \"$TMPDIR\""},
                      60, work_.path());
  ASSERT_EQ(r.code(), 0) << r.err;
  auto c = ReadTrace(path);
  ASSERT_TRUE(c.header.has_value());
  std::string tmpdir;
  for (const auto& kv : c.header->policy.options) {
    if (kv.key == "tmpdir") tmpdir = kv.value;
  }
  EXPECT_EQ(tmpdir + "\n", r.out);
  char real[PATH_MAX];
  ASSERT_NE(realpath(out_.path().c_str(), real), nullptr);
  EXPECT_EQ(c.header->policy.write_paths, std::vector<std::string>{real});
}

TEST_F(RecordCli, BadInputGetsOneLineAndANonZeroExit) {
  struct Case {
    std::vector<std::string> args;
    int code;
  } cases[] = {
      {{"record", "--snapshot", "everything", "--", "/bin/true"}, 2},
      {{"record"}, 2},
      {{"record", "--passthrough", "no_such_syscall", "--", "/bin/true"}, 2},
      {{"record", "-o", out_.path() + "/missing/dir/t.capnp", "--", "/bin/true"}, 125},
      {{"record", "-o", "", "--", "/bin/true"}, 2},
      {{"record", "--writer", "fast", "--", "/bin/true"}, 2},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {kTrace};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = RunProcess(argv, 30, out_.path());
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_EQ(r.code(), c.code) << joined << "\n" << r.err;
    EXPECT_EQ(Lines(r.err), 1) << joined << "\n" << r.err;
    EXPECT_EQ(r.err.find("terminate called"), std::string::npos);
  }
  // A usage error never touches an existing trace.
  const std::string keep = out_.path() + "/keep.capnp";
  rtest::WriteFile(keep, "precious");
  auto u = RunProcess({kTrace, "record", "-o", keep, "--passthrough", "nope", "--", "/bin/true"});
  EXPECT_EQ(u.code(), 2) << u.err;
  EXPECT_EQ(rtest::ReadFile(keep), "precious");
  // A command that cannot be run: 127, and the trace says so.
  const std::string path = out_.path() + "/t.capnp";
  auto r = RunProcess({kTrace, "record", "-o", path, "--", "/nonexistent/cmd"}, 30);
  EXPECT_EQ(r.code(), 127) << r.err;
  auto c = ReadTrace(path);
  ASSERT_TRUE(c.footer.has_value());
  EXPECT_EQ(c.footer->exit_status, 127);
}

// For a deterministic single-process command, the events per syscall equal
// strace's counts for the syscalls in the notify set: the COW set (the
// default handlers) plus a --passthrough list.
TEST_F(RecordCli, PerSyscallEventCountsEqualStraceCounts) {
  if (access("/usr/bin/strace", X_OK) != 0) GTEST_SKIP() << "strace is not installed";
  const std::string extra = "read,write,close,fstat,mmap,mprotect,brk,pread64";
  std::string set = extra;
  for (std::string_view n : cow::CowSyscallNames()) set += "," + std::string(n);
  const std::vector<std::string> cmd = {"/usr/bin/cat", "a.txt", "b.txt"};
  const std::string path = out_.path() + "/t.capnp";
  std::vector<std::string> argv = {kTrace, "record", "-o", path, "--passthrough", extra, "--"};
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  auto r = RunProcess(argv, 60, work_.path());
  ASSERT_EQ(r.code(), 0) << r.err;
  EXPECT_EQ(r.out, "alpha\nbeta\n");
  auto c = ReadTrace(path);
  std::map<std::string, int> recorded;
  for (const auto& e : c.events) ++recorded[NativeSyscalls().NameOf(e.nr)];

  const std::string st = out_.path() + "/strace.out";
  rtest::ProcResult s;
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::vector<std::string> sargv = {
        "/usr/bin/strace", "-f", "-c", "-U", "name,calls", "-o", st, "-e", "trace=" + set};
    sargv.insert(sargv.end(), cmd.begin(), cmd.end());
    s = RunProcess(sargv, 60, work_.path());
    // An strace older than the kernel does not know the newest syscalls
    // (fchmodat2): leave them out (cat does not make them).
    const std::string tag = "invalid system call '";
    size_t at = s.err.find(tag);
    if (s.code() == 0 || at == std::string::npos) break;
    std::string name = s.err.substr(at + tag.size());
    name = name.substr(0, name.find('\''));
    std::string kept;
    std::istringstream names(set);
    for (std::string n; std::getline(names, n, ',');) {
      if (n != name) kept += (kept.empty() ? "" : ",") + n;
    }
    set = kept;
  }
  ASSERT_EQ(s.code(), 0) << s.err;
  std::map<std::string, int> straced;
  std::istringstream in(rtest::ReadFile(st));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string name;
    int calls = 0;
    if ((l >> name >> calls) && name != "total" && name != "syscall") straced[name] = calls;
  }
  ASSERT_FALSE(straced.empty()) << rtest::ReadFile(st);
  EXPECT_EQ(recorded, straced);
}

// End to end: record a copy-on-write run with the trace inside the workdir,
// then `trace replay` re-drives the handlers over the snapshot: identical.
TEST_F(RecordCli, RecordThenReplayIsIdentical) {
  if (RunProcess({kTrace, "replay", "--help"}, 30).code() != 0) {
    GTEST_SKIP() << "this build has no trace replay";
  }
  rtest::WriteFile(work_.path() + "/c.txt", "gamma\n");
  for (const char* snapshot : {"meta", "content"}) {
    SCOPED_TRACE(snapshot);
    unlink((work_.path() + "/trace.capnp").c_str());
    auto r =
        RunProcess({kTrace, "record", "--snapshot", snapshot, "--discard", "--", "/bin/sh", "-c",
                    "echo new > n.txt; ls -la > /dev/null; cat a.txt c.txt > /dev/null; "
                    "rm b.txt; mkdir d && mv n.txt d/; find . > /dev/null; ls -R"},
                   60, work_.path());
    ASSERT_EQ(r.code(), 0) << r.err;
    EXPECT_NE(r.out.find("trace.capnp"), std::string::npos);  // the child saw it
    auto p = RunProcess({kTrace, "replay", work_.path() + "/trace.capnp"}, 120, out_.path());
    EXPECT_EQ(p.code(), 0) << p.out << p.err;
  }
}

// Every --writer mode writes the same events, over several frames (so the
// split writer's compressor thread and the writer thread both take part),
// and each trace replays identically.
TEST_F(RecordCli, EveryWriterModeRecordsTheSameEvents) {
  std::vector<std::vector<int>> syscalls;
  for (const char* writer : {"inline", "split", "thread"}) {
    SCOPED_TRACE(writer);
    const std::string path = out_.path() + "/" + writer + ".capnp";
    // 15,000 stats of a workdir file by the shell's builtin test: one
    // process, ~3 MiB of events before compression (six frames).
    auto r =
        RunProcess({kTrace, "record", "--writer", writer, "-o", path, "--discard", "--", "/bin/sh",
                    "-c", "i=0; while [ $i -lt 15000 ]; do [ -e a.txt ]; i=$((i+1)); done"},
                   120, work_.path());
    ASSERT_EQ(r.code(), 0) << r.err;
    auto c = ReadTrace(path);
    ASSERT_EQ(c.read_error, "");
    EXPECT_EQ(c.warning, "");
    ASSERT_TRUE(c.footer.has_value());
    EXPECT_TRUE(c.footer->clean_end);
    ASSERT_GT(c.events.size(), 15000u);
    EXPECT_GT(c.footer->totals.record_bytes, 4u * 512 * 1024) << "several frames";
    std::vector<int> nrs;
    for (size_t k = 0; k < c.events.size(); ++k) {
      EXPECT_EQ(c.events[k].seq, k);
      nrs.push_back(c.events[k].nr);
    }
    syscalls.push_back(std::move(nrs));
    auto p = RunProcess({kTrace, "replay", path}, 120, out_.path());
    EXPECT_EQ(p.code(), 0) << p.out << p.err;
  }
  EXPECT_EQ(syscalls[0], syscalls[1]);
  EXPECT_EQ(syscalls[0], syscalls[2]);
}

// A long workload: a shell loop that opens files (notified) for seconds.
std::vector<std::string> LongWorkload(const std::string& marker) {
  return {"/bin/sh", "-c",
          "i=0; while [ $i -lt 20000 ]; do cat a.txt b.txt > /dev/null; i=$((i+1)); done", marker};
}

TEST_F(RecordCli, SigintEndsTheTreeAndClosesTheTraceWithItsFooter) {
  const std::string marker = "record-sigint-" + std::to_string(getpid());
  const std::string path = out_.path() + "/t.capnp";
  std::vector<std::string> argv = {kTrace, "record", "-o", path, "--"};
  for (auto& a : LongWorkload(marker)) argv.push_back(a);
  Subprocess p(argv, work_.path());
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  kill(p.pid(), SIGINT);
  auto r = p.Wait(30);
  EXPECT_EQ(r.code(), 128 + SIGINT) << r.err;
  EXPECT_TRUE(WaitGone(marker, 2000));
  auto c = ReadTrace(path);
  ASSERT_EQ(c.read_error, "");
  EXPECT_EQ(c.warning, "");
  ASSERT_TRUE(c.footer.has_value());
  EXPECT_TRUE(c.footer->clean_end);
  EXPECT_EQ(c.footer->signal, SIGKILL);  // the supervisor ended the tree
  EXPECT_GT(c.events.size(), 10u);
}

// SIGKILL of `trace` at random points of 20 recordings: the tree dies, the
// workdir is untouched, and every trace opens and reads up to where it
// stopped, saying so.
TEST_F(RecordCli, SigkillAtRandomPointsLeavesReadablePrefixes) {
  const std::string before = TreeFingerprint(work_.path());
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> delay_ms(20, 700);
  int with_events = 0;
  for (int i = 0; i < 20; ++i) {
    const int ms = delay_ms(rng);
    SCOPED_TRACE("recording " + std::to_string(i) + ", SIGKILL after " + std::to_string(ms) +
                 " ms");
    const std::string marker = "record-kill-" + std::to_string(getpid()) + "-" + std::to_string(i);
    const std::string path = out_.path() + "/t" + std::to_string(i) + ".capnp";
    // A storage area of our own: a killed run leaves its upper layer behind.
    const std::string storage = out_.path() + "/storage" + std::to_string(i);
    ASSERT_EQ(mkdir(storage.c_str(), 0700), 0);
    std::vector<std::string> argv = {kTrace, "record",    "-o",    path, "--seed",
                                     "1",    "--storage", storage, "--"};
    for (auto& a : LongWorkload(marker)) argv.push_back(a);
    Subprocess p(argv, work_.path());
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    kill(p.pid(), SIGKILL);
    auto r = p.Wait(30);
    EXPECT_EQ(r.code(), 128 + SIGKILL);
    EXPECT_TRUE(WaitGone(marker, 3000)) << "the sandboxed tree outlived `trace`";
    auto c = ReadTrace(path);
    if (ms < 60 && !c.open_error.empty()) continue;  // killed before the header was written
    ASSERT_EQ(c.open_error, "");
    ASSERT_EQ(c.read_error, "");
    EXPECT_FALSE(c.footer.has_value());
    EXPECT_NE(c.warning, "") << "the reader must say where the trace stopped";
    for (size_t k = 0; k < c.events.size(); ++k) EXPECT_EQ(c.events[k].seq, k);
    if (!c.events.empty()) {
      ++with_events;
      ASSERT_TRUE(c.last_good_seq.has_value());
      EXPECT_EQ(*c.last_good_seq, c.events.back().seq);
    }
  }
  EXPECT_GE(with_events, 10);
  EXPECT_EQ(TreeFingerprint(work_.path()), before);
}

// The trace's disk fills: the command is stopped with one clear line, the
// workdir is untouched and the trace reads up to the failure.
TEST_F(RecordCli, AFullDiskStopsTheCommandAndKeepsTheTraceReadable) {
  TempDir mnt;
  if (mount("tmpfs", mnt.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=512k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs (" << strerror(errno)
                 << "): the disk-full test needs root";
  }
  struct Unmount {
    std::string p;
    ~Unmount() { umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt.path()};
  const std::string before = TreeFingerprint(work_.path());
  const std::string marker = "record-full-" + std::to_string(getpid());
  const std::string path = mnt.path() + "/t.capnp";
  // Each getrandom writes 64 KiB of seeded bytes into the child: the payload
  // is recorded, and incompressible.
  auto r = RunProcess({kTrace, "record", "-o", path, "--seed", "5", "--", REC_FLOOD, "0", marker},
                      60, work_.path());
  EXPECT_EQ(r.code(), 125) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stopped"), std::string::npos) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_TRUE(WaitGone(marker, 3000));
  EXPECT_EQ(TreeFingerprint(work_.path()), before);
  auto c = ReadTrace(path);
  ASSERT_EQ(c.open_error, "");
  ASSERT_EQ(c.read_error, "");
  EXPECT_FALSE(c.footer.has_value());
  EXPECT_NE(c.warning, "");
  for (size_t k = 0; k < c.events.size(); ++k) EXPECT_EQ(c.events[k].seq, k);
}

}  // namespace
}  // namespace sandtrace::record
