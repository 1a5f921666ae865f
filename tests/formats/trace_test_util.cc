#include "tests/formats/trace_test_util.h"

#include <fcntl.h>

namespace sandtrace::trace::testing {

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

ReadOutcome ReadTrace(const std::string& bytes, ReaderOptions options, size_t max_records) {
  ReadOutcome outcome;
  auto reader = TraceReader::FromBuffer(Bytes(bytes), "trace", options);
  if (!reader.ok()) {
    outcome.open_error = reader.error().Message();
    outcome.error_code = reader.error().code;
    return outcome;
  }
  Record record;
  while (outcome.records.size() < max_records) {
    auto more = (*reader)->Next(record);
    if (!more.ok()) {
      outcome.error = more.error().Message();
      outcome.error_code = more.error().code;
      break;
    }
    if (!*more) break;
    outcome.records.push_back(record);
  }
  outcome.warning = (*reader)->warning();
  return outcome;
}

HeaderRecord SampleHeader() {
  HeaderRecord h;
  h.tool_version = "0.1.0-test";
  h.kernel_release = "6.18.0-test";
  h.features = {{"landlock.abi", 7, 4}, {"seccomp.addfd", 1, 1}, {"seccomp.sync_wake_up", 1, 0}};
  h.arch = 0xc000003e;
  h.argv = {"sh", "-c", std::string("echo \xff\xfe\0bin", 12)};
  h.env = std::vector<std::string>{"PATH=/usr/bin", "HOME=/root"};
  h.cwd = "/work/proj/sub";
  h.workdir = "/work/proj";
  h.policy.read_paths = {"/usr", "/etc"};
  h.policy.write_paths = {"/tmp/out"};
  h.policy.quota_bytes = 1 << 30;
  h.policy.seed = 42;
  h.policy.disposition = Disposition::kDryRun;
  h.policy.options = {{"passthrough", "false"}, {"timeout", "30s"}};
  h.handler_sets = {"cow", "record"};
  h.snapshot_mode = SnapshotMode::kFull;
  h.snapshot_hash = "xxh128";
  h.start_realtime_ns = 1'700'000'000'000'000'000;
  h.start_monotonic_ns = 123'456'789;
  return h;
}

std::vector<EventRecord> SampleEvents() {
  std::vector<EventRecord> events;
  EventRecord base;
  base.id = 0xfeedface00000000ULL;
  base.tid = 4242;
  base.arch = 0xc000003e;
  base.nr = 257;
  base.ip = 0x7f0012345678ULL;
  base.args = {static_cast<uint64_t>(-100), 0x5500001000ULL, 0x80241, 0644, 7,
               0xffffffffffffffffULL};
  base.received_ns = 1'000'000;
  base.handler_start_ns = 1'000'300;
  base.handler_end_ns = 1'004'000;
  base.response_sent_ns = 1'004'500;
  base.outcome = ResponseOutcome::kSent;

  // Positional helper: new TraceeCall fields (for new call kinds) keep
  // their defaults here.
  auto call = [](TraceeCallKind kind, uint64_t addr, uint64_t length, ProcLink link, int32_t fd,
                 int32_t error, uint64_t result, std::string bytes) {
    TraceeCall c;
    c.kind = kind;
    c.addr = addr;
    c.length = length;
    c.link = link;
    c.fd = fd;
    c.error = error;
    c.result = result;
    c.bytes = std::move(bytes);
    return c;
  };
  using K = TraceeCallKind;
  const ProcLink none = ProcLink::kUnknown;
  TraceeCall read_mem =
      call(K::kReadMemory, 0x7ffc0000, 16, none, 0, 0, 0, std::string("\x01\x00\x02\x00", 4));
  TraceeCall read_mem_fail = call(K::kReadMemory, 0x10, 8, none, 0, EFAULT, 0, "");
  TraceeCall read_str = call(K::kReadString, 0x5500001000ULL, 4096, none, 0, 0, 0, "src/main.c");
  TraceeCall read_str_fail =
      call(K::kReadString, 0x5500001000ULL, 4096, none, 0, ENAMETOOLONG, 0, "");
  TraceeCall link_cwd = call(K::kReadProcLink, 0, 0, ProcLink::kCwd, 0, 0, 0, "/work/proj");
  TraceeCall link_fd = call(K::kReadProcLink, 0, 0, ProcLink::kFd, 7, 0, 0, "/work/proj/a");
  TraceeCall link_root = call(K::kReadProcLink, 0, 0, ProcLink::kRoot, 0, 0, 0, "/");
  TraceeCall link_exe = call(K::kReadProcLink, 0, 0, ProcLink::kExe, 0, ESRCH, 0, "");
  TraceeCall umask = call(K::kReadUmask, 0, 0, none, 0, 0, 022, "");
  TraceeCall umask_fail = call(K::kReadUmask, 0, 0, none, 0, ESRCH, 0, "");
  TraceeCall valid = call(K::kIdValid, 0, 0, none, 0, 0, 1, "");
  TraceeCall invalid = call(K::kIdValid, 0, 0, none, 0, 0, 0, "");
  TraceeCall write_mem = call(K::kWriteMemory, 0x7ffc1000, 0, none, 0, 0, 3, "abc");
  TraceeCall write_fail = call(K::kWriteMemory, 0x10, 0, none, 0, EFAULT, 0, "xy");
  TraceeCall proc_ids = call(K::kReadProcIds, 0, 0, none, 0, 0, 0, "");
  proc_ids.tgid = 4200;
  proc_ids.ppid = 4100;
  proc_ids.start_time = 987654321;
  TraceeCall proc_ids_fail = call(K::kReadProcIds, 0, 0, none, 0, ESRCH, 0, "");
  TraceeCall seek = call(K::kSeekFd, 0, 0, none, 5, 0, static_cast<uint64_t>(int64_t{-1}), "");
  seek.offset = -4096;
  seek.whence = 2;
  TraceeCall install = call(K::kInstallFd, 0, 0, none, 0, 0, 0, "");
  install.file = {FileRoot::kUpper, "out/a.o", 0x241, 0x80000, 6};
  TraceeCall install_fail = call(K::kInstallFd, 0, 0, none, 0, EMFILE, 0, "");
  install_fail.file = {FileRoot::kLower, "", 0, 0, -1};
  TraceeCall stack = call(K::kReadStackPointer, 0, 0, none, 0, 0, 0x7ffd12345670ULL, "");
  TraceeCall stack_fail = call(K::kReadStackPointer, 0, 0, none, 0, ESRCH, 0, "");
  TraceeCall bind = call(K::kBindSocket, 0, 0, none, 4, 0, 0755, "sock");
  bind.address = "run/sock";
  TraceeCall bind_fail = call(K::kBindSocket, 0, 0, none, 4, EINVAL, 0700, "s2");
  TraceeCall connect = call(K::kConnectSocket, 0, 0, none, 5, 0, 0, "sock");
  TraceeCall connect_fail = call(K::kConnectSocket, 0, 0, none, 6, ECONNREFUSED, 0, "dead");
  TraceeCall head = call(K::kReadFileHead, 0, 256, none, 0, 0, 0, "#!/bin/sh\necho hi\n");
  TraceeCall head_fail = call(K::kReadFileHead, 0, 256, none, 0, EISDIR, 0, "");
  TraceeCall host = call(K::kHostCall, 0, 0, none, 0, 0, 0, std::string("/usr/bin\0\0r", 11));
  host.host_op = HostOp::kReach;
  host.address = "/usr/bin/python3";
  host.offset = 3;
  TraceeCall watch = call(K::kAddWatch, 0, 0, none, 7, 0, 3, "");
  watch.address = "/tmp/st/upper/made/log";
  watch.offset = 0x2;
  TraceeCall watch_fail = call(K::kAddWatch, 0, 0, none, 8, EINVAL, 0, "");
  watch_fail.address = "/tmp/st/upper/x";
  TraceeCall host_fail = call(K::kHostCall, 0, 0, none, 0, ENOENT, 0, "");
  host_fail.host_op = HostOp::kStat;
  host_fail.address = "/nowhere";

  EventRecord e = base;
  e.seq = 0;
  e.calls = {read_str, valid};
  e.decision.kind = DecisionKind::kContinue;
  events.push_back(e);

  e = base;
  e.seq = 1;
  e.calls = {read_str_fail};
  e.decision.kind = DecisionKind::kErrno;
  e.decision.error = ENAMETOOLONG;
  events.push_back(e);

  e = base;
  e.seq = 2;
  e.nr = 332;
  e.calls = {read_mem,   read_mem_fail, link_cwd,  link_fd, link_root,    link_exe,
             umask,      umask_fail,    valid,     invalid, write_mem,    write_fail,
             proc_ids,   proc_ids_fail, seek,      install, install_fail, stack,
             stack_fail, bind,          bind_fail, connect, connect_fail, head,
             head_fail,  host,          host_fail};
  e.decision.kind = DecisionKind::kReturn;
  e.decision.value = -1234567890123LL;
  e.outcome = ResponseOutcome::kTargetGone;
  events.push_back(e);

  e = base;
  e.seq = 3;
  e.calls = {read_str, link_cwd, valid};
  e.decision.kind = DecisionKind::kInjectFd;
  e.decision.file = {FileRoot::kUpper, "src/main.c", 0x80042, 0x80000, 5};
  e.outcome = ResponseOutcome::kInterrupted;
  events.push_back(e);

  e = base;
  e.seq = 4;
  e.restart_of_seq = 3;
  e.calls = {read_str, valid};
  e.decision.kind = DecisionKind::kInjectFd;
  e.decision.file = {FileRoot::kOutside, "/etc/passwd", 0, 0, -1};
  e.outcome = ResponseOutcome::kFailed;
  // Timestamps out of order and zero must survive the delta encoding.
  e.handler_start_ns = 0;
  e.response_sent_ns = 5;
  events.push_back(e);

  e = base;
  e.seq = 5;
  e.decision.kind = DecisionKind::kUnknown;
  e.outcome = ResponseOutcome::kUnknown;
  e.decision.file.fd = -1;
  events.push_back(e);

  e = base;
  e.seq = 6;
  e.decision.kind = DecisionKind::kInjectFd;
  e.decision.file = {FileRoot::kLower, "", 0, 0, 9};
  events.push_back(e);

  e = base;
  e.seq = 7;
  e.decision.kind = DecisionKind::kInjectFd;
  e.decision.file = {FileRoot::kLower, "fifo", O_WRONLY | O_CLOEXEC, 0, -1};
  e.decision.file.waits = true;
  e.outcome = ResponseOutcome::kWaiting;
  events.push_back(e);
  return events;
}

std::vector<Record> SampleRecords() {
  std::vector<Record> records;
  records.emplace_back(SampleHeader());

  ProcessRecord spawn;
  spawn.kind = ProcessEventKind::kSpawn;
  spawn.pid = 100;
  spawn.parent_pid = 99;
  spawn.exec_path = "/bin/sh";
  spawn.argv = {"sh", "-c", "true"};
  spawn.timestamp_ns = 10;
  records.emplace_back(spawn);

  SnapshotChunk chunk;
  chunk.entries = {
      {"", FileType::kDirectory, 0755, 1000, 1000, 4096, 1'600'000'000'000'000'001, "", "", 0},
      {"a.txt", FileType::kRegular, 0644, 1000, 100, 5, -7, "", "h1", 0},
      {"link", FileType::kSymlink, 0777, 0, 0, 5, 3, "a.txt", "", 0},
      {"dev", FileType::kCharDevice, 0600, 0, 0, 0, 0, "", "", 0x0103},
      {"blk", FileType::kBlockDevice, 0600, 0, 0, 0, 0, "", "", 0x0801},
      {"fifo", FileType::kFifo, 0600, 0, 0, 0, 0, "", "", 0},
      {"sock", FileType::kSocket, 0600, 0, 0, 0, 0, "", "", 0},
      {"odd", FileType::kUnknown, 0, 0, 0, 0, 0, "", "", 0},
  };
  chunk.blobs = {{"h1", 0, "hello"}, {"h2", 1 << 20, std::string(3000, 'z')}};
  records.emplace_back(chunk);

  for (const EventRecord& e : SampleEvents()) records.emplace_back(e);

  ProcessRecord fork;
  fork.kind = ProcessEventKind::kFork;
  fork.pid = 101;
  fork.parent_pid = 100;
  fork.timestamp_ns = 11;
  records.emplace_back(fork);
  ProcessRecord exec = fork;
  exec.kind = ProcessEventKind::kExec;
  exec.exec_path = "/usr/bin/true";
  exec.argv = {"true"};
  records.emplace_back(exec);
  ProcessRecord exit_sig = fork;
  exit_sig.kind = ProcessEventKind::kExit;
  exit_sig.signal = 9;
  records.emplace_back(exit_sig);
  ProcessRecord exit_status = spawn;
  exit_status.kind = ProcessEventKind::kExit;
  exit_status.exec_path.clear();
  exit_status.argv.clear();
  exit_status.exit_status = 3;
  records.emplace_back(exit_status);

  CowEventKind kinds[] = {CowEventKind::kCopyUp, CowEventKind::kWhiteout, CowEventKind::kCreate,
                          CowEventKind::kRename, CowEventKind::kCommit,   CowEventKind::kDiscard,
                          CowEventKind::kChange, CowEventKind::kQuota,    CowEventKind::kUnknown};
  uint64_t t = 20;
  for (CowEventKind kind : kinds) {
    CowRecord cow;
    cow.kind = kind;
    cow.path = "dir/file";
    cow.detail = kind == CowEventKind::kRename ? "dir/other" : "";
    if (kind != CowEventKind::kCommit) cow.event_seq = t;
    cow.timestamp_ns = t++;
    records.emplace_back(cow);
  }

  FooterRecord footer;
  footer.totals.records = 1;  // overwritten unless fill_footer_totals is off
  footer.totals.events = 2;
  footer.totals.process_events = 3;
  footer.totals.cow_events = 4;
  footer.totals.snapshot_chunks = 5;
  footer.totals.decisions_continue = 6;
  footer.totals.decisions_return = 7;
  footer.totals.decisions_errno = 8;
  footer.totals.decisions_inject_fd = 9;
  footer.totals.decisions_unknown = 10;
  footer.totals.record_bytes = 11;
  footer.totals.compressed_bytes = 12;
  footer.exit_status = 0;
  footer.signal = 15;
  footer.changes = {{ChangeKind::kAdded, "new"},
                    {ChangeKind::kModified, "mod"},
                    {ChangeKind::kDeleted, "gone"},
                    {ChangeKind::kUnknown, "?"}};
  footer.clean_end = true;
  footer.end_ns = 99;
  records.emplace_back(footer);
  return records;
}

}  // namespace sandtrace::trace::testing
