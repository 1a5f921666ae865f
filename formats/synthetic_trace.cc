#include "formats/synthetic_trace.h"

#include <fcntl.h>

#include <array>
#include <string_view>

namespace sandtrace::trace {
namespace {

constexpr uint32_t kAuditArchX86_64 = 0xc000003e;
constexpr uint32_t kFirstTid = 41000;

constexpr std::array<std::string_view, 6> kDirs = {"src/",   "src/core/", "include/",
                                                   "build/", "tests/",    "build/obj/"};
constexpr std::array<std::string_view, 8> kFiles = {"main",   "util",  "parser", "lexer",
                                                    "config", "table", "io",     "alloc"};
constexpr std::array<std::string_view, 4> kExts = {".c", ".h", ".o", ".d"};

// x86_64 numbers of the syscalls the stream pretends to see.
constexpr std::array<int32_t, 7> kNrs = {257 /*openat*/,
                                         262 /*newfstatat*/,
                                         332 /*statx*/,
                                         21 /*access*/,
                                         89 /*readlink*/,
                                         263 /*unlinkat*/,
                                         83 /*mkdir*/};

}  // namespace

SyntheticStream::SyntheticStream(uint64_t seed, StreamProfile profile)
    : profile_(profile),
      rng_(seed * 0x9e3779b97f4a7c15ULL + 1),
      id_(0x5a17000000000000ULL ^ (seed << 20)) {}

uint64_t SyntheticStream::Rand() {
  // xorshift64*: cheap and deterministic across platforms.
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return rng_ * 0x2545f4914f6cdd1dULL;
}

HeaderRecord SyntheticStream::Header() const {
  HeaderRecord h;
  h.tool_version = "0.1.0-synthetic";
  h.kernel_release = "6.18.0-synthetic";
  h.features = {{"landlock.abi", 7, 6}, {"seccomp.addfd", 1, 1}};
  h.arch = kAuditArchX86_64;
  h.argv = {"make", "-j2"};
  h.cwd = "/work/proj";
  h.workdir = "/work/proj";
  h.policy.read_paths = {"/usr", "/etc"};
  h.policy.write_paths = {"/tmp"};
  h.policy.disposition = Disposition::kCommitOnSuccess;
  h.handler_sets = {"cow", "record"};
  h.snapshot_mode = SnapshotMode::kNone;
  h.start_monotonic_ns = now_ns_;
  return h;
}

namespace {

// The syscalls of a build's stream, and the short sequences a compiler or
// make issues per file (a visit): a missed include probe; a source read
// (stat, open, fstat); an object written (open with O_CREAT, fstat); a
// temporary removed; a directory made.
enum Step : uint8_t { kStat, kStatMissing, kOpenRead, kFstat, kOpenWrite, kUnlink, kMkdir, kEnd };
constexpr Step kVisits[][4] = {
    {kStatMissing, kEnd, kEnd, kEnd}, {kStat, kOpenRead, kFstat, kEnd},
    {kOpenWrite, kFstat, kEnd, kEnd}, {kUnlink, kEnd, kEnd, kEnd},
    {kMkdir, kEnd, kEnd, kEnd},
};
// Out of 20 visits: 8 probes, 7 reads, 3 writes, 1 unlink, 1 mkdir.
constexpr uint8_t kVisitOf[20] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 4};

constexpr uint64_t kEmptyStringAddr = 0x7f3a12200000ULL;  // libc's ""
constexpr uint64_t kStatBufAddr = 0x7ffd4a3e1000ULL;

void SetCall(TraceeCall& c, TraceeCallKind kind) {
  c.Clear();
  c.kind = kind;
}

}  // namespace

void SyntheticStream::Timestamps(EventRecord& e, uint64_t r) {
  now_ns_ += 2'000 + (r >> 24) % 20'000;
  e.received_ns = now_ns_;
  e.handler_start_ns = now_ns_ + 300 + (r >> 32) % 200;
  e.handler_end_ns = e.handler_start_ns + 1'000 + (r >> 40) % 4'000;
  e.response_sent_ns = e.handler_end_ns + 400 + (r >> 48) % 300;
  now_ns_ = e.response_sent_ns;
}

