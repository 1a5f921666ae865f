// The recorder on live runs: the supervisor runs real workloads (sh +
// coreutils, git, python, cc + make) in the test process (it forks the
// sandboxed child; filters and Landlock apply only to that child), with
// handler sets that read paths, /proc links and the umask, write payloads
// (seed), inject files and fail calls. Each trace is checked against what
// the supervisor saw live, and re-driven through a RecordedTracee: the same
// handlers must make the same calls and the same decisions.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <set>

#include "cow/handlers/cow_session.h"
#include "cow/handlers/disposition.h"
#include "tests/record/record_test_util.h"
#include "tracer/base/errors.h"
#include "tracer/core/seed_handlers.h"
#include "tracer/record/header.h"
#include "tracer/record/recorder.h"
#include "tracer/supervisor.h"

namespace sandtrace::record {
namespace {

using rtest::TempDir;

constexpr uint64_t kSeed = 42;

// Reads the path argument (if any) and, for creating opens, the cwd and the
// umask; decides nothing. Exercises every read kind of the seam.
std::optional<Decision> Probe(const Notification& n, Tracee& t) {
  const SyscallDef* def = NativeSyscalls().FindByNr(n.nr);
  if (def == nullptr) return std::nullopt;
  for (int i = 0; i < def->nargs(); ++i) {
    if (def->args[i] != ArgRole::kPath) continue;
    auto p = ReadPathChecked(t, n.args[i]);
    if (p.ok() && !p->empty() && (*p)[0] != '/') (void)t.ReadProcLink(ProcLink::kCwd, 0);
    break;
  }
  if (n.nr == __NR_openat && (n.args[2] & O_CREAT)) (void)t.ReadUmask();
  if (n.nr == __NR_newfstatat) {
    // A struct read: the first 16 bytes at the stat buffer (it may be
    // uninitialised: the bytes are whatever the child had there).
    std::byte head[16];
    (void)t.ReadMemory(n.args[2], head);
  }
  return std::nullopt;
}

// openat of /sandtrace-magic gets a file from `dir`; /sandtrace-denied
// fails with EACCES.
Handler Magic(std::string dir) {
  return [dir](const Notification& n, Tracee& t) -> std::optional<Decision> {
    if (n.nr != __NR_openat) return std::nullopt;
    auto p = ReadPathChecked(t, n.args[1]);
    if (!p.ok()) return std::nullopt;
    if (*p == "/sandtrace-denied") return Decision::Errno(EACCES);
    if (*p != "/sandtrace-magic") return std::nullopt;
    int fd = open((dir + "/magic.txt").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Decision::Errno(EIO);
    InjectedFile f{FileRoot::kLower, "magic.txt", O_RDONLY | O_CLOEXEC,
                   (n.args[2] & O_CLOEXEC) ? static_cast<uint32_t>(O_CLOEXEC) : 0u};
    return Decision::Inject(UniqueFd(fd), std::move(f));
  };
}

void Register(HandlerRegistry& reg, const std::string& workdir) {
  auto must = [](Status s) {
    if (!s.ok()) throw Fatal(s.error().Message());
  };
  must(reg.AddByName("probe",
                     {"openat", "newfstatat", "faccessat2", "readlink", "mkdir", "unlinkat",
                      "execve", "chdir", "getdents64"},
                     Probe));
  must(reg.AddByName("magic", {"openat"}, Magic(workdir)));
  must(AddSeedHandlers(reg, kSeed));
}

std::string TraceeCallText(const trace::TraceeCall& c) {
  return std::string(trace::Name(c.kind)) + " addr=" + std::to_string(c.addr) +
         " len=" + std::to_string(c.length) + " link=" + std::string(trace::Name(c.link)) +
         " fd=" + std::to_string(c.fd) + " err=" + std::to_string(c.error) +
         " res=" + std::to_string(c.result) + " bytes=" + std::to_string(c.bytes.size());
}

struct LiveRun {
  RunResult result;
  std::vector<rtest::LiveEvent> live;
  std::vector<ProcessEvent> live_processes;
  rtest::TraceContents trace;
  cow::ChangeList changes;  // with the COW set: the session's change list
  bool cow = false;
};

class RecordLive : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFileIn("magic.txt", "magic contents\n");
    WriteFileIn("data.txt", "b\na\nc\n");
  }
  void WriteFileIn(const std::string& name, const std::string& s) {
    rtest::WriteFile(work_.path() + "/" + name, s);
  }

