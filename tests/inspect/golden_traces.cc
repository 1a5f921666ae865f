#include "tests/inspect/golden_traces.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <sys/stat.h>

#include <cerrno>

#include "formats/synthetic_trace.h"
#include "formats/trace_writer.h"

namespace sandtrace::inspect_test {
namespace {

using namespace sandtrace::trace;

constexpr uint32_t kMain = 5000;
constexpr uint32_t kChild = 5001;
constexpr uint64_t kStart = 1'000'000'000;

class Builder {
 public:
  std::vector<Record> records;

  // An event whose path-like arguments were read by the handler.
  EventRecord& Event(uint32_t tid, int nr, std::array<uint64_t, 6> args,
                     std::vector<std::pair<int, std::string>> strings, uint64_t handler_ns) {
    EventRecord e;
    e.seq = seq_++;
    e.id = 0x7e57000000000000ULL + e.seq;
    e.tid = tid;
    e.arch = AUDIT_ARCH_X86_64;
    e.nr = nr;
    e.ip = 0x7f0000001000ULL + static_cast<uint64_t>(nr) * 16;
    e.args = args;
    now_ += 10'000;
    e.received_ns = now_;
    e.handler_start_ns = now_ + 400;
    e.handler_end_ns = e.handler_start_ns + handler_ns;
    e.response_sent_ns = e.handler_end_ns + 600;
    now_ = e.response_sent_ns;
    for (auto& [index, text] : strings) {
      TraceeCall c;
      c.kind = TraceeCallKind::kReadString;
      c.addr = args[index];
      c.length = 4096;
      c.bytes = text;
      e.calls.push_back(c);
    }
    TraceeCall valid;
    valid.kind = TraceeCallKind::kIdValid;
    valid.result = 1;
    e.calls.push_back(valid);
    e.outcome = ResponseOutcome::kSent;
    records.push_back(e);
    return std::get<EventRecord>(records.back());
  }

  void Process(ProcessEventKind kind, uint32_t pid, uint32_t parent, std::string exec = {},
               std::vector<std::string> argv = {}, int status = 0, int sig = 0) {
    ProcessRecord p;
    p.kind = kind;
    p.pid = pid;
    p.parent_pid = parent;
    p.exec_path = std::move(exec);
    p.argv = std::move(argv);
    p.exit_status = status;
    p.signal = sig;
    now_ += 1'000;
    p.timestamp_ns = now_;
    records.push_back(p);
  }

  void Cow(CowEventKind kind, std::string path, std::string detail) {
    CowRecord c;
    c.kind = kind;
    c.path = std::move(path);
    c.detail = std::move(detail);
    c.event_seq = seq_ - 1;
    c.timestamp_ns = now_;
    records.push_back(c);
  }

  uint64_t now() const { return now_; }