void SyntheticStream::NextEvent(EventRecord& e) {
  if (profile_ == StreamProfile::kUniform) {
    NextUniformEvent(e);
    return;
  }
  const uint64_t r = Rand();
  if (step_ >= 4 || kVisits[visit_][step_] == kEnd) {
    // A new visit: a file of the tree, and now and then a new process.
    visit_ = kVisitOf[r % 20];
    step_ = 0;
    path_pick_ = r >> 8;
    path_addr_ = 0x55d0c0de0000ULL + ((r >> 20) % 16) * 0x1000;
    if ((r >> 28) % 64 == 0) tid_ = kFirstTid + 1 + static_cast<uint32_t>((r >> 34) % 200);
    ++fd_;
    if (fd_ > 9) fd_ = 3;
  }
  const Step step = kVisits[visit_][step_++];
  const uint64_t p = path_pick_;
  e.seq = seq_++;
  e.id = id_++;
  e.tid = tid_;
  e.arch = kAuditArchX86_64;
  Timestamps(e, Rand());

  std::string_view dir = kDirs[p % kDirs.size()];
  std::string_view file = kFiles[(p >> 4) % kFiles.size()];
  std::string_view ext = kExts[(p >> 8) % kExts.size()];
  if (step == kOpenWrite) ext = ".o";

  e.calls.resize((r >> 56) % 8 == 0 ? 3 : 2);
  TraceeCall& read = e.calls[0];
  SetCall(read, TraceeCallKind::kReadString);
  read.length = 4096;
  if (e.calls.size() == 3) {
    SetCall(e.calls[1], TraceeCallKind::kReadProcLink);
    e.calls[1].link = ProcLink::kCwd;
    e.calls[1].bytes.assign("/work/proj");
  }
  SetCall(e.calls.back(), TraceeCallKind::kIdValid);
  e.calls.back().result = 1;

  DecisionRecord& d = e.decision;
  d.Clear();
  d.kind = DecisionKind::kContinue;
  const uint64_t at_fdcwd = static_cast<uint64_t>(-100);
  switch (step) {
    case kStat:
    case kStatMissing:
      e.nr = 262;  // newfstatat
      e.args = {at_fdcwd, path_addr_, kStatBufAddr, 0, 0, 0};
      if (step == kStatMissing) {
        d.kind = DecisionKind::kErrno;
        d.error = ENOENT;
      }
      break;
    case kOpenRead:
      e.nr = 257;  // openat
      e.args = {at_fdcwd, path_addr_, static_cast<uint64_t>(O_RDONLY | O_CLOEXEC), 0, 0, 0};
      break;
    case kOpenWrite:
      e.nr = 257;
      e.args = {at_fdcwd, path_addr_, static_cast<uint64_t>(O_WRONLY | O_CREAT | O_TRUNC),
                0666,     0,          0};
      d.kind = DecisionKind::kInjectFd;
      d.file.root = FileRoot::kUpper;
      d.file.open_flags = O_WRONLY | O_CREAT | O_TRUNC;
      d.file.fd = static_cast<int32_t>(fd_);
      break;
    case kFstat:
      e.nr = 262;
      e.args = {fd_, kEmptyStringAddr, kStatBufAddr, AT_EMPTY_PATH, 0, 0};
      break;
    case kUnlink:
      e.nr = 263;  // unlinkat
      e.args = {at_fdcwd, path_addr_, 0, 0, 0, 0};
      d.kind = DecisionKind::kReturn;
      break;
    case kMkdir:
    case kEnd:
      e.nr = 83;  // mkdir
      e.args = {path_addr_, 0755, 0, 0, 0, 0};
      d.kind = DecisionKind::kErrno;
      d.error = EEXIST;
      break;
  }
  e.ip = 0x7f3a12345000ULL + static_cast<uint64_t>(e.nr) * 0x10;
  if (step == kFstat) {
    read.addr = kEmptyStringAddr;
  } else {
    read.addr = path_addr_;
    read.bytes.append(dir);
    read.bytes.append(step == kMkdir ? std::string_view() : file);
    if (step != kMkdir) read.bytes.append(ext);
  }
  if (d.kind == DecisionKind::kInjectFd) d.file.path = read.bytes;
  e.outcome = ResponseOutcome::kSent;
  e.restart_of_seq.reset();
}

