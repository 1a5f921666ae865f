// Integration tests of `trace run` with the COW handlers: escapes, failing
// closed, quota, the command line and the disposition of the changes.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/cow_handlers/sandbox_util.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace::cow::testing {
namespace {

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = scratch_ / "w";
    out_ = scratch_ / "outside";
    tmp_ = scratch_ / "tmp";
    for (const auto& d : {work_, out_, tmp_}) ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
    chmod(tmp_.c_str(), 0700);
    WriteFile(work_ + "/a.txt", "hello\n");
    ASSERT_EQ(mkdir((work_ + "/d").c_str(), 0755), 0);
    WriteFile(work_ + "/d/b.txt", "bee\n");
    WriteFile(work_ + "/big.bin", std::string(8192, 'b'));
    WriteFile(out_ + "/victim", "outside\n");
    env_ = {"TMPDIR=" + tmp_, "LC_ALL=C"};
  }
  Ran Trace(std::vector<std::string> flags, const std::string& script) {
    std::vector<std::string> argv = {TraceBin(), "run"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    for (const char* a : {"--", "sh", "-c"}) argv.push_back(a);
    argv.push_back(script);
    Ran r = RunProgram(argv, work_, env_);
    EXPECT_FALSE(r.timed_out) << "trace run hung: " << script;
    return r;
  }

  Scratch scratch_;
  std::string work_, out_, tmp_;
  std::vector<std::string> env_;
};

// ---- escapes -----------------------------------------------------------------------------

TEST_F(SandboxTest, EscapeThroughSymlinksPointingOutFailsCleanly) {
  ASSERT_EQ(symlink(out_.c_str(), (work_ + "/out").c_str()), 0);
  ASSERT_EQ(symlink((out_ + "/victim").c_str(), (work_ + "/vlink").c_str()), 0);
  Tree outside = Snapshot(out_, true);
  Tree before = Snapshot(work_, true);
  Ran r = Trace({"--commit"}, R"(
    for c in 'echo x > out/victim' 'echo x >> vlink' 'touch out/new' 'chmod 777 out/victim' \
             'chmod 600 vlink' 'touch -d 2001-01-01 vlink' 'rm out/victim' 'mv a.txt out/' \
             'ln a.txt out/hard' 'mkdir out/dir' 'truncate -s0 vlink' 'cp a.txt out/copy'; do
      sh -c "$c" 2>/dev/null && echo "LEAK: $c"
    done; echo finished)");
  EXPECT_EQ(r.out, "finished\n") << r.err;
  EXPECT_EQ(DiffTrees(outside, Snapshot(out_, true)), "");
  EXPECT_EQ(DiffTrees(before, Snapshot(work_, true)), "");
}

