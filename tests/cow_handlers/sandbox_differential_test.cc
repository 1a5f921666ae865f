// Differential tests: each script runs natively on a fresh copy of a seed
// tree, then under `trace run --commit` on another fresh copy at the same
// path. The command's output and status must match and the committed
// workdir must equal the native result (names, types, contents, modes,
// symlink targets, hard-link identity). A third run with --discard must
// leave the workdir byte-identical (contents, modes, mtimes, inodes).
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "tests/cow_handlers/sandbox_util.h"

namespace sandtrace::cow::testing {
namespace {

std::string Python() {
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

class SandboxDifferential : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = scratch_ / "w";
    tmp_ = scratch_ / "tmp";
    ASSERT_EQ(mkdir(tmp_.c_str(), 0700), 0);
    env_ = {"TMPDIR=" + tmp_,
            "LC_ALL=C",
            "COW_DIRENTS=" COW_DIRENTS,
            "COW_FDOPS=" COW_FDOPS,
            "COW_SENDMMSG=" COW_SENDMMSG,
            "SCRIPTS=" SCRIPTS_DIR,
            "PYTHON=" + Python(),
            "GIT_CONFIG_NOSYSTEM=1",
            "HOME=" + tmp_,
            "GIT_AUTHOR_DATE=2020-01-01T00:00:00Z",
            "GIT_COMMITTER_DATE=2020-01-01T00:00:00Z"};
  }