  // With `with_cow`, the COW set is registered after the test's sets and
  // its engine reports to the recorder; the changes are then discarded.
  LiveRun Record(const std::vector<std::string>& argv, bool with_cow = false) {
    HandlerRegistry reg;
    Register(reg, work_.path());
    RunOptions o;
    o.argv = argv;
    o.workdir = work_.path();
    o.landlock = features_.landlock_abi > 0;
    o.write_paths = {scratch_.path()};
    o.foreground_tty = false;
    const std::string path = out_.path() + "/t.capnp";
    auto writer = trace::TraceWriter::Open(path);
    if (!writer.ok()) throw Fatal(writer.error().Message());
    // The COW variants write through the writer thread (trace record's
    // default with two CPUs), the others inline.
    RecorderOptions ro;
    ro.writer_thread = with_cow;
    ro.writer_thread_after = 0;
    Recorder rec(**writer, ro);
    std::unique_ptr<cow::CowSession> session;
    if (with_cow) {
      cow::CowSessionOptions so;
      so.workdir = work_.path();
      so.storage = storage_.path();
      so.observer = &rec;
      so.writable_paths = o.write_paths;
      auto s = cow::CowSession::Create(so);
      if (!s.ok()) throw Fatal(s.error().Message());
      session = std::move(*s);
      if (Status st = session->Register(reg); !st.ok()) throw Fatal(st.error().Message());
      o.workdir = session->workdir();
      o.open_rw_paths = {session->fifo_dir()};
    }
    HeaderInputs hi;
    hi.features = features_;
    hi.run = o;
    hi.handler_sets = reg.set_names();
    if (Status s = rec.Begin(BuildHeader(hi)); !s.ok()) throw Fatal(s.error().Message());
    rtest::TeeObserver tee(rec);
    Supervisor sup(reg, features_);
    sup.set_observer(&tee);
    sup.set_tick(std::chrono::milliseconds(100), [&rec] { rec.Tick(); });
    auto r = sup.Run(o);
    if (!r.ok()) throw Fatal(r.error().Message());
    LiveRun out;
    out.result = *r;
    out.cow = with_cow;
    if (!rec.EndRun().ok()) throw Fatal("EndRun");
    if (!rec.WriteSnapshot(o.workdir).ok()) throw Fatal("snapshot");
    if (session) {
      auto changes = session->overlay().Changes();
      if (!changes.ok()) throw Fatal(changes.error().Message());
      out.changes = *changes;
      if (!rec.WriteChanges(out.changes).ok()) throw Fatal("changes");
      std::FILE* devnull = std::fopen("/dev/null", "we");
      (void)cow::FinishSession(*session, cow::Disposition::kDiscard, false, devnull);
      std::fclose(devnull);
    }
    if (!rec.Finish(r->exited ? r->status : 0, r->term_signal, r->abort_error.empty()).ok()) {
      throw Fatal("finish");
    }
    out.live = std::move(tee.events);
    out.live_processes = std::move(tee.processes);
    out.trace = rtest::ReadTrace(path);
    return out;
  }

