// Record -> replay -> identical, on small real workloads run in the
// copy-on-write sandbox (the integration workloads: shell + coreutils,
// directory listings, cc, git, python, the seed set, the quota), plus
// replays that must not be identical: another quota, a handler variant.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/trace_reader.h"
#include "replay/replay.h"
#include "tests/replay/replay_test_util.h"

namespace sandtrace::replay {
namespace {

using replay_test::TempDir;
using replay_test::WriteFile;

class ReplayLive : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(work_.c_str(), 0755), 0);
    WriteFile(work_ + "/data.txt", "b\na\nc\n");
    WriteFile(work_ + "/old.txt", "old\n");
    WriteFile(work_ + "/hello.c", "#include <stdio.h>\nint main(void){puts(\"hi\");return 0;}\n");
    WriteFile(work_ + "/big.bin", std::string(64 * 1024, 'x'));
    ASSERT_EQ(mkdir((work_ + "/src").c_str(), 0755), 0);
    WriteFile(work_ + "/src/a.txt", "a\n");
    WriteFile(work_ + "/src/b.txt", "b\n");
  }
  replay_test::RecordSpec Spec(const std::string& script) {
    replay_test::RecordSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.workdir = work_;
    spec.trace = out_ / "t.capnp";
    return spec;
  }
  std::string Record(const replay_test::RecordSpec& spec) {
    auto r = replay_test::RecordCow(spec);
    EXPECT_EQ(r.error, "");
    EXPECT_GT(r.events, 0u);
    last_exit_ = r.exit_code;
    return spec.trace;
  }
  std::string Record(const std::string& script) { return Record(Spec(script)); }
  void ExpectIdentical(const std::string& trace, const ReplayOptions& o = {}) {
    auto r = Replay(trace, o);
    ASSERT_TRUE(r.ok()) << r.error().Message();
    EXPECT_EQ(r->ExitStatus(), 0) << FormatText(*r);
    EXPECT_EQ(r->diverged, 0u);
    EXPECT_GT(r->events, 5u);
    EXPECT_TRUE(r->changes_compared);
  }
  // Replays `trace` from a scratch directory whose path is longer than the
  // workdir's, so the scratch paths cannot take the recorded lengths.
  Result<ReplayReport> ReplayFromALongerScratch(const std::string& trace) {
    std::string deep = longer_.path() + "/" + std::string(100, 'd');
    if (mkdir(deep.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("mkdir " + deep);
    ReplayOptions o;
    o.scratch.base = deep;
    return Replay(trace, o);
  }
  TempDir longer_;
  TempDir root_;
  // Long enough for scratch paths of the same length (replay/scratch.h).
  std::string work_ = root_ / "workdir-of-the-replay-tests";
  TempDir out_;
  int last_exit_ = -1;
};

constexpr char kShellScript[] =
    "echo new > new.txt; sed -i s/a/z/ data.txt; mkdir -p out/sub; cp data.txt out/sub/; "
    "rm old.txt; ls -la > listing.txt; ls out > /dev/null; cat data.txt > /dev/null; "
    "mv new.txt out/; stat out/new.txt > /dev/null; cd out/sub && /bin/pwd > /dev/null";

TEST_F(ReplayLive, ShellEditsFiles) {
  std::string t = Record(kShellScript);
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, FilesOfTheWorkdirWrittenInPlaceAndStatted) {
  // A file the workdir had, truncated or appended to through the child's
  // fd, keeps its lower original's identity in the view; replay, which has
  // no child to write the bytes, must still take its size as the child's.
  std::string t = Record(
      "echo new > old.txt && cat old.txt > /dev/null && stat -c %s old.txt > s1 && "
      "echo more >> data.txt && wc -c < data.txt > s2 && cat data.txt > /dev/null");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, TmpfileOfTheHostsTmp) {
  // O_TMPFILE on /tmp (glibc's tmpfile(3)) is made by the supervisor and
  // injected; replay answers with a stand-in and compares the decision.
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  std::string t = Record(
      "/usr/bin/python3 -S -c \"import os\n"
      "fd = os.open('/tmp', os.O_TMPFILE | os.O_RDWR, 0o600); os.write(fd, b'x' * 5)\n"
      "assert os.fstat(fd).st_size == 5\"");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, TmpfileWhereTheRunMayWrite) {
  // With -w /var/tmp the kernel makes it (CONTINUE): replay must judge the
  // -w paths as the recording did (from the trace's policy), not as empty.
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  if (access("/var/tmp", W_OK) != 0) GTEST_SKIP() << "no writable /var/tmp";
  auto spec = Spec(
      "/usr/bin/python3 -S -c \"import os\n"
      "fd = os.open('/var/tmp', os.O_TMPFILE | os.O_RDWR, 0o600); os.write(fd, b'x' * 5)\n"
      "assert os.fstat(fd).st_size == 5\"");
  spec.write_paths = {"/var/tmp"};
  std::string t = Record(spec);
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, AbsolutePathsWithDoubledSlashesAndDots) {
  std::string t = Record(
      "echo x > \"//$PWD/./n\" && cat \"/$PWD//n\" \"/.$PWD/data.txt\" > /dev/null && "
      "cp /bin/true t && \"//$PWD/t\" && ls \"$PWD//src\" > /dev/null");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, RemovedWorkingDirectories) {
  // Removed cwds, virtual (made in the run) and real (of the workdir):
  // decided the same way from the recorded answers.
  std::string t = Record(
      "mkdir g && cd g && rmdir ../g && (/bin/pwd -P || true) && echo up > ../up && cd .. && "
      "cd src && rm -rf \"$PWD\" && (/bin/pwd -P || true) && readlink /proc/self/cwd && "
      "echo z > ../z && cd .. && cat up z");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, OutsidePathsReachedThroughDotDotFromACwdMadeInTheRun) {
  // From a directory made in the run, "../.." is the workdir's parent: the
  // supervisor looks there on the host (a host call), and in replay the
  // same string names the scratch directory's parent.
  std::string t = Record(
      "mkdir -p d/e && cd d/e && stat -c %F ../../.. && test -d ../../.. && "
      "(stat ../../../none-such 2>/dev/null || echo none)");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, TheWorkdirReachedFromOutsideByRelativePaths) {
  std::string t = Record(
      "echo new > made.txt && mkdir -p d/e && w=$(basename \"$PWD\") && cd .. && "
      "cat \"$w/made.txt\" && cd \"$w/d/e\" && /usr/bin/python3 -S -c \"import os; "
      "os.chdir('../../..'); print(open('$w/made.txt').read())\"");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, SymlinksMadeInTheRunThatLeadOutside) {
  // The supervisor reaches those outside objects itself; replay answers the
  // opens with stand-ins of the recorded description (no host access).
  ExpectIdentical(
      Record("ln -s /bin/true t && \"$PWD/t\" && ln -s /etc/passwd v && "
             "cat v >/dev/null && stat v >/dev/null && ln -s /tmp tl && "
             "ls tl >/dev/null && echo ok"));
  EXPECT_EQ(last_exit_, 0);
}

TEST_F(ReplayLive, StorageAreaLearnedWhenTheHeaderLacksIt) {
  auto spec = Spec(kShellScript);
  spec.name_storage = false;
  ExpectIdentical(Record(spec));
}

TEST_F(ReplayLive, DirectoryListingsOfChangedDirectories) {
  ExpectIdentical(
      Record("touch src/c.txt; rm src/a.txt; ls -l src > /dev/null; mkdir d; touch d/x d/y; "
             "ls d > /dev/null; find . -name '*.txt' > /dev/null; rm -r d; ls > /dev/null"));
}

TEST_F(ReplayLive, RenamedDirectoryAndItsChangeList) {
  // A renamed lower directory's entries are never looked up during the run;
  // the snapshot has them because the change list was computed before it.
  std::string t = Record("mv src srcdir; ls srcdir > /dev/null; mv srcdir/a.txt top.txt");
  ExpectIdentical(t);
  auto r = Replay(t);
  ASSERT_TRUE(r.ok());
  EXPECT_GE(r->changes_recorded,
            5u);  // D src, src/a.txt, src/b.txt; A srcdir, srcdir/b.txt, top.txt
}

TEST_F(ReplayLive, MetadataChangesOutsideTheWorkdirAreComparedButNotReapplied) {
  // The child may write beneath out_ (-w): its chmod there is applied by the
  // supervisor on the real file. Replay answers it from the trace (what the
  // host said, what the policy allowed) and must not touch that file (nor
  // any other of the replaying machine); it is compared like any event.
  const std::string f = out_ / "outside.txt";
  WriteFile(f, "x\n", 0644);
  auto spec = Spec("chmod 600 " + f + "; chmod 600 " + f +
                   ".missing 2>/dev/null; echo done > done.txt; chmod 640 done.txt");
  spec.write_paths = {out_.path()};
  std::string t = Record(spec);
  struct stat st {};
  ASSERT_EQ(stat(f.c_str(), &st), 0);
  ASSERT_EQ(st.st_mode & 0777, 0600u) << "the live run changed it";
  ASSERT_EQ(chmod(f.c_str(), 0644), 0);
  auto r = Replay(t);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->ExitStatus(), 0) << FormatText(*r);
  EXPECT_EQ(r->outside, 0u) << FormatText(*r);
  EXPECT_EQ(r->diverged, 0u) << FormatText(*r);
  ASSERT_EQ(stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "replay changed a file of the replaying machine";
  // Gone from the replaying machine: the answers still come from the trace.
  ASSERT_EQ(unlink(f.c_str()), 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, OutsideObjectsReachedThroughTheViewAreAnsweredFromTheTrace) {
  // Symlinks made in the run that lead out of the workdir (as a venv's
  // bin/python3): the supervisor stats, reads, opens and executes their
  // targets on the host. Replay must decide the same however the replaying
  // machine's files differ: here they change or vanish after the recording.
  const std::string dir = out_ / "host";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  WriteFile(dir + "/data", "twelve bytes", 0644);
  ASSERT_EQ(symlink("/bin/true", (dir + "/tool").c_str()), 0);
  std::string t = Record("ln -s " + dir + "/data d && ln -s " + dir + "/tool x && ln -s " + dir +
                         "/none dangling && stat -c %s d && cat d && test -r d && readlink -f d && "
                         "./x && (cat dangling 2>/dev/null || echo dangling) && "
                         "(stat dangling 2>/dev/null || echo no target) && "
                         "(test -e dangling || echo absent)");
  EXPECT_EQ(last_exit_, 0);
  WriteFile(dir + "/data", "a different length now", 0600);
  WriteFile(dir + "/none", "there now", 0644);
  ASSERT_EQ(unlink((dir + "/tool").c_str()), 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, CompileAndRunTheResult) {
  if (access("/usr/bin/cc", X_OK) != 0) GTEST_SKIP() << "no cc";
  // ./h is too short to rewrite in place: its exec is restarted with a
  // padded copy of the path, a decision replay must reproduce too.
  std::string t = Record(
      "cc -O0 -o hello_program hello.c && ./hello_program > hello.out && cp hello_program h && "
      "test \"$(./h)\" = hi");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, ExecRewritesDecideByTheChildsStringLength) {
  if (access("/usr/bin/cc", X_OK) != 0) GTEST_SKIP() << "no cc";
  // execv of a binary made in the run by its absolute path, with argv[0]
  // right after that string's NUL: the rewrite must not take argv[0] for
  // the path string itself. Replayed from a scratch path longer than the
  // workdir's, where the path the handler sees is longer than the child's.
  WriteFile(work_ + "/x.c",
            "#include <limits.h>\n#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n"
            "int main(void) { char cwd[PATH_MAX], buf[PATH_MAX + 64];\n"
            "  if (!getcwd(cwd, sizeof cwd)) return 2;\n"
            "  int n = snprintf(buf, sizeof buf, \"%s/prog\", cwd);\n"
            "  strcpy(buf + n + 1, \"zero\"); char* a[] = {buf + n + 1, 0};\n"
            "  execv(buf, a); return 3; }\n");
  std::string t = Record("cc -o x x.c && cp /bin/true prog && ./x");
  EXPECT_EQ(last_exit_, 0);
  auto r = ReplayFromALongerScratch(t);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->diverged, 0u) << FormatText(*r);
}

TEST_F(ReplayLive, ScriptsMadeInTheRunRunAsTheirInterpreter) {
  // The #! line the child wrote is recorded (read_file_head): replay, which
  // has no child to write it, restarts the same execs with the same argv.
  std::string t = Record(
      "printf '#!/bin/sh\\necho \"$0 $1\"\\n' > s.sh && chmod +x s.sh && ./s.sh a > out && "
      "test \"$(cat out)\" = './s.sh a' && printf '#!%s/s.sh\\n' \"$PWD\" > t && chmod +x t && "
      "test \"$(./t)\" = \"$PWD/s.sh ./t\"");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, SemaphoresAndSharedMemoryInTheRunsOwnDevShm) {
  // shm_open, sem_open and their unlinks are answered in the run's private
  // /dev/shm, which replay makes in its scratch storage; sizes the child
  // set through its fds (ftruncate) are the child's, as for upper files.
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  std::string t = Record(
      "/usr/bin/python3 -c \"import multiprocessing as mp, os\n"
      "from multiprocessing import shared_memory as sm\n"
      "l = mp.Lock(); s = sm.SharedMemory(create=True, size=64)\n"
      "assert os.stat('/dev/shm/' + s.name.lstrip('/')).st_size == 64\n"
      "s.close(); s.unlink()\"");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, NamedPipeOpenedByTheChildItself) {
  // Blocking opens of a FIFO made in the run are restarted with the path of
  // its link in the storage area; replay reproduces those decisions.
  std::string t =
      Record("mkfifo p; (sleep 0.1; echo hi > p) & cat p > got; wait; test \"$(cat got)\" = hi");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, NamedPipeTheWorkdirHadOpenedByAWaitingThread) {
  // A writer that comes before its reader, on a FIFO the workdir had: the
  // supervisor opens it on a thread that waits; replay reproduces the
  // decision (inject once the open returns) without waiting for anything.
  ASSERT_EQ(mkfifo((work_ + "/p").c_str(), 0644), 0);
  std::string t = Record("(sleep 0.2; cat p > got) & echo hi > p; wait; test \"$(cat got)\" = hi");
  EXPECT_EQ(last_exit_, 0);
  auto reader = trace::TraceReader::Open(t);
  ASSERT_TRUE(reader.ok()) << reader.error().Message();
  int waited = 0;
  trace::Record rec;
  for (;;) {
    auto more = (*reader)->Next(rec);
    ASSERT_TRUE(more.ok()) << more.error().Message();
    if (!*more) break;
    if (const auto* e = std::get_if<trace::EventRecord>(&rec)) {
      if (e->decision.kind == trace::DecisionKind::kInjectFd && e->decision.file.waits) {
        ++waited;
        EXPECT_EQ(e->decision.file.path, "p");
        EXPECT_EQ(e->decision.file.root, trace::FileRoot::kLower);
        EXPECT_EQ(e->decision.file.open_flags & O_ACCMODE, O_WRONLY);
        EXPECT_EQ(e->outcome, trace::ResponseOutcome::kWaiting);
      }
    }
  }
  EXPECT_EQ(waited, 1);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, UnixSocketBoundAndConnectedInTheWorkdir) {
  // bind and connect are made by the supervisor on its copy of the child's
  // socket; replay serves their results and leaves a socket file where the
  // live bind made one (the later stat and listing see it).
  std::string t = Record(
      "python3 -c \"import socket, os\n"
      "s = socket.socket(socket.AF_UNIX); s.bind('sock'); s.listen()\n"
      "c = socket.socket(socket.AF_UNIX); c.connect('sock')\n"
      "print(sorted(os.listdir('.')))\" > /dev/null && test -S sock && ls -l sock > /dev/null");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, UnixSocketsBoundAndReachedByAbsolutePaths) {
  // The sockaddr's absolute path names the recording's workdir: replay maps
  // it to its scratch workdir as it maps path strings.
  std::string t = Record(
      "/usr/bin/python3 -c \"import socket, os\n"
      "os.makedirs('new/dir')\n"
      "for name in (os.path.abspath('src/s'), os.path.abspath('new/dir/s')):\n"
      "    s = socket.socket(socket.AF_UNIX); s.bind(name); s.listen()\n"
      "    c = socket.socket(socket.AF_UNIX); c.connect(name)\n"
      "    assert s.getsockname() == name and c.getpeername() == name\n"
      "\" && test -S src/s && test -S new/dir/s");
  EXPECT_EQ(last_exit_, 0);
  ExpectIdentical(t);
}

TEST_F(ReplayLive, Git) {
  if (access("/usr/bin/git", X_OK) != 0) GTEST_SKIP() << "no git";
  ExpectIdentical(
      Record("export GIT_AUTHOR_DATE=2020-01-01T00:00:00Z GIT_COMMITTER_DATE=2020-01-01T00:00:00Z "
             "HOME=/nonexistent; git init -q repo && cd repo && echo hi > f && git add f && "
             "git -c user.email=a@b -c user.name=n commit -qm m && git log --oneline > /dev/null"));
}

TEST_F(ReplayLive, Python) {
  std::string py;
  for (const char* p : {"/usr/bin/python3", "/usr/local/bin/python3"}) {
    if (access(p, X_OK) == 0) py = p;
  }
  if (py.empty()) GTEST_SKIP() << "no python3 in /usr/bin or /usr/local/bin";
  ExpectIdentical(Record(py +
                         " -S -c \"import os, json; os.mkdir('p'); "
                         "open('p/names.json', 'w').write(json.dumps(sorted(os.listdir('.')))); "
                         "os.rename('data.txt', 'p/data.txt')\""));
}

TEST_F(ReplayLive, InotifyWatchesOnObjectsMadeInTheRun) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  ExpectIdentical(Record("/usr/bin/python3 -S " COW_SCRIPTS_DIR "/inotify_watches.py"));
  EXPECT_EQ(last_exit_, 0);
}

TEST_F(ReplayLive, SeedHandlersNextToCopyOnWrite) {
  auto spec = Spec("head -c 64 /dev/urandom > rand.bin; od -An rand.bin > rand.txt");
  spec.seed = 42;
  ExpectIdentical(Record(spec));
}

TEST_F(ReplayLive, QuotaAndAnotherQuota) {
  // Appending to the 64 KiB lower file copies it up: more than 16 KiB.
  auto spec = Spec("echo small > small.txt; echo more >> big.bin; echo $? > status.txt");
  spec.quota = 16 * 1024;
  std::string t = Record(spec);
  ExpectIdentical(t);
  // With room for the copy, the open that failed with ENOSPC now succeeds.
  ReplayOptions o;
  o.quota_bytes = 1 << 20;
  auto r = Replay(t, o);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->ExitStatus(), 1);
  ASSERT_GE(r->divergences.size(), 1u) << FormatText(*r);
  const Divergence& d = r->divergences[0];
  EXPECT_NE(d.call.find("big.bin"), std::string::npos) << d.call;
  ASSERT_FALSE(d.differences.empty());
  EXPECT_EQ(d.differences.back().what, "decision");
  EXPECT_EQ(d.differences.back().expected, "errno ENOSPC");
  EXPECT_EQ(d.differences.back().got.rfind("inject upper \"big.bin\"", 0), 0u)
      << d.differences.back().got;
}