  void Seed() {
    RemoveAll(work_);
    ASSERT_EQ(mkdir(work_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((work_ + "/src").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((work_ + "/src/sub").c_str(), 0750), 0);
    ASSERT_EQ(mkdir((work_ + "/docs").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((work_ + "/empty").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((work_ + "/bigdir").c_str(), 0755), 0);
    WriteFile(work_ + "/a.txt", "hello world\n");
    WriteFile(work_ + "/src/lines.txt", "line1\nline2\nline3\n", 0600);
    WriteFile(work_ + "/src/sub/x.c", "int x;\n");
    WriteFile(work_ + "/docs/readme", "docs\n", 0444);
    ASSERT_EQ(symlink("../a.txt", (work_ + "/docs/link").c_str()), 0);
    ASSERT_EQ(symlink("nowhere", (work_ + "/dangling").c_str()), 0);
    WriteFile(work_ + "/hl1", "linked\n");
    ASSERT_EQ(link((work_ + "/hl1").c_str(), (work_ + "/hl2").c_str()), 0);
    WriteFile(work_ + "/run.sh", "#!/bin/sh\necho script-ran \"$@\"\n", 0755);
    for (int i = 0; i < 30; ++i) WriteFile(work_ + "/bigdir/f" + std::to_string(100 + i), "x");
    for (const auto& f : fifos_) ASSERT_EQ(mkfifo((work_ + "/" + f).c_str(), 0644), 0);
    // Fixed times, so archives of seeded files compare equal across runs.
    nftw(
        work_.c_str(),
        [](const char* p, const struct stat*, int, FTW*) {
          const struct timespec t[2] = {{1577836800, 0}, {1577836800, 0}};
          utimensat(AT_FDCWD, p, t, AT_SYMLINK_NOFOLLOW);
          return 0;
        },
        16, FTW_PHYS);
  }

  // Runs `script` natively, committed in the sandbox and discarded in the
  // sandbox; checks everything the file comment promises.
  void Differential(const std::string& script, const std::vector<std::string>& flags = {}) {
    Seed();
    Ran native = RunProgram({"sh", "-c", script}, work_, env_);
    ASSERT_FALSE(native.timed_out);
    Tree expected = Snapshot(work_);

    Seed();
    std::vector<std::string> argv = {TraceBin(), "run", "--commit"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    for (const char* a : {"--", "sh", "-c"}) argv.push_back(a);
    argv.push_back(script);
    Ran cow = RunProgram(argv, work_, env_);
    ASSERT_FALSE(cow.timed_out) << "sandboxed run hung";
    EXPECT_EQ(native.status, cow.status) << "stderr:\n" << cow.err;
    EXPECT_EQ(native.out, cow.out);
    EXPECT_EQ(native.err, WithoutTraceLines(cow.err));
    trace_lines_ = TraceLines(cow.err);
    Tree got = Snapshot(work_);
    for (const auto& path : ignore_) {
      expected.erase(path);
      got.erase(path);
    }
    EXPECT_EQ(DiffTrees(expected, got), "");

    Seed();
    Tree before = Snapshot(work_, /*identity=*/true);
    argv[2] = "--discard";
    Ran discarded = RunProgram(argv, work_, env_);
    ASSERT_FALSE(discarded.timed_out);
    EXPECT_EQ(native.out, discarded.out);
    Tree after = Snapshot(work_, true);
    // A write through a named pipe the workdir had sets its mtime, as
    // natively: the pipe is shared with the world, not copied up.
    for (const auto& f : fifos_) {
      if (after.count(f) && before.count(f)) after[f].mtime_ns = before[f].mtime_ns;
    }
    EXPECT_EQ(DiffTrees(before, after), "") << "--discard changed the workdir";
    native_out_ = native.out;
  }

  Scratch scratch_;
  std::string work_, tmp_;
  std::vector<std::string> env_;
  std::vector<std::string> trace_lines_;
  std::vector<std::string> ignore_;  // paths whose bytes legitimately differ
  std::vector<std::string> fifos_;   // named pipes the seed tree has
  std::string native_out_;
};

TEST_F(SandboxDifferential, ShellAndCoreutils) {
  Differential(R"(
    set -e
    cp -r src src2; cp -p a.txt a2.txt; mv src2/sub src2/sub2; mv a2.txt src2/
    rm -r docs; mkdir -p q/r/s; ln -s ../a.txt q/l; ln a.txt q/h; ln -s q qlink
    chmod 600 a.txt; chmod -R go-rwx src2; touch -d 2020-01-02 q/r; touch newfile
    truncate -s 3 src/lines.txt; truncate -s 100 grow; echo more >> a.txt
    cat src/lines.txt a.txt; cat qlink/l
    ls -la --time-style=+ . q src2
    find . | sort; find . -type f -newer q/r | sort
    du -a . | sort -k2 | awk '{print $2}'
    stat -c '%n %s %a %F %h' a.txt q q/h qlink src2/sub2 dangling
    rm -rf empty q/r; rmdir q 2>&1 || true; mkdir empty; ls empty q
  )");
  EXPECT_TRUE(trace_lines_.empty()) << trace_lines_[0];
}

TEST_F(SandboxDifferential, SedInPlace) {
  Differential(
      "sed -i s/line2/LINE2/ src/lines.txt && sed -i.bak -e '1d' a.txt src/sub/x.c && "
      "cat src/lines.txt a.txt* && ls src/sub");
}

TEST_F(SandboxDifferential, TarExtractAndCreate) {
  Differential(R"(
    set -e
    mkdir ex; tar cf - src docs hl1 hl2 | tar xf - -C ex
    tar cf t.tar ex; rm -r ex; tar xpf t.tar; rm t.tar
    tar czf t.tgz src; tar tzf t.tgz | sort; mkdir z; cd z; tar xzf ../t.tgz; ls -R
  )");
}

TEST_F(SandboxDifferential, Git) {
  ignore_ = {"repo/.git/index"};  // it caches inode numbers and times
  Differential(R"(
    set -e
    git init -q repo && cd repo
    git config user.email t@example.com && git config user.name t
    cp ../a.txt . && git add a.txt && git commit -qm first
    git branch side && git checkout -q side && echo side >> a.txt && git commit -qam second
    git checkout -q master && cat a.txt && git status --short && git log --format=%s side
    echo wip > b.txt && git status --short && git add b.txt && git commit -qm third
    git log --format=%s | wc -l && git checkout -q side && ls
  )");
}

TEST_F(SandboxDifferential, PythonOsFamiliesAndLegacySyscalls) {
  Differential("$PYTHON $SCRIPTS/os_families.py");
  EXPECT_NE(native_out_.find("getdents True"), std::string::npos) << native_out_;
}

TEST_F(SandboxDifferential, CompilerAndMake) {
  Differential(R"(
    set -e
    mkdir -p proj/out && cd proj
    printf '#include <stdio.h>\nint f(void);\nint main(int c, char **v){printf("f=%%d argc=%%d %%s\\n", f(), c, v[0]);return 0;}\n' > main.c
    printf 'int f(void){return 42;}\n' > f.c
    printf 'out/prog: out/main.o out/f.o\n\t$(CC) -o $@ out/main.o out/f.o\nout/%%.o: %%.c\n\t$(CC) -c -o $@ $<\nclean:\n\trm -f out/*\n' > Makefile
    make -s && ./out/prog && "$PWD/out/prog" one
    make -s && echo up-to-date
    sleep 1; touch f.c; make && ./out/prog
    make -s clean && ls out | wc -l
  )");
}

TEST_F(SandboxDifferential, ScriptsCreatedOrChangedDuringTheRun) {
  Differential(R"(
    printf '#!/bin/sh\necho gen "$@"\n' > gen.sh; chmod +x gen.sh
    ./gen.sh one; sh -c "$PWD/gen.sh two"; mkdir bin; cp gen.sh bin/gen2
    PATH=$PWD/bin:$PATH gen2 three
    ./run.sh four; echo 'echo changed' >> run.sh; ./run.sh five; "$PWD/run.sh" six
    rm run.sh; ./run.sh seven; echo "status $?"
    printf '#!/bin/sh\necho replaced\n' > bin/gen2; PATH=$PWD/bin:$PATH gen2
  )");
  // The short ./gen.sh runs by a restarted exec: nothing warns.
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, ScriptsMadeInTheRunGetTheirOwnPathAndInterpreter) {
  // A script of the upper layer runs as its interpreter would natively: $0
  // (sys.argv[0]) is the path it was run by, so `dirname "$0"` leads to it;
  // the #! line's optional argument is passed; an interpreter of the view
  // (a venv made in the run, another script made in the run) is found;
  // interpreter loops, missing and empty interpreters fail as natively.
  Differential(R"sh(
    mkdir -p sub
    printf '#!/bin/sh
echo "0=$0 args=$*"; cd "$(dirname "$0")" && pwd
' > sub/s.sh
    chmod +x sub/s.sh; ./sub/s.sh; sub/s.sh a "b c"; (cd sub && ./s.sh); "$PWD/sub/s.sh"
    printf '#!/usr/bin/env python3
import sys; print(sys.argv)
' > p.py; chmod +x p.py
    ./p.py x "y z"
    printf '#! /bin/sh -e  
echo "opt $0 $-"
' > o.sh; chmod +x o.sh; ./o.sh
    sed -i 's/script-ran/run.sh ran as/' run.sh; ./run.sh "$0"; sh -c 'exec ./run.sh exec'
    $PYTHON -m venv --without-pip v
    printf '#!%s/v/bin/python
import sys; print(sys.prefix == "%s/v", sys.argv)
' "$PWD" "$PWD" > tool
    chmod +x tool; ./tool 1 2
    printf '#!/bin/sh
echo "nested $0 $1 $2"
' > inner; printf '#!%s/inner
' "$PWD" > outer
    chmod +x inner outer; ./outer z
    printf '#!%s/loop
' "$PWD" > loop; chmod +x loop; ./loop 2>/dev/null; echo "loop: $?"
    printf '#!/nonexistent/interp
' > bad; chmod +x bad; ./bad 2>/dev/null; echo "bad: $?"
    printf '#!
' > empty; chmod +x empty; ./empty; echo "empty: $?"
  )sh");
  for (const char* want :
       {"0=./sub/s.sh args=\n", "0=sub/s.sh args=a b c\n", "['./p.py', 'x', 'y z']", "opt ./o.sh e",
        "True ['./tool', '1', '2']", "loop: 127", "bad: 127"}) {
    EXPECT_NE(native_out_.find(want), std::string::npos) << want << " in\n" << native_out_;
  }
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, NamedPipesMadeInTheRun) {
  // Opens wait for the other end in the child, as natively: reader first,
  // writer first, a transfer larger than the pipe buffer (blocking writes),
  // and a reader whose wait a signal handler ends.
  Differential(R"(
    mkfifo p q
    (sleep 0.2; echo one > p) & cat p
    cat p > got & sleep 0.2; echo two > p; wait; cat got
    yes | head -c 300000 > q & wc -c < q; wait
    (sleep 0.1; echo x > p) & exec 3<p; readlink /proc/self/fd/3 | sed "s|$PWD|.|"; cat <&3; exec 3<&-
    $PYTHON -c "
import signal
def h(*a): raise TimeoutError
signal.signal(signal.SIGALRM, h); signal.alarm(1)
try:
    open('p'); print('opened')
except TimeoutError:
    print('timed out waiting for a writer')
"
    ls -l p q | cut -c1-11; rm q
  )");
  for (const char* want : {"one\ntwo\n300000\n./p\nx\n", "timed out waiting for a writer\n"}) {
    EXPECT_NE(native_out_.find(want), std::string::npos) << native_out_;
  }
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, NamedPipesTheWorkdirHad) {
  // The kernel cannot open a FIFO of the workdir for writing in the child
  // (Landlock keeps the workdir read-only), and the supervisor must not
  // block: a thread of its own waits for the other end. Writer first, reader
  // first, a transfer larger than the pipe buffer, a writer stopped and
  // continued while it waits, one whose wait a signal handler ends (EINTR),
  // one whose open restarts after a handler (SA_RESTART), and one killed
  // while it waits.
  fifos_ = {"p"};
  Differential(R"sh(
    (sleep 0.2; cat p) & echo one > p; wait
    cat p > got & sleep 0.2; echo two > p; wait; cat got; rm got
    yes | head -c 300000 > p & wc -c < p; wait
    (echo three > p; echo writer-done > done) & w=$!
    sleep 0.2; kill -STOP $w; sleep 0.1; kill -CONT $w; sleep 0.1; cat p; wait; cat done; rm done
    $PYTHON - <<'PY'
import os, signal, time
def alarm(*a): raise TimeoutError
signal.signal(signal.SIGALRM, alarm); signal.alarm(1)
try:
    open('p', 'w'); print('opened')
except TimeoutError:
    print('timed out waiting for a reader')
signal.alarm(0)
caught = []
signal.signal(signal.SIGUSR1, lambda *a: caught.append(1)); signal.siginterrupt(signal.SIGUSR1, False)
me = os.getpid()
if os.fork() == 0:
    time.sleep(0.2); os.kill(me, signal.SIGUSR1); time.sleep(0.2)
    print('read', open('p').read()); os._exit(0)
with open('p', 'w') as f:
    print('opened after', len(caught), 'signal'); f.write('four')
os.wait()
PY
    timeout 0.3 sh -c 'echo five > p'; echo "timeout: $?"
    ls -l p | cut -c1-10
  )sh");
  EXPECT_NE(
      native_out_.find("one\ntwo\n300000\nthree\nwriter-done\ntimed out waiting for a reader\n"
                       "opened after 1 signal\nread four\ntimeout: 124\nprw-r--r--\n"),
      std::string::npos)
      << native_out_;
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, UnixSocketsBoundInTheWorkdir) {
  // A server binds a socket file in the workdir (also where a deleted file
  // was, and in a new directory), clients connect to it by relative and
  // absolute paths, and both ends see the address bind was given; binding a
  // taken name fails; the files stay behind.
  Differential(R"sh(
    rm a.txt; mkdir -p srv
    $PYTHON - <<'PY'
import os, socket
for name in ('a.txt', 'srv/s'):
    s = socket.socket(socket.AF_UNIX)
    s.bind(name); s.listen(); print('bound as', s.getsockname())
    for target in (name, os.path.abspath(name)):
        c = socket.socket(socket.AF_UNIX); c.connect(target)
        conn, _ = s.accept(); c.sendall(b'ping ' + name.encode()); print(conn.recv(64).decode())
        print('peer', c.getpeername(), 'local', conn.getsockname())
        c.close(); conn.close()
    s.close()
try:
    socket.socket(socket.AF_UNIX).bind('srv/s')
except OSError as e:
    print('rebind', e.errno)
try:
    socket.socket(socket.AF_UNIX).connect('src/lines.txt')
except OSError as e:
    print('not a socket', e.errno)
try:
    socket.socket(socket.AF_UNIX).connect('nothing')
except OSError as e:
    print('missing', e.errno)
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d.bind('dg')
# Bound by absolute paths (a directory of the workdir, a new one): the
# address is that path too.
os.makedirs('new/deeper')
for name in (os.path.abspath('src/abs'), os.path.abspath('new/deeper/abs')):
    s = socket.socket(socket.AF_UNIX); s.bind(name); s.listen()
    c = socket.socket(socket.AF_UNIX); c.connect(name); conn, _ = s.accept()
    print('absolute', s.getsockname() == name, c.getpeername() == name, os.path.exists(name))
print(sorted(os.listdir('.')))
PY
    umask 077; $PYTHON -c "import socket; socket.socket(socket.AF_UNIX).bind('private')"
    ls -l a.txt srv/s dg private | cut -c1-10
  )sh");
  for (const char* want : {"bound as a.txt\nping a.txt\npeer a.txt local a.txt\nping a.txt\n",
                           "bound as srv/s\nping srv/s\npeer srv/s local srv/s\nping srv/s\n",
                           "rebind 98\n", "not a socket 111\nmissing 2\n",
                           "absolute True True True\nabsolute True True True\n", "srwx------\n"}) {
    EXPECT_NE(native_out_.find(want), std::string::npos) << native_out_;
  }
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, DatagramsSentByPathToSocketsBoundInTheRun) {
  // sendto and sendmsg name a datagram socket bound in this run (relative,
  // from a new directory, absolute); a missing name, a regular file and a
  // send after connect fail or arrive as natively; send() without an
  // address is not even notified.
  Differential(R"sh(
    $PYTHON - <<'PY'
import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind('dg')
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
c.sendto(b'by sendto', 'dg'); print(s.recv(64).decode())
c.sendmsg([b'by ', b'sendmsg'], [], 0, 'dg'); print(s.recv(64).decode())
c.sendto(b'absolute', os.path.abspath('dg')); print(s.recv(64).decode())
os.mkdir('sub'); os.chdir('sub')
c.sendto(b'from a new directory', '../dg'); print(s.recv(64).decode())
for name in ('nothing', '../src/lines.txt'):
    for send in (lambda: c.sendto(b'x', name), lambda: c.sendmsg([b'x'], [], 0, name)):
        try:
            send()
        except OSError as e:
            print(name, e.errno)
c.connect('../dg'); c.send(b'after connect'); print(s.recv(64).decode())
PY
  )sh");
  EXPECT_NE(native_out_.find("by sendto\nby sendmsg\nabsolute\nfrom a new directory\n"
                             "nothing 2\nnothing 2\n../src/lines.txt 111\n../src/lines.txt 111\n"
                             "after connect\n"),
            std::string::npos)
      << native_out_;
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, SendmmsgToSocketsBoundInTheRun) {
  // Each message names its own socket, bound in this run (so in the upper
  // layer): every datagram reaches its socket, msg_len is set, and a
  // missing socket fails as natively. (Under trace run the call sends
  // fewer messages at a time; the program sends until all went.)
  Differential("$COW_SENDMMSG && ls -l r1 r2 | cut -c1-10");
  EXPECT_NE(native_out_.find("msg_len[0] = 3\nmsg_len[1] = 4\nmsg_len[2] = 5\nr1 got one\n"
                             "r1 got three\nr2 got two!\nto a missing socket: No such file"),
            std::string::npos)
      << native_out_;
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, ConnectWaitingForAFullBacklogLeavesTheRestRunning) {
  // The client's connect waits in the kernel while the server's backlog is
  // full; the server meanwhile makes notified syscalls, which must still be
  // answered (a connect made by the supervisor would hold them all).
  Differential(R"sh(
    $PYTHON - <<'PY'
import os, socket, time
s = socket.socket(socket.AF_UNIX); s.bind('srv.sock'); s.listen(0)
pid = os.fork()
if pid == 0:
    cs = []
    for i in range(3):
        c = socket.socket(socket.AF_UNIX); c.connect('srv.sock'); c.sendall(b'x'); cs.append(c)
    os._exit(0)
time.sleep(0.5)
with open('during.txt', 'w') as f: f.write('server still works\n')
got = 0
for i in range(3):
    conn, _ = s.accept(); got += len(conn.recv(1))
os.waitpid(pid, 0)
print('accepted', got, open('during.txt').read().strip())
PY
  )sh");
  EXPECT_EQ(native_out_, "accepted 3 server still works\n");
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, NewEntriesGetTheModeTheChildAsksUnderItsOwnUmask) {
  // The supervisor creates entries under its own umask (022, set here) and
  // then sets the mode the child asked for: a child umask that is laxer
  // (000, 002) must not lose group and other write bits.
  const mode_t saved = umask(022);
  Differential(R"sh(
    umask 000
    mkdir d && mkfifo p && mknod q p && $PYTHON -c "import socket; socket.socket(socket.AF_UNIX).bind('s')"
    umask 002
    mkdir e && mkfifo f
    stat -c '%a %n' d p q s e f
  )sh");
  umask(saved);
  EXPECT_NE(native_out_.find("777 d\n666 p\n666 q\n777 s\n775 e\n664 f\n"), std::string::npos)
      << native_out_;
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, AbsolutePathsWithDoubledSlashesAndDots) {
  // The kernel takes "//w/d", "/w//d" and "/./w/./d" for "/w/d": so must the
  // lookup of the workdir in absolute paths (the exec of an interpreter
  // made in the run is padded with leading slashes to fit "/dev/fd/N").
  Differential(R"(
    mkdir d && echo x > d/f && cp /bin/true t
    cat "/$PWD/d/f" "$PWD//d///f" "/.$PWD/./d/./f" d//f
    "//$PWD/t" && echo exec ok
    ls "//$PWD/d" && stat -c %s "///$PWD//d/f"
    echo y > "/$PWD//d/g" && cat d/g && rm "/.$PWD/d/g" && ls d
    cat "$PWD/d/f/." 2>/dev/null || echo "not a directory"
  )");
  EXPECT_NE(native_out_.find("exec ok"), std::string::npos) << native_out_;
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, DirectoryReading) {
  Differential(
      "touch bigdir/new1 bigdir/new2 && rm bigdir/f103 && mkdir bigdir/d && "
      "$COW_DIRENTS bigdir && ls bigdir");
}

TEST_F(SandboxDifferential, CwdInDirectoriesCreatedDuringTheRun) {
  Differential(R"(
    set -e
    mkdir -p a/b && cd a/b && pwd && pwd -P && /bin/pwd && readlink /proc/self/cwd
    echo x > f && ls && cd .. && ls b && cd "$OLDPWD" && cat f
    sh -c 'cd .. && pwd -P && echo y > g' && cat ../g
    $PYTHON -c 'import os; print(os.getcwd()); os.chdir(".."); print(os.getcwd()); print(sorted(os.listdir(".")))'
    cd /tmp && cd "$OLDPWD" && pwd -P
  )");
}

TEST_F(SandboxDifferential, ARemovedCwdIsTheKernelsDeletedDirectory) {
  // A process whose cwd is removed stays in it: getcwd fails, no name can
  // be looked up or made there, ".." leads to where it was (and on up
  // through removed parents), and a directory made later at its path is
  // another one. Both for a cwd made in the run (virtual) and for one of
  // the workdir (the kernel's cwd is the lower directory, which lives on).
  Differential(R"(
    set -e
    mkdir -p L/sub && echo f > L/f
    mkdir g && cd g && rmdir ../g
    /bin/pwd -P 2>/dev/null || echo "no cwd"
    readlink /proc/self/cwd | sed 's|.*/||'
    (echo x > inside) 2>/dev/null || echo "no names in a removed directory"
    ls ../g 2>/dev/null || echo "../g is gone"
    echo up > ../up && cd .. && cat up && pwd -P | sed 's|.*/||'
    cd L && rm -rf "$PWD" && (/bin/pwd -P 2>/dev/null || echo "no cwd either")
    readlink /proc/self/cwd | sed 's|.*/||'
    (cat f 2>/dev/null || echo "f is gone") && echo z > ../z && cd .. && cat z && ls
    mkdir -p a/b && cd a/b && rm -rf ../../a && cat ../../z && cd ../.. && ls
    mkdir M && cd M && rmdir ../M && mkdir ../M && echo new > ../M/n
    (cat n 2>/dev/null || echo "n is in the new M") && cd .. && cat M/n
  )");
  EXPECT_NE(native_out_.find("no cwd\ng (deleted)\nno names"), std::string::npos) << native_out_;
  EXPECT_NE(native_out_.find("no cwd either\nL (deleted)\nf is gone\nz\n"), std::string::npos)
      << native_out_;
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, TheWorkdirReachedFromOutsideByRelativePaths) {
  // From the workdir's parent (a cwd outside it), plain names lead into the
  // view: files made in the run are there. From a directory made in the
  // run, a relative chdir out of the workdir lands where the string leads.
  Differential(R"sh(
    set -e
    echo new > made.txt && mkdir -p d/e && w=$(basename "$PWD")
    cd .. && cat "$w/made.txt" && ls "$w" | tr '\n' ' ' && echo
    cat "$w/made.txt/" 2>/dev/null || echo "not a directory"
    echo more >> "$w/made.txt" && cat "$w/made.txt"
    cd "$w/d/e" && pwd -P | sed 's|.*/||'
    $PYTHON -c "import os; os.chdir('../../..'); print(open('$w/made.txt').read().split())"
    $PYTHON -c "import os; os.chdir('../../../no-such')" 2>/dev/null || echo "no such dir"
    cd ../../.. && rm "$w/made.txt" && ls "$w" | tr '\n' ' ' && echo
  )sh");
  EXPECT_NE(native_out_.find("not a directory\nnew\nmore\ne\n['new', 'more']\nno such dir\n"),
            std::string::npos)
      << native_out_;
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, InotifyWatchesOnObjectsMadeInTheRun) {
  Differential("$PYTHON $SCRIPTS/inotify_watches.py");
  EXPECT_NE(native_out_.find("('log', '0x2', '')"), std::string::npos) << native_out_;
  for (const auto& line : trace_lines_) ADD_FAILURE() << line;
}

TEST_F(SandboxDifferential, RelativePathsAfterTheCwdChangesUnderTheProcess) {
  // The supervisor keeps each task's cwd between its syscalls (CwdCache).
  // Each step changes a cwd or its path behind a task that already used
  // it, then uses a relative path again: a stale cwd would put the file
  // elsewhere or fail, and the output or the tree would differ.
  Differential(R"py(
    set -e
    mkdir -p d/e && cd d/e && echo 1 > f
    mv ../../d ../../m && echo 2 > g && ls && pwd -P | sed "s|.*/\(m/e\)$|\1|"
    cd ../.. && ls m/e
    mkdir r && cd r && echo 3 > h && rm h && rmdir ../r
    (echo 4 > i) 2>/dev/null || echo "cwd removed: no i"
    cd ..
    $PYTHON -c '
import os, threading
open("before", "w").write("the main thread used its cwd first")
def move():
    os.chdir("src")
    os.stat(".")
t = threading.Thread(target=move)
t.start(); t.join()
open("x", "w").write("after a thread moved the shared cwd")
os.mkdir("../newdir")
os.fchdir(os.open("../newdir", os.O_RDONLY | os.O_DIRECTORY))
open("z1", "w").write("in the new directory")
os.rename("../newdir", "../moved")
open("z2", "w").write("after it was renamed")
print(sorted(os.listdir("../moved")), sorted(os.listdir("../src")))
'
  )py");
}

TEST_F(SandboxDifferential, FdBasedChangesAndProcSelfFdReopen) {
  Differential("$COW_FDOPS a.txt && cat a.txt && stat -c '%a %s' a.txt");
}

}  // namespace
}  // namespace sandtrace::cow::testing