  // The trace against the live run, and against a replay of its call log.
  void Check(const LiveRun& run, const std::string& what) {
    SCOPED_TRACE(what);
    const auto& t = run.trace;
    ASSERT_EQ(t.open_error, "");
    ASSERT_EQ(t.read_error, "");
    EXPECT_EQ(t.warning, "");
    ASSERT_TRUE(t.footer.has_value());
    EXPECT_TRUE(t.footer->clean_end);
    EXPECT_EQ(run.result.abort_error, "");
    // One event per notification handled.
    EXPECT_EQ(run.live.size(), run.result.notifications);
    ASSERT_EQ(t.events.size(), run.live.size());
    EXPECT_EQ(t.footer->totals.events, run.result.notifications);
    EXPECT_EQ(t.footer->exit_status, run.result.status);

    HandlerRegistry replay_reg;
    Register(replay_reg, work_.path());
    std::map<int, int> kinds;
    int injected = 0, failed = 0, writes = 0;
    for (size_t i = 0; i < t.events.size(); ++i) {
      const trace::EventRecord& e = t.events[i];
      const rtest::LiveEvent& l = run.live[i];
      SCOPED_TRACE("event " + std::to_string(i) + " " + NativeSyscalls().NameOf(e.nr));
      EXPECT_EQ(e.seq, i);
      EXPECT_EQ(e.seq, l.n.seq);
      EXPECT_EQ(e.id, l.n.id);
      EXPECT_EQ(e.tid, l.n.tid);
      EXPECT_EQ(e.nr, l.n.nr);
      EXPECT_EQ(e.arch, l.n.arch);
      EXPECT_EQ(e.ip, l.n.ip);
      EXPECT_EQ(e.args, l.n.args);
      EXPECT_LE(e.received_ns, e.handler_start_ns);
      EXPECT_LE(e.handler_start_ns, e.handler_end_ns);
      EXPECT_LE(e.handler_end_ns, e.response_sent_ns);
      EXPECT_EQ(e.decision.kind, ToTrace(l.kind));
      EXPECT_EQ(e.outcome, ToTrace(l.response.outcome));
      if (l.kind == DecisionKind::kReturn) {
        EXPECT_EQ(e.decision.value, l.value);
      }
      if (l.kind == DecisionKind::kErrno) {
        EXPECT_EQ(e.decision.error, l.error);
      }
      if (l.kind == DecisionKind::kInjectFd) {
        ++injected;
        EXPECT_EQ(e.decision.file.root, ToTrace(l.file.root));
        EXPECT_EQ(e.decision.file.path, l.file.path);
        EXPECT_EQ(e.decision.file.open_flags, l.file.open_flags);
        EXPECT_EQ(e.decision.file.fd_flags, l.file.fd_flags);
        EXPECT_EQ(e.decision.file.fd,
                  l.response.outcome == ResponseOutcome::kSent ? l.response.child_fd : -1);
      }
      failed += l.kind == DecisionKind::kErrno;
      ++kinds[static_cast<int>(l.kind)];
      // The recorded calls are exactly those that reached the live Tracee.
      ASSERT_EQ(e.calls.size(), l.calls.size());
      for (size_t k = 0; k < e.calls.size(); ++k) {
        EXPECT_EQ(e.calls[k], l.calls[k]) << "call " << k << ": " << TraceeCallText(e.calls[k])
                                          << " vs " << TraceeCallText(l.calls[k]);
        writes += e.calls[k].kind == trace::TraceeCallKind::kWriteMemory;
      }
      // Replay: the same handlers, served from the log, decide the same
      // (the COW set needs its overlay rebuilt from the snapshot: that is
      // replay's own test; here only the sets without state outside the
      // Tracee are re-driven).
      if (run.cow) continue;
      Notification n = l.n;
      rtest::RecordedTracee rt(e.calls);
      DispatchResult d = replay_reg.Dispatch(n, rt);
      EXPECT_TRUE(rt.mismatches().empty()) << rt.mismatches()[0];
      EXPECT_TRUE(rt.all_consumed());
      EXPECT_EQ(ToTrace(d.decision.kind), e.decision.kind);
      if (d.decision.kind == DecisionKind::kInjectFd) {
        EXPECT_EQ(d.decision.file.path, e.decision.file.path);
      }
    }
    // Processes: the spawn, and the command's exit with its status.
    ASSERT_FALSE(t.processes.empty());
    EXPECT_EQ(t.processes[0].kind, trace::ProcessEventKind::kSpawn);
    const uint32_t root = t.processes[0].pid;
    bool root_exit = false;
    std::set<uint32_t> known = {root};
    for (const auto& p : t.processes) {
      if (p.kind == trace::ProcessEventKind::kFork) {
        EXPECT_TRUE(known.count(p.parent_pid))
            << "fork of " << p.pid << " from unknown " << p.parent_pid;
        known.insert(p.pid);
      }
      if (p.kind == trace::ProcessEventKind::kExit && p.pid == root) {
        root_exit = true;
        EXPECT_EQ(p.exit_status, run.result.status);
      }
    }
    EXPECT_TRUE(root_exit);
    if (run.cow) {
      // The change list, the snapshot of what was consulted, the discard.
      ASSERT_EQ(t.footer->changes.size(), run.changes.size());
      for (size_t i = 0; i < run.changes.size(); ++i) {
        EXPECT_EQ(t.footer->changes[i].path, run.changes[i].path);
        EXPECT_EQ(t.footer->changes[i].kind, ToTrace(run.changes[i].kind));
      }
      EXPECT_FALSE(t.entries.empty());
      ASSERT_FALSE(t.cows.empty());
      EXPECT_EQ(t.cows.back().kind, trace::CowEventKind::kDiscard);
      for (const auto& c : t.cows) {
        if (c.kind == trace::CowEventKind::kCopyUp || c.kind == trace::CowEventKind::kCreate) {
          ASSERT_TRUE(c.event_seq.has_value()) << c.path;
          EXPECT_LT(*c.event_seq, t.events.size());
        }
      }
    }
    last_injected_ = injected;
    last_failed_ = failed;
    last_writes_ = writes;
  }