 private:
  uint64_t seq_ = 0;
  uint64_t now_ = kStart;
};

void Inject(EventRecord& e, FileRoot root, std::string path, int flags, int fd) {
  e.decision.kind = DecisionKind::kInjectFd;
  e.decision.file.root = root;
  e.decision.file.path = std::move(path);
  e.decision.file.open_flags = flags;
  e.decision.file.fd_flags = flags & O_CLOEXEC ? O_CLOEXEC : 0;
  e.decision.file.fd = fd;
}

void Errno(EventRecord& e, int error) {
  e.decision.kind = DecisionKind::kErrno;
  e.decision.error = error;
}

void Return(EventRecord& e, int64_t value) {
  e.decision.kind = DecisionKind::kReturn;
  e.decision.value = value;
}

void Continue(EventRecord& e) { e.decision.kind = DecisionKind::kContinue; }

constexpr uint64_t kFdCwd = static_cast<uint64_t>(-100);
constexpr uint64_t P1 = 0x55550000a000ULL, P2 = 0x55550000b000ULL, BUF = 0x7ffc0000c000ULL;

}  // namespace

std::vector<Record> BuildTraceRecords() {
  Builder b;
  HeaderRecord h;
  h.tool_version = "0.1.0-golden";
  h.kernel_release = "6.18.0-golden";
  h.features = {{"landlock.abi", 7, 6}, {"seccomp.addfd", 1, 1}, {"seccomp.sync_wake_up", 1, 1}};
  h.arch = AUDIT_ARCH_X86_64;
  h.argv = {"make", "-j2", "CFLAGS=-O2 -g"};
  h.env = std::vector<std::string>{"PATH=/usr/bin:/bin", "HOME=/home/u"};
  h.cwd = "/home/u/proj";
  h.workdir = "/home/u/proj";
  h.policy.read_paths = {"/usr", "/etc", "/home/u/proj"};
  h.policy.write_paths = {"/tmp"};
  h.policy.quota_bytes = 64 << 20;
  h.policy.seed = 42;
  h.policy.disposition = Disposition::kCommitOnSuccess;
  h.policy.options = {{"landlock", "on"}};
  h.handler_sets = {"cow", "seed"};
  h.snapshot_mode = SnapshotMode::kMetadata;
  h.snapshot_hash = "xxh128";
  h.start_realtime_ns = 1'767'225'600'000'000'000;  // 2026-01-01 00:00:00 UTC
  h.start_monotonic_ns = kStart;
  b.records.push_back(h);

  SnapshotChunk chunk;
  chunk.entries = {
      {"", FileType::kDirectory, 0755, 1000, 1000, 4096, 1'700'000'000'000'000'000, "", "", 0},
      {"Makefile", FileType::kRegular, 0644, 1000, 1000, 120, 1'700'000'000'000'000'000, "", "h1",
       0},
      {"src", FileType::kDirectory, 0755, 1000, 1000, 4096, 1'700'000'000'000'000'000, "", "", 0},
      {"src/main.c", FileType::kRegular, 0644, 1000, 1000, 42, 1'700'000'000'000'000'000, "", "h2",
       0},
      {"cc", FileType::kSymlink, 0777, 1000, 1000, 6, 1'700'000'000'000'000'000, "/bin/gcc", "",
       0}};
  chunk.blobs = {{"h1", 0, "all:\n\tcc -c src/main.c -o build/main.o\n"}};
  b.records.push_back(chunk);

  b.Process(ProcessEventKind::kSpawn, kMain, 1, "/usr/bin/make", {"make", "-j2", "CFLAGS=-O2 -g"});
  // #0
  Inject(b.Event(kMain, 257, {kFdCwd, P1, O_RDONLY | O_CLOEXEC, 0, 0, 0}, {{1, "Makefile"}}, 2'300),
         FileRoot::kLower, "Makefile", O_RDONLY | O_CLOEXEC, 3);
  // #1
  Continue(b.Event(kMain, 262, {kFdCwd, P1, BUF, 0, 0, 0}, {{1, "src/main.c"}}, 800));
  b.Process(ProcessEventKind::kFork, kChild, kMain);
  b.Process(ProcessEventKind::kExec, kChild, kMain, "/usr/bin/cc",
            {"cc", "-c", "src/main.c", "-o", "build/main.o"});
  // #2
  Inject(b.Event(kChild, 257, {kFdCwd, P2, O_RDONLY, 0, 0, 0}, {{1, "src/main.c"}}, 3'100),
         FileRoot::kLower, "src/main.c", O_RDONLY, 3);
  // #3: creates a file in the upper layer.
  Inject(b.Event(kChild, 257, {kFdCwd, P2, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644, 0, 0},
                 {{1, "build/main.o"}}, 12'400),
         FileRoot::kUpper, "build/main.o", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 4);
  b.Cow(CowEventKind::kCreate, "build/main.o", "");
  // #4: a write whose buffer the handler read (shown cut by -s).
  {
    EventRecord& e = b.Event(kChild, 1, {1, BUF, 40, 0, 0, 0}, {}, 900);
    TraceeCall read;
    read.kind = TraceeCallKind::kReadMemory;
    read.addr = BUF;
    read.length = 40;
    read.bytes = "cc: compiling src/main.c\twith -O2 -g\n\x01\x02";
    e.calls.insert(e.calls.begin(), read);
    Continue(e);
  }
  // #5
  Errno(b.Event(kChild, 263, {kFdCwd, P1, 0, 0, 0, 0}, {{1, "build/old.o"}}, 1'500), ENOENT);
  // #6
  Return(b.Event(kMain, 83, {P1, 0755, 0, 0, 0, 0}, {{0, "build/tmp"}}, 4'200), 0);
  b.Cow(CowEventKind::kCreate, "build/tmp", "");
  // #7
  Return(b.Event(kMain, 316, {kFdCwd, P1, kFdCwd, P2, 1 /*RENAME_NOREPLACE*/, 0},
                 {{1, "build/tmp"}, {3, "build/dir"}}, 5'600),
         0);
  b.Cow(CowEventKind::kRename, "build/tmp", "build/dir");
  // #8: a name that needs escaping, and is not valid UTF-8.
  Errno(b.Event(kMain, 257, {kFdCwd, P1, O_RDONLY, 0, 0, 0},
                {{1, std::string("weird \"name\"\n\xff.txt")}}, 700),
        ENOENT);
  // #9: interrupted by a signal, then re-issued as #10.
  {
    EventRecord& e =
        b.Event(kChild, 332, {kFdCwd, P2, 0x100 /*AT_SYMLINK_NOFOLLOW*/, 0xfff, BUF, 0},
                {{1, "src/util.h"}}, 1'100);
    Continue(e);
    e.outcome = ResponseOutcome::kInterrupted;
  }
  // #10
  {
    EventRecord& e =
        b.Event(kChild, 332, {kFdCwd, P2, 0x100, 0xfff, BUF, 0}, {{1, "src/util.h"}}, 1'000);
    Errno(e, ENOENT);
    e.restart_of_seq = 9;
  }
  // #11: a handler that reads /proc/<tid>/cwd, for a relative chdir.
  {
    EventRecord& e = b.Event(kMain, 80, {P1, 0, 0, 0, 0, 0}, {{0, "src"}}, 2'000);
    TraceeCall link;
    link.kind = TraceeCallKind::kReadProcLink;
    link.link = ProcLink::kCwd;
    link.bytes = "/home/u/proj";
    e.calls.insert(e.calls.begin() + 1, link);
    Continue(e);
  }
  // #12: a number the table does not know, with a decision of unknown kind.
  {
    EventRecord& e = b.Event(kMain, 999, {1, 2, 3, 0, 0, 0}, {}, 300);
    e.outcome = ResponseOutcome::kTargetGone;
  }
  // #13: a slow one, so the stats have a clear leader.
  Inject(b.Event(kChild, 257, {kFdCwd, P2, O_RDONLY | O_CLOEXEC | O_DIRECTORY, 0, 0, 0},
                 {{1, "build"}}, 48'000),
         FileRoot::kUpper, "build", O_RDONLY | O_CLOEXEC | O_DIRECTORY, 5);
  b.Process(ProcessEventKind::kExit, kChild, kMain, "", {}, 0, 0);
  b.Process(ProcessEventKind::kExit, kMain, 1, "", {}, 0, 0);

  FooterRecord f;
  f.exit_status = 0;
  f.changes = {{ChangeKind::kAdded, "build/main.o"}, {ChangeKind::kAdded, "build/dir"}};
  f.clean_end = true;
  f.end_ns = b.now() + 5'000;
  b.records.push_back(f);
  return b.records;
}

Status WriteRecords(const std::string& path, const std::vector<Record>& records,
                    size_t frame_bytes) {
  WriterOptions options;
  options.frame_bytes = frame_bytes;
  options.fsync_on_close = false;
  options.clock = [] { return uint64_t{0}; };
  auto writer = TraceWriter::Open(path, options);
  if (!writer.ok()) return writer.error();
  for (const Record& r : records) {
    if (Status s = (*writer)->Write(r); !s.ok()) return s;
  }
  return (*writer)->Close();
}

Status WriteSynthetic(const std::string& path, uint64_t events, uint64_t seed, size_t frame_bytes) {
  WriterOptions options;
  options.frame_bytes = frame_bytes;
  options.fsync_on_close = false;
  options.clock = [] { return uint64_t{0}; };
  auto writer = TraceWriter::Open(path, options);
  if (!writer.ok()) return writer.error();
  if (Status s = WriteSyntheticTrace(**writer, events, seed); !s.ok()) return s;
  return (*writer)->Close();
}

}  // namespace sandtrace::inspect_test