TEST_F(ReplayLive, HandlerVariantIsReportedPerEvent) {
  std::string t = Record("mkdir made; touch made/x; ls made > /dev/null");
  // A variant of the copy-on-write set that refuses mkdir.
  ReplayOptions o;
  o.handler_sets["cow"] = [](std::string_view name, HandlerRegistry& reg, SetContext& ctx) {
    cow::CowSessionOptions so;
    so.workdir = ctx.workdir;
    so.storage = ctx.storage;
    so.check_permissions = ctx.check_permissions;
    auto session = cow::CowSession::Create(so);
    if (!session.ok()) return Status(session.error());
    if (Status s = reg.AddByName("variant", {"mkdir", "mkdirat"},
                                 [](const Notification&, Tracee&) {
                                   return std::optional<Decision>(Decision::Errno(EPERM));
                                 });
        !s.ok()) {
      return s;
    }
    std::shared_ptr<cow::CowSession> owned(std::move(*session));
    if (Status s = owned->Register(reg, name); !s.ok()) return s;
    ctx.session = owned.get();
    ctx.keep.push_back(owned);
    return OkStatus();
  };
  auto r = Replay(t, o);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->ExitStatus(), 1);
  ASSERT_GE(r->divergences.size(), 1u);
  const Divergence& d = r->divergences[0];
  EXPECT_EQ(d.syscall, "mkdir");
  EXPECT_NE(d.call.find("\"made\""), std::string::npos) << d.call;
  // The handler never read the path: the first difference is the call log.
  EXPECT_EQ(d.differences[0].what, "tracee calls") << FormatText(*r);
  bool decision = false;
  for (const Difference& x : d.differences) {
    decision |= x.what == "decision" && x.expected == "return 0" && x.got == "errno EPERM";
  }
  EXPECT_TRUE(decision) << FormatText(*r);
  // The replay went on: the later events were replayed too.
  EXPECT_GT(r->events, r->diverged);
  EXPECT_FALSE(r->change_differences.empty());  // "made" and "made/x" are missing
}