  KernelFeatures features_ = ProbeKernelFeatures(true);
  TempDir work_;
  TempDir scratch_;
  TempDir out_;
  TempDir storage_;
  int last_injected_ = 0, last_failed_ = 0, last_writes_ = 0;
};

TEST_F(RecordLive, ShellAndCoreutils) {
  std::string w = scratch_.path();
  LiveRun r = Record({"/bin/sh", "-c",
                      "ls -la /usr/bin > /dev/null; sort data.txt | head -2 > /dev/null; "
                      "mkdir -p " +
                          w + "/x && cp data.txt " + w + "/x/ && rm -r " + w +
                          "/x; "
                          "head -c 64 /dev/urandom | od -An > /dev/null; cat /sandtrace-magic > " +
                          w +
                          "/m; "
                          "cat /sandtrace-denied 2>/dev/null; exit 3"});
  EXPECT_EQ(r.result.status, 3);
  Check(r, "sh");
  EXPECT_GE(last_injected_, 2);  // /dev/urandom (seed) and /sandtrace-magic
  EXPECT_GE(last_failed_, 1);    // /sandtrace-denied
  EXPECT_GE(last_writes_, 1);    // getrandom payloads
  EXPECT_EQ(rtest::ReadFile(scratch_.path() + "/m"), "magic contents\n");
  // exec records name the programs (where the process lived long enough
  // for /proc to be read).
  if (r.trace.header && r.trace.processes.size() > 2) {
    bool saw_exec = false;
    for (const auto& p : r.trace.processes) {
      saw_exec |= p.kind == trace::ProcessEventKind::kExec && !p.argv.empty();
    }
    EXPECT_TRUE(saw_exec);
  }
}

TEST_F(RecordLive, Git) {
  if (access("/usr/bin/git", X_OK) != 0) GTEST_SKIP() << "git is not installed";
  std::string repo = scratch_.path() + "/repo";
  LiveRun r = Record({"/bin/sh", "-c",
                      "git init -q " + repo + " && cd " + repo +
                          " && echo hi > f && git add f && git -c user.email=a@b -c "
                          "user.name=n commit -qm m && git log --oneline > /dev/null"});
  EXPECT_EQ(r.result.status, 0);
  Check(r, "git");
}

// The python3 the workloads run ("" when there is none).
std::string Python3() {
  for (const char* p : {"/usr/bin/python3", "/usr/local/bin/python3"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

TEST_F(RecordLive, Python) {
  const std::string py = Python3();
  if (py.empty()) GTEST_SKIP() << "no python3 in /usr/bin or /usr/local/bin";
  LiveRun r = Record({py, "-S", "-c",
                      "import os, json\n"
                      "names = sorted(os.listdir('.'))\n"
                      "open('" +
                          scratch_.path() +
                          "/out.json', 'w').write(json.dumps(names))\n"
                          "os.urandom(32)\n"});
  EXPECT_EQ(r.result.status, 0);
  Check(r, "python");
  EXPECT_EQ(rtest::ReadFile(scratch_.path() + "/out.json"), "[\"data.txt\", \"magic.txt\"]");
}

TEST_F(RecordLive, CcAndMake) {
  if (access("/usr/bin/make", X_OK) != 0 || access("/usr/bin/cc", X_OK) != 0) {
    GTEST_SKIP() << "no cc/make";
  }
  std::string w = scratch_.path();
  rtest::WriteFile(w + "/hello.c", "#include <stdio.h>\nint main(void){puts(\"hi\");return 0;}\n");
  rtest::WriteFile(w + "/Makefile", "hello: hello.c\n\tcc -O0 -o hello hello.c\n");
  LiveRun r = Record({"/bin/sh", "-c", "make -s -C " + w + " && " + w + "/hello > " + w + "/o"});
  EXPECT_EQ(r.result.status, 0);
  Check(r, "make");
  EXPECT_EQ(rtest::ReadFile(w + "/o"), "hi\n");
}

// The same workloads, writing into a copy-on-write workdir.
TEST_F(RecordLive, ShellAndCoreutilsCopyOnWrite) {
  LiveRun r = Record({"/bin/sh", "-c",
                      "ls -la > /dev/null; sort data.txt > sorted.txt; mkdir -p sub/x && "
                      "cp data.txt sub/x/ && rm data.txt; mv magic.txt sub/; ls -R > list.txt"},
                     true);
  EXPECT_EQ(r.result.status, 0);
  Check(r, "sh cow");
  EXPECT_GE(r.changes.size(), 5u);
  // The workdir itself is untouched (discarded).
  EXPECT_EQ(rtest::ReadFile(work_.path() + "/data.txt"), "b\na\nc\n");
}

TEST_F(RecordLive, GitCopyOnWrite) {
  if (access("/usr/bin/git", X_OK) != 0) GTEST_SKIP() << "git is not installed";
  LiveRun r = Record({"/bin/sh", "-c",
                      "git init -q . && git add data.txt && git -c user.email=a@b -c "
                      "user.name=n commit -qm m && git status --short > /dev/null"},
                     true);
  EXPECT_EQ(r.result.status, 0);
  Check(r, "git cow");
}

TEST_F(RecordLive, PythonCopyOnWrite) {
  const std::string py = Python3();
  if (py.empty()) GTEST_SKIP() << "no python3 in /usr/bin or /usr/local/bin";
  LiveRun r = Record({py, "-S", "-c",
                      "import os\n"
                      "os.makedirs('pkg/sub', exist_ok=True)\n"
                      "open('pkg/sub/m.py', 'w').write('x = 1\\n')\n"
                      "os.rename('data.txt', 'pkg/data.txt')\n"
                      "assert sorted(os.listdir('pkg')) == ['data.txt', 'sub']\n"},
                     true);
  EXPECT_EQ(r.result.status, 0);
  Check(r, "python cow");
}

TEST_F(RecordLive, CcAndMakeCopyOnWrite) {
  if (access("/usr/bin/make", X_OK) != 0 || access("/usr/bin/cc", X_OK) != 0) {
    GTEST_SKIP() << "no cc/make";
  }
  rtest::WriteFile(work_.path() + "/hello.c",
                   "#include <stdio.h>\nint main(void){puts(\"hi\");return 0;}\n");
  // (A name long enough for the COW handlers' in-place exec path rewrite.)
  rtest::WriteFile(work_.path() + "/Makefile",
                   "hello_program: hello.c\n\tcc -O0 -o hello_program hello.c\n");
  LiveRun r = Record({"/bin/sh", "-c", "make -s && ./hello_program > out.txt"}, true);
  EXPECT_EQ(r.result.status, 0);
  Check(r, "make cow");
}

}  // namespace
}  // namespace sandtrace::record