void SyntheticStream::NextUniformEvent(EventRecord& e) {
  uint64_t r = Rand();
  e.seq = seq_++;
  e.id = id_++;
  e.tid = kFirstTid + static_cast<uint32_t>(r % 4);
  e.arch = kAuditArchX86_64;
  const size_t nr_index = (r >> 8) % kNrs.size();
  e.nr = kNrs[nr_index];
  e.ip = 0x7f3a12345000ULL + ((r >> 16) % 64) * 0x10;
  Timestamps(e, r);

  path_addr_ = 0x55d0c0de0000ULL + ((r >> 20) % 4096) * 64;
  path_pick_ = r;
  const uint64_t path_addr = path_addr_;
  const uint64_t p = path_pick_;
  e.args = {static_cast<uint64_t>(-100) /*AT_FDCWD*/,
            path_addr,
            static_cast<uint64_t>(O_RDONLY | O_CLOEXEC),
            0,
            0,
            0};

  size_t n = (r >> 56) % 8 == 0 ? 3 : 2;
  e.calls.resize(n);
  TraceeCall& read = e.calls[0];
  SetCall(read, TraceeCallKind::kReadString);
  read.addr = path_addr;
  read.length = 4096;
  read.bytes.append(kDirs[(p >> 4) % kDirs.size()]);
  read.bytes.append(kFiles[(p >> 12) % kFiles.size()]);
  read.bytes.append(kExts[(p >> 28) % kExts.size()]);
  if (n == 3) {
    SetCall(e.calls[1], TraceeCallKind::kReadProcLink);
    e.calls[1].link = ProcLink::kCwd;
    e.calls[1].bytes.assign("/work/proj");
  }
  SetCall(e.calls[n - 1], TraceeCallKind::kIdValid);
  e.calls[n - 1].result = 1;

  DecisionRecord& d = e.decision;
  d.Clear();
  switch ((r >> 36) % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
      d.kind = DecisionKind::kContinue;
      break;
    case 5:
    case 6:
      d.kind = DecisionKind::kErrno;
      d.error = ENOENT;
      break;
    case 7:
    case 8:
      d.kind = DecisionKind::kInjectFd;
      d.file.root = (r >> 44) % 3 == 0 ? FileRoot::kUpper : FileRoot::kLower;
      d.file.path = read.bytes;
      d.file.open_flags = O_RDONLY | O_CLOEXEC;
      d.file.fd_flags = O_CLOEXEC;
      d.file.fd = 3 + static_cast<int32_t>((r >> 50) % 8);
      break;
    default:
      d.kind = DecisionKind::kReturn;
      d.value = 0;
      break;
  }
  e.outcome = ResponseOutcome::kSent;
  e.restart_of_seq.reset();
}

ProcessRecord SyntheticStream::Spawn() const {
  ProcessRecord p;
  p.kind = ProcessEventKind::kSpawn;
  p.pid = kFirstTid;
  p.parent_pid = 1;
  p.exec_path = "/usr/bin/make";
  p.argv = {"make", "-j2"};
  p.timestamp_ns = now_ns_;
  return p;
}

ProcessRecord SyntheticStream::Exit() const {
  ProcessRecord p;
  p.kind = ProcessEventKind::kExit;
  p.pid = kFirstTid;
  p.parent_pid = 1;
  p.timestamp_ns = now_ns_;
  return p;
}

FooterRecord SyntheticStream::Footer() const {
  FooterRecord f;
  f.changes = {{ChangeKind::kAdded, "build/obj/main.o"}, {ChangeKind::kModified, "build/log"}};
  f.clean_end = true;
  f.end_ns = now_ns_;
  return f;
}

Status WriteSyntheticTrace(TraceWriter& writer, uint64_t events, uint64_t seed,
                           StreamProfile profile) {
  SyntheticStream stream(seed, profile);
  Status st = writer.Write(stream.Header());
  if (st.ok()) st = writer.Write(stream.Spawn());
  EventRecord event;
  for (uint64_t i = 0; st.ok() && i < events; ++i) {
    stream.NextEvent(event);
    st = writer.Write(event);
  }
  if (st.ok()) st = writer.Write(stream.Exit());
  if (st.ok()) st = writer.Write(stream.Footer());
  return st;
}

}  // namespace sandtrace::trace