TEST_F(ReplayLive, OtherScratchDirectories) {
  // getcwd in a directory made in the run (kShellScript's pwd) is answered
  // by the handlers with the workdir's path.
  std::string t = Record(kShellScript);
  TempDir other("/tmp");
  ReplayOptions o;
  o.scratch.base = other.path();
  ExpectIdentical(t, o);
  // A scratch path longer than the workdir's cannot stand in byte for
  // byte: the replay says so.
  auto r = ReplayFromALongerScratch(t);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  ASSERT_FALSE(r->warnings.empty());
  EXPECT_NE(r->warnings[0].find("too long"), std::string::npos) << r->warnings[0];
  // ... yet the lengths getcwd and readlink return are compared as the
  // recorded paths' lengths. (Only a child's buffer too short for the
  // longer scratch path would still show a difference: the handler then
  // cuts the path where the recording did not.)
  EXPECT_EQ(r->ExitStatus(), 0) << FormatText(*r);
  EXPECT_EQ(r->diverged, 0u) << FormatText(*r);
  uint64_t path_lengths = 0;
  for (const SyscallTally& c : r->by_syscall) {
    if (c.name == "getcwd" || c.name == "readlink") path_lengths += c.identical;
  }
  EXPECT_GE(path_lengths, 1u) << FormatText(*r);
}

}  // namespace
}  // namespace sandtrace::replay