TEST_F(SandboxTest, OnlyTheRunsOwnTmpdirIsItsToChange) {
  // Metadata changes outside the workdir go where the child may write: the
  // -w paths and its own private TMPDIR, which the supervisor names. A
  // directory shaped like one (another run's, or made to look like one) is
  // not the child's.
  char tmpl[] = "/tmp/sandtrace-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string other = tmpl;
  const std::string f = other + "/file";
  ASSERT_EQ(close(open(f.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);
  Ran r = Trace({"--discard"}, "chmod 600 " + f + "; echo other=$?; touch \"$TMPDIR/mine\" && " +
                                   "chmod 600 \"$TMPDIR/mine\"; echo own=$?");
  struct stat st {};
  EXPECT_EQ(stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "another run's TMPDIR was changed";
  unlink(f.c_str());
  rmdir(other.c_str());
  EXPECT_EQ(r.out, "other=1\nown=0\n") << r.err;
}

TEST_F(SandboxTest, OutsideSymlinksPointingInReachOnlyTheView) {
  ASSERT_EQ(symlink((work_ + "/a.txt").c_str(), (out_ + "/in").c_str()), 0);
  Tree before = Snapshot(work_, true);
  Ran r = Trace({"--dry-run"}, "echo x > " + out_ + "/in; echo write=$?; chmod 600 " + out_ +
                                   "/in; echo chmod=$?; cat " + out_ + "/in");
  EXPECT_EQ(r.out, "write=2\nchmod=0\nhello\n") << r.err;
  EXPECT_NE(r.err.find("M  a.txt"), std::string::npos) << r.err;
  EXPECT_EQ(DiffTrees(before, Snapshot(work_, true)), "");
}

TEST_F(SandboxTest, SymlinksMadeInTheRunLeadOutsideAsTheyWouldNatively) {
  // The kernel cannot follow a symlink that exists only in the upper layer:
  // the supervisor reaches the outside object for the child, under the
  // child's policy (writes only where it may write).
  Tree outside = Snapshot(out_, true);
  Ran r = Trace({"--discard"},
                "ln -s /bin/true t && \"$PWD/t\" && echo exec=ok; "
                "ln -s " +
                    out_ +
                    "/victim v && cat v && stat -c %F:%s v && "
                    "stat -L -c %F:%s v && readlink v >/dev/null && echo link=ok; "
                    "test -x t && test -r v && echo access=ok; "
                    "ln -s \"$TMPDIR\" tl && echo x > tl/f && cat \"$TMPDIR/f\" && "
                    "ls tl && chmod 600 tl/f && stat -c %a \"$TMPDIR/f\"; "
                    "ln -s " +
                    out_ +
                    " od; echo z > od/new; echo write=$?; "
                    "chmod 600 v; echo chmod=$?");
  EXPECT_EQ(r.out, "exec=ok\noutside\nsymbolic link:" + std::to_string(out_.size() + 7) +
                       "\nregular file:8\nlink=ok\naccess=ok\nx\nf\n600\nwrite=2\nchmod=1\n")
      << r.err;
  EXPECT_EQ(DiffTrees(outside, Snapshot(out_, true)), "");
}

TEST_F(SandboxTest, ReadsThroughSymlinksMadeInTheRunKeepTheReadPolicy) {
  // With -r narrowing, an outside file the child may not read natively is
  // not readable through a symlink made in the run either.
  Ran r = Trace({"--discard", "-r", "/usr", "-r", "/bin", "-r", "/lib", "-r", "/lib64", "-r",
                 scratch_.path() + "/w"},
                "cat " + out_ + "/victim 2>/dev/null; echo direct=$?; ln -s " + out_ +
                    "/victim v && cat v 2>/dev/null; echo link=$?");
  EXPECT_EQ(r.out, "direct=1\nlink=1\n") << r.err;
}

TEST_F(SandboxTest, APythonVenvMadeInTheRunWorks) {
  // venv/bin/python3 is a symlink to the interpreter outside the workdir.
  Ran native =
      RunProgram({"/bin/sh", "-c", "python3 -m venv --without-pip \"$1\"/v", "sh", scratch_.path()},
                 scratch_.path(), env_);
  if (native.status != 0) GTEST_SKIP() << "python3 -m venv unavailable here: " << native.err;
  Ran r = Trace({"--dry-run"},
                "python3 -m venv --without-pip venv && "
                "venv/bin/python -c 'import sys; print(sys.prefix == sys.base_prefix)'");
  EXPECT_EQ(r.out, "False\n") << r.err;
  EXPECT_NE(r.err.find("A  venv/bin/python3"), std::string::npos) << r.err;
}

TEST_F(SandboxTest, FilesKeepTheirInodeAcrossCopyUpAndLinks) {
  // Natively a file keeps its inode when written in place or linked; the
  // view keeps the lower file's identity across its copy-up.
  struct stat st {};
  ASSERT_EQ(stat((work_ + "/a.txt").c_str(), &st), 0);
  ASSERT_EQ(stat((work_ + "/d/b.txt").c_str(), &st), 0);
  const std::string b_ino = std::to_string(st.st_ino);
  ASSERT_EQ(stat((work_ + "/a.txt").c_str(), &st), 0);
  const std::string a_ino = std::to_string(st.st_ino);
  Ran r = Trace({"--discard"},
                "echo more >> a.txt; stat -c %i a.txt; ln d/b.txt hard; "
                "stat -c '%i %h' d/b.txt hard");
  EXPECT_EQ(r.out, a_ino + "\n" + b_ino + " 2\n" + b_ino + " 2\n") << r.err;
}

TEST_F(SandboxTest, FstatAndStatAgreeOnFilesChangedInTheRun) {
  // cp compares fstat of the opened source with stat of its name ("skipping
  // file ..., as it was replaced while being copied" when they differ).
  Ran r = Trace({"--discard"},
                "chmod -R g+w d a.txt && cp -r d d2 && cp a.txt a2 && "
                "cat d2/b.txt a2 && python3 -c \"import os; "
                "print(os.path.samestat(os.fstat(os.open('a.txt', os.O_RDONLY)), "
                "os.stat('a.txt')))\"");
  EXPECT_EQ(r.out, "bee\nhello\nTrue\n") << r.err;
  EXPECT_EQ(r.err.find("replaced"), std::string::npos) << r.err;
}

TEST_F(SandboxTest, TheViewIsOneFilesystemWhereverTheStorageIs) {
  // The storage area on tmpfs (/dev/shm), the workdir here: new objects
  // still show the workdir's st_dev, so find -xdev, du -x and git's
  // repository discovery do not stop at them, and inode numbers agree
  // between stat and readdir.
  char tmpl[] = "/dev/shm/sandtrace-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) GTEST_SKIP() << "no /dev/shm";
  const std::string storage = std::string(tmpl) + "/st";
  Ran r =
      Trace({"--discard", "--storage", storage},
            "mkdir nd && touch nd/f && stat -c %d . nd nd/f a.txt | sort -u | wc -l && "
            "find . -xdev -name f && du -x -a nd | wc -l && "
            "[ \"$(ls -i nd/f | cut -d' ' -f1)\" = \"$(stat -c %i nd/f)\" ] && echo same-ino && "
            // a listing of a directory made in the run (readdir's d_ino)
            "python3 -c 'import os; print(all(e.inode() == e.stat(follow_symlinks=False).st_ino "
            "for e in os.scandir(\"nd\")))' && "
            "cd nd && python3 -c 'import os; print(os.path.ismount(\".\"))'");
  rmdir(tmpl);
  EXPECT_EQ(r.out, "1\n./nd/f\n2\nsame-ino\nTrue\nFalse\n") << r.err;
}

TEST_F(SandboxTest, GitLocalCloneLinksAndChecksItsObjects) {
  // git clone of a local repository hard-links the objects and checks that
  // each new name has the source's inode.
  const std::string repo = work_ + "/repo";
  Ran init = RunProgram({"/bin/sh", "-c",
                         "git init -q repo && cd repo && echo x > f && git add f && "
                         "git -c user.email=a@b -c user.name=n commit -qm one"},
                        work_, env_);
  if (init.status != 0) GTEST_SKIP() << "git unavailable: " << init.err;
  Ran r = Trace({"--dry-run"},
                "git clone -q repo clone && git -C clone log --oneline | wc -l && "
                "cat clone/f");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "1\nx\n") << r.err;
}

TEST_F(SandboxTest, DotDotLeavesTheWorkdirReadOnly) {
  WriteFile(scratch_ / "sibling", "sib\n");
  Tree before = Snapshot(scratch_.path(), true);
  Ran r = Trace({"--commit"},
                "cat ../sibling; echo x > ../newfile; echo w=$?; mkdir ../dd; "
                "echo m=$?; mv a.txt ../; echo mv=$?; cd .. && ls sibling");
  EXPECT_EQ(r.out, "sib\nw=2\nm=1\nmv=1\nsibling\n") << r.err;
  Tree after = Snapshot(scratch_.path(), true);
  after.erase("tmp");  // the private TMPDIR and storage come and go
  before.erase("tmp");
  for (auto it = after.begin(); it != after.end();)
    it = it->first.rfind("tmp/", 0) == 0 ? after.erase(it) : std::next(it);
  for (auto it = before.begin(); it != before.end();)
    it = it->first.rfind("tmp/", 0) == 0 ? before.erase(it) : std::next(it);
  EXPECT_EQ(DiffTrees(before, after), "");
}

TEST_F(SandboxTest, ProcSelfFdReopenForWritingGoesThroughTheView) {
  Tree before = Snapshot(work_, true);
  Ran r = Trace({"--dry-run"}, std::string(COW_FDOPS) + " a.txt && cat a.txt");
  EXPECT_NE(r.out.find("reopen-write=0"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("ftruncate=-1 EINVAL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hello\nappended\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("M  a.txt"), std::string::npos) << r.err;
  EXPECT_EQ(DiffTrees(before, Snapshot(work_, true)), "");
}

TEST_F(SandboxTest, ARacingThreadCannotRedirectAChangeIntoTheWorkdir) {
  Tree before = Snapshot(work_, true);
  Tree outside = Snapshot(out_, true);
  Ran r =
      Trace({"--discard"}, std::string(COW_RACE) + " " + work_ + "/a.txt " + out_ + "/victim 3000");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "done 3000\n");
  EXPECT_EQ(DiffTrees(before, Snapshot(work_, true)), "");
  EXPECT_EQ(DiffTrees(outside, Snapshot(out_, true)), "");
}

TEST_F(SandboxTest, DirectWritesToTheRealPathsStayInTheSandbox) {
  const std::string storage = scratch_ / "storage";
  Tree before = Snapshot(work_, true);
  Ran r = Trace({"--discard", "--storage", storage},
                "echo x > " + work_ + "/a.txt; cat " + work_ + "/a.txt; echo y > " + storage +
                    "/upper/a.txt; echo up=$?; mkdir " + storage + "/upper/q; echo mk=$?");
  EXPECT_EQ(r.out, "x\nup=2\nmk=1\n") << r.err;
  EXPECT_EQ(DiffTrees(before, Snapshot(work_, true)), "");
}

// ---- failing closed ------------------------------------------------------------------------

TEST_F(SandboxTest, WithoutTheCowHandlersEveryChangeFailsClosed) {
  Tree before = Snapshot(work_, true);
  for (const char* set : {"none", "passthrough"}) {
    Ran r = Trace({"--handlers", set}, R"(
      for c in 'touch new' 'mkdir dir' 'rm a.txt' 'mv a.txt b.txt' 'ln -s x l' 'ln a.txt h' \
               'echo x >> a.txt' 'truncate -s0 a.txt' 'rmdir d' 'mkfifo p'; do
        sh -c "$c" 2>/dev/null && echo "LEAK: $c"
      done; echo finished)");
    EXPECT_EQ(r.out, "finished\n") << set << ": " << r.err;
  }
  EXPECT_EQ(DiffTrees(before, Snapshot(work_, true)), "");
}

// ---- quota
// ---------------------------------------------------------------------------------------

TEST_F(SandboxTest, QuotaGivesEnospcAtTheLimit) {
  // 1 KiB = four new entries (256 bytes each).
  Ran r = Trace({"--quota", "1K"},
                "for i in 1 2 3 4 5 6; do mkdir d$i 2>/dev/null || echo fail$i; done; "
                "sh -c 'echo x >> big.bin' 2>&1 | grep -c 'No space'; true");
  EXPECT_EQ(r.out, "fail5\nfail6\n1\n") << r.err;
  EXPECT_EQ(access((work_ + "/d4").c_str(), F_OK), 0);  // committed: within the quota
  EXPECT_NE(access((work_ + "/d5").c_str(), F_OK), 0);
}

TEST_F(SandboxTest, WritesThroughFdsOverTheQuotaAreNeverCommitted) {
  Tree before = Snapshot(work_, true);
  Ran r = Trace({"--quota", "4K"}, "head -c 20000 /dev/zero > new.bin && touch later; echo rc=$?");
  EXPECT_NE(r.out.find("rc=1"), std::string::npos) << r.out << r.err;  // ENOSPC on the next create
  EXPECT_NE(r.err.find("over the --quota"), std::string::npos) << r.err;
  EXPECT_EQ(r.status, 125);
  EXPECT_EQ(DiffTrees(before, Snapshot(work_, true)), "");
}

TEST_F(SandboxTest, ReadsCostNothing) {
  Ran r = Trace({"--quota", "1"},
                "cat big.bin a.txt d/b.txt > /dev/null && find . >/dev/null && "
                "du -s . > /dev/null && ls -R > /dev/null && echo ok");
  EXPECT_EQ(r.out, "ok\n") << r.err;
  EXPECT_EQ(r.status, 0);
}

// ---- command line and disposition -----------------------------------------------------------

TEST_F(SandboxTest, UsageErrorsAreOneLineAndExitTwo) {
  // One line, which says why once (no strerror tacked onto a usage error).
  auto one_line = [](const Ran& r) {
    return !r.err.empty() && r.err.find('\n') == r.err.size() - 1 &&
           r.err.find("Invalid argument") == std::string::npos;
  };
  Ran r = RunProgram({TraceBin(), "run", "-C", "/", "--", "true"}, work_, env_);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(one_line(r)) << r.err;
  EXPECT_NE(r.err.find("refusing /"), std::string::npos) << r.err;
  r = RunProgram({TraceBin(), "run", "--storage", work_ + "/st", "--", "true"}, work_, env_);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(one_line(r)) << r.err;
  r = RunProgram({TraceBin(), "run", "--quota", "12X", "--", "true"}, work_, env_);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(one_line(r)) << r.err;
  r = RunProgram({TraceBin(), "run", "--commit", "--discard", "--", "true"}, work_, env_);
  EXPECT_EQ(r.status, 2);
  r = RunProgram({TraceBin(), "run", "--handlers", "bogus", "--", "true"}, work_, env_);
  EXPECT_EQ(r.status, 2);
  r = RunProgram({TraceBin(), "run", "-C", scratch_ / "missing", "--", "true"}, work_, env_);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(one_line(r)) << r.err;
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

TEST_F(SandboxTest, DryRunPrintsTheSortedChangeList) {
  Ran r =
      Trace({"--dry-run"}, "echo n > zz; echo m >> a.txt; rm d/b.txt; mkdir e; ln -s a.txt e/l");
  EXPECT_EQ(r.err, "M  a.txt\nD  d/b.txt\nA  e\nA  e/l\nA  zz\n");
  EXPECT_EQ(ReadFile(work_ + "/a.txt"), "hello\n");
  r = Trace({"--dry-run"}, "cat a.txt > /dev/null");
  EXPECT_EQ(r.err, "trace: no filesystem changes\n");
}

TEST_F(SandboxTest, CommitsOnSuccessDiscardsOnFailure) {
  Ran r = Trace({}, "echo one > one; false");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(access((work_ + "/one").c_str(), F_OK), 0);
  r = Trace({}, "echo two > two");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(ReadFile(work_ + "/two"), "two\n");
  r = Trace({"--commit"}, "echo three > three; exit 3");
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(ReadFile(work_ + "/three"), "three\n");
  r = Trace({"-C", work_ + "/d"}, "echo four > four; pwd");
  EXPECT_EQ(r.out, work_ + "/d\n");
  EXPECT_EQ(ReadFile(work_ + "/d/four"), "four\n");
}

TEST_F(SandboxTest, KeepLeavesTheUpperLayerInTheStorageArea) {
  const std::string storage = scratch_ / "kept";
  Ran r = Trace({"--keep", "--storage", storage}, "echo k > kept.txt");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(access((work_ + "/kept.txt").c_str(), F_OK), 0);
  EXPECT_EQ(ReadFile(storage + "/upper/kept.txt"), "k\n");
  EXPECT_NE(r.err.find(storage), std::string::npos) << r.err;
}

TEST_F(SandboxTest, StatsCountTheNotificationsAndHowTheyWereDecided) {
  Ran r = Trace({"--stats", "--dry-run"}, "cat a.txt >/dev/null; touch x; cat d/b.txt > /dev/null");
  EXPECT_NE(r.err.find("cow: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("by syscall:"), std::string::npos) << r.err;
}

TEST_F(SandboxTest, AWriterLeftWaitingForAReaderDoesNotHoldTheRun) {
  // The supervisor's thread waiting to open the workdir's FIFO for a writer
  // that no reader ever comes for ends with the run; so does one whose
  // writer is killed while it waits.
  ASSERT_EQ(mkfifo((work_ + "/p").c_str(), 0600), 0);
  Ran r = Trace({"--stats"},
                "timeout 0.2 sh -c 'echo x > p'; echo \"timeout: $?\"; echo y > p & sleep 0.2; "
                "echo done");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "timeout: 124\ndone\n");
  EXPECT_NE(r.err.find(" 2 answered after a FIFO wait"), std::string::npos) << r.err;
  struct stat st {};
  ASSERT_EQ(lstat((work_ + "/p").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  // SIGTERM to `trace` while a writer waits: the run ends (128+15), its
  // waiting thread with it.
  Ran t = RunProgram({"/bin/sh", "-c",
                      "\"$0\" run -- sh -c 'echo x > p' & pid=$!; sleep 0.3; kill -TERM $pid; "
                      "wait $pid; echo \"rc=$?\"",
                      TraceBin()},
                     work_, env_, 30);
  EXPECT_FALSE(t.timed_out) << "trace run hung on SIGTERM with a writer waiting";
  EXPECT_EQ(t.out, "rc=143\n") << t.err;
}

TEST_F(SandboxTest, PosixSharedMemoryAndSemaphoresLiveInTheRunsOwnDevShm) {
  // sem_open and shm_open make files in /dev/shm, which Landlock keeps the
  // child from writing: the run gets a /dev/shm of its own. Python's
  // multiprocessing (locks, queues, a pool, shared memory attached by name
  // in another process) works; the run sees its own objects; nothing
  // reaches the host's /dev/shm; a link out of it is across filesystems;
  // the host's objects can still be read, not removed.
  const std::string name = "sandtrace-test-" + std::to_string(getpid());
  WriteFile("/dev/shm/" + name + "-host", "from the host\n");
  const std::string script = R"sh(
    python3 - "$1" <<'PY'
import multiprocessing as mp, os, sys
from multiprocessing import shared_memory
def child(name, q):
    s = shared_memory.SharedMemory(name=name); q.put(bytes(s.buf[:5])); s.close()
if __name__ == '__main__':
    lock = mp.Lock()
    with lock: pass
    s = shared_memory.SharedMemory(create=True, size=64); s.buf[:5] = b'hello'
    q = mp.Queue(); p = mp.Process(target=child, args=(s.name, q)); p.start()
    print(q.get().decode()); p.join()
    with mp.Pool(2) as pool: print(sum(pool.map(abs, range(-3, 4))))
    print(sorted(os.listdir('/dev/shm')) == [s.name.lstrip('/')])
    s.close(); s.unlink(); print(os.path.exists('/dev/shm/' + s.name.lstrip('/')))
    open('/dev/shm/' + sys.argv[1], 'w').write('mine')
PY
    cat "/dev/shm/$1"; echo; ls /dev/shm; ln "/dev/shm/$1" here 2>/dev/null || echo "ln: $?"
    mv "/dev/shm/$1" "/dev/shm/$1.moved" && ls /dev/shm && rm "/dev/shm/$1.moved" && ls /dev/shm | wc -l
    cat "/dev/shm/$1-host"; test -f "/dev/shm/$1-host" && echo seen; rm -f "/dev/shm/$1-host" 2>/dev/null || echo kept
    d=$(mktemp -d -p /dev/shm); mkdir "$d/sub"; echo x > "$d/sub/f"; chmod 600 "$d/sub/f"
    stat -c %a "$d/sub/f"; rm -r "$d" && ls /dev/shm | wc -l
    (cd /dev/shm && echo rel > "$1.rel" && cat "$1.rel" && ls /dev/shm && rm "$1.rel")
  )sh";
  Ran r = Trace({"--discard"}, "set -- " + name + "\n" + script);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n12\nTrue\nFalse\nmine\n" + name + "\nln: 1\n" + name +
                       ".moved\n0\nfrom the host\nseen\nkept\n600\n0\nrel\n" + name + ".rel\n")
      << r.err;
  EXPECT_EQ(ReadFile("/dev/shm/" + name + "-host"), "from the host\n");
  unlink(("/dev/shm/" + name + "-host").c_str());
  struct stat st {};
  EXPECT_NE(lstat(("/dev/shm/" + name).c_str(), &st), 0) << "the host's /dev/shm got the file";
  EXPECT_NE(lstat(("/dev/shm/" + name + ".moved").c_str(), &st), 0);
  EXPECT_NE(lstat(("/dev/shm/" + name + ".rel").c_str(), &st), 0);
  // With -w /dev/shm the host's is used, as asked.
  Ran w = Trace({"--discard", "-w", "/dev/shm"}, "echo host > /dev/shm/" + name);
  EXPECT_EQ(w.status, 0) << w.err;
  EXPECT_EQ(ReadFile("/dev/shm/" + name), "host\n");
  unlink(("/dev/shm/" + name).c_str());
}

TEST_F(SandboxTest, TmpfileOfTheHostsTmpWorks) {
  // glibc's tmpfile(3) (ed, and many C programs) opens /tmp with O_TMPFILE
  // whatever TMPDIR says; Landlock keeps the child from writing /tmp, so
  // the supervisor makes the anonymous file elsewhere. The mode follows the
  // child's umask; the host's /tmp gets nothing.
  WriteFile(work_ + "/t.c",
            "#include <stdio.h>\n#include <sys/stat.h>\n"
            "int main(void) { FILE* f = tmpfile(); if (!f) { perror(\"tmpfile\"); return 1; }\n"
            "  fputs(\"data\", f); rewind(f); char b[8] = {0}; fgets(b, sizeof b, f);\n"
            "  struct stat st; fstat(fileno(f), &st);\n"
            "  printf(\"%s %o %lu\\n\", b, st.st_mode & 0777, (unsigned long)st.st_nlink);\n"
            "  return 0; }\n");
  const std::string script = R"sh(
    cc -o t t.c && ./t
    python3 -c '
import os
os.umask(0o027)
fd = os.open("//var/tmp/", os.O_TMPFILE | os.O_RDWR, 0o666)
os.write(fd, b"x" * 10); st = os.fstat(fd); print(oct(st.st_mode & 0o777), st.st_size)
try: os.open("/tmp/plain", os.O_CREAT | os.O_WRONLY)
except PermissionError: print("plain refused")
'
  )sh";
  Ran r = Trace({"--discard"}, script);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "data 600 0\n0o640 10\nplain refused\n") << r.err;
  struct stat st {};
  EXPECT_NE(lstat("/tmp/plain", &st), 0);
  // Where the child may write the directory (-w), the kernel makes it there.
  Ran w =
      Trace({"--discard", "-w", "/var/tmp", "--stats"},
            "python3 -c 'import os; os.open(\"//var/tmp/\", os.O_TMPFILE | os.O_RDWR)' && echo ok");
  EXPECT_EQ(w.status, 0) << w.err;
  EXPECT_EQ(w.out, "ok\n") << w.err;
  EXPECT_NE(w.err.find(" 0 tmpfile(3)s of /tmp"), std::string::npos) << w.err;
}

TEST_F(SandboxTest, ManyTasksUnderALowFdLimit) {
  // The supervisor keeps fds per live task (child memory, pidfds). Under a
  // low soft limit it raises its own for the run, while the command keeps
  // the limits it was given; under a low hard limit its caches stay within
  // a share of it. Either way every task's syscalls work: 120 processes
  // alive at once, each in a directory made in the run.
  const std::string tasks = R"sh(
    mkdir -p d && cd d
    for i in $(seq 1 120); do
      (echo $i > f$i && sleep 0.3 && cat f$i > /dev/null && ls > /dev/null && echo ok) &
    done | grep -c ok
  )sh";
  const std::string trace = "exec " + TraceBin() + " run --discard -- sh -c '";
  Ran soft = RunProgram({"/bin/sh", "-c",
                         "ulimit -Sn 64 && ulimit -Hn > hard && " + trace +
                             "ulimit -Sn; test \"$(ulimit -Hn)\" = \"$(cat hard)\" && echo same "
                             "hard; " +
                             tasks + "'"},
                        work_, env_);
  EXPECT_EQ(soft.status, 0) << soft.err;
  EXPECT_EQ(soft.out, "64\nsame hard\n120\n") << soft.err;
  Ran hard = RunProgram({"/bin/sh", "-c", "ulimit -n 64 && " + trace + tasks + "'"}, work_, env_);
  EXPECT_EQ(hard.status, 0) << hard.err;
  EXPECT_EQ(hard.out, "120\n") << hard.err;
}

TEST_F(SandboxTest, AFailedRunSaysWhereWritesWereRefused) {
  // Landlock answers EACCES; the note after a failed run names the first
  // place, once. Not after a run that succeeded, nor for writes the child
  // may make (its TMPDIR, -w, /dev nodes).
  const std::string victim = out_ + "/new";
  Ran r = Trace({"--discard"}, "echo x > " + victim + "; mkdir " + out_ +
                                   "/d; echo y > \"$TMPDIR/ok\"; echo z > /dev/null; (cd " + out_ +
                                   " && touch rel); exit 3");
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.err.find("trace: note: the sandbox refused 3 writes outside the workdir (first: " +
                       victim + "); -w DIR allows writes beneath DIR\n"),
            std::string::npos)
      << r.err;
  Ran ok = Trace({"--discard"}, "echo x > " + victim + " 2>/dev/null; exit 0");
  EXPECT_EQ(ok.status, 0);
  EXPECT_EQ(ok.err.find("note:"), std::string::npos) << ok.err;
  Ran allowed = Trace({"--discard", "-w", out_}, "echo x > /" + victim + "; exit 1");
  EXPECT_EQ(allowed.status, 1);
  EXPECT_EQ(allowed.err.find("note:"), std::string::npos) << allowed.err;
  EXPECT_EQ(ReadFile(victim), "x\n");
  Ran tmp = Trace({"--discard"}, "echo y > \"$TMPDIR/ok\"; cat /etc/hostname >/dev/null; exit 1");
  EXPECT_EQ(tmp.err.find("note:"), std::string::npos) << tmp.err;
}

TEST_F(SandboxTest, ShortAndReadOnlyExecPathsOfNewFilesRun) {
  // "./s" is too short to become "/dev/fd/N" in place, and a C string
  // literal is read-only: both are run by restarting the exec with a padded
  // copy of the path. argv[0] stays what the caller gave.
  const std::string cc =
      "#include <unistd.h>\n"
      "int main(void) { char* a[] = {\"zero\", \"-c\", \"echo \\\"$0\\\" from c\", 0};\n"
      "  execv(\"./s\", a); return 99; }\n";
  WriteFile(work_ + "/x.c", cc);
  Ran r = Trace({"--discard"},
                "cp /bin/sh s && ./s -c 'echo \"$0\" ran'; echo rc=$?; "
                "printf '#!/bin/sh\\necho script\\n' > t && chmod +x t && ./t; "
                "cc -o c x.c && ./c; "
                // make starts recipes with posix_spawn (CLONE_VM | CLONE_VFORK,
                // a small stack of its own): the path copy must stay inside it.
                "printf 'all:\\n\\t./s -c \"echo from make\"\\n' > Makefile && make -s");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "./s ran\nrc=0\nscript\nzero from c\nfrom make\n") << r.err;
  EXPECT_EQ(r.err.find("ENOEXEC"), std::string::npos) << r.err;
}

TEST_F(SandboxTest, ASocketTheWorkdirHadIsReachedUnderARenamedDirectory) {
  // A server outside the sandbox listens on d/srv, a socket file of the
  // real workdir. In the run, d is renamed to e: the kernel cannot reach
  // e/srv by the child's path (the lower still has d/srv), so the connect
  // and a datagram sendto are entered again with the socket's real path.
  const std::string stream = work_ + "/d/srv", dgram = work_ + "/d/dg";
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int g = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0);
  ASSERT_GE(g, 0);
  UniqueFd server(s), datagrams(g);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, stream.c_str(), stream.size() + 1);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(listen(s, 4), 0);
  std::memcpy(sa.sun_path, dgram.c_str(), dgram.size() + 1);
  ASSERT_EQ(bind(g, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  std::string got;
  std::thread serve([&] {
    pollfd p{s, POLLIN, 0};
    if (poll(&p, 1, 20000) != 1) return;
    UniqueFd conn(accept4(s, nullptr, nullptr, SOCK_CLOEXEC));
    char buf[64];
    ssize_t n = read(conn.get(), buf, sizeof buf);
    if (n > 0) got.assign(buf, static_cast<size_t>(n));
    (void)!write(conn.get(), "pong", 4);
  });
  Ran r = Trace({"--discard"},
                "mv d e && python3 -c '\n"
                "import socket\n"
                "c = socket.socket(socket.AF_UNIX); c.connect(\"e/srv\"); c.sendall(b\"ping\")\n"
                "print(c.recv(16).decode())\n"
                "socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b\"datagram\", \"e/dg\")\n"
                "'");
  serve.join();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "pong\n") << r.err;
  EXPECT_EQ(got, "ping");
  char buf[64];
  ssize_t n = recv(g, buf, sizeof buf, MSG_DONTWAIT);
  EXPECT_EQ(n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string(), "datagram");
}

}  // namespace
}  // namespace sandtrace::cow::testing
