#include "formats/codec.h"

#include <type_traits>

namespace sandtrace::trace::internal {
namespace {

namespace s = ::sandtrace::schema;

// The local enums copy the schema's numbering; a mismatch is caught here.
template <class A, class B>
constexpr bool SameValue(A a, B b) {
  return static_cast<unsigned>(a) == static_cast<unsigned>(b);
}
static_assert(SameValue(ProcLink::kExe, s::ProcLink::EXE));
static_assert(SameValue(FileRoot::kOutside, s::FileRoot::OUTSIDE));
static_assert(SameValue(ResponseOutcome::kWaiting, s::ResponseOutcome::WAITING));
static_assert(SameValue(ProcessEventKind::kExit, s::ProcessEventKind::EXIT));
static_assert(SameValue(CowEventKind::kQuota, s::CowEventKind::QUOTA));
static_assert(SameValue(Disposition::kDryRun, s::Disposition::DRY_RUN));
static_assert(SameValue(SnapshotMode::kFull, s::SnapshotMode::FULL));
static_assert(SameValue(FileType::kBlockDevice, s::FileType::BLOCK_DEVICE));
static_assert(SameValue(ChangeKind::kDeleted, s::ChangeKind::DELETED));

// Schema enum -> local enum; values past `last` (from a newer writer) read
// as kUnknown.
template <class To, class From>
To Local(From v, To last) {
  auto n = static_cast<unsigned>(v);
  return n <= static_cast<unsigned>(last) ? static_cast<To>(n) : To::kUnknown;
}
template <class To, class From>
To Wire(From v) {
  return static_cast<To>(static_cast<std::underlying_type_t<From>>(v));
}

capnp::Data::Reader AsData(const std::string& s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}
capnp::Text::Reader AsText(const std::string& s) { return {s.c_str(), s.size()}; }

void Assign(std::string& out, capnp::Data::Reader d) {
  out.assign(reinterpret_cast<const char*>(d.begin()), d.size());
}
void Assign(std::string& out, capnp::Text::Reader t) { out.assign(t.cStr(), t.size()); }

// Lists are left null when empty: a null list reads as empty and costs
// nothing on the wire.
template <class InitFn>
void SetStrings(const std::vector<std::string>& in, InitFn init) {
  if (in.empty()) return;
  auto list = init(static_cast<unsigned>(in.size()));
  for (unsigned i = 0; i < in.size(); ++i) list.set(i, AsData(in[i]));
}
void SetTexts(const std::vector<std::string>& in, capnp::List<capnp::Text>::Builder list) {
  for (unsigned i = 0; i < in.size(); ++i) list.set(i, AsText(in[i]));
}
template <class ListReader>
void GetStrings(ListReader in, std::vector<std::string>& out) {
  out.resize(in.size());
  for (unsigned i = 0; i < in.size(); ++i) Assign(out[i], in[i]);
}

// ---------------------------------------------------------------- encode

void EncodeHeader(const HeaderRecord& h, s::Header::Builder out) {
  out.setMagic(kTraceMagic);
  out.setFormatVersion(h.format_version);
  out.setMinReaderVersion(h.min_reader_version);
  out.setToolVersion(AsText(h.tool_version));
  out.setKernelRelease(AsText(h.kernel_release));
  if (!h.features.empty()) {
    auto list = out.initFeatures(static_cast<unsigned>(h.features.size()));
    for (unsigned i = 0; i < h.features.size(); ++i) {
      list[i].setName(AsText(h.features[i].name));
      list[i].setFound(h.features[i].found);
      list[i].setUsed(h.features[i].used);
    }
  }
  out.setArch(h.arch);
  SetStrings(h.argv, [&](unsigned n) { return out.initArgv(n); });
  out.setEnvRecorded(h.env.has_value());
  if (h.env) SetStrings(*h.env, [&](unsigned n) { return out.initEnv(n); });
  out.setCwd(AsData(h.cwd));
  out.setWorkdir(AsData(h.workdir));
  auto policy = out.initPolicy();
  SetStrings(h.policy.read_paths, [&](unsigned n) { return policy.initReadPaths(n); });
  SetStrings(h.policy.write_paths, [&](unsigned n) { return policy.initWritePaths(n); });
  policy.setQuotaBytes(h.policy.quota_bytes);
  policy.setSeed(h.policy.seed);
  policy.setDisposition(Wire<s::Disposition>(h.policy.disposition));
  if (!h.policy.options.empty()) {
    auto list = policy.initOptions(static_cast<unsigned>(h.policy.options.size()));
    for (unsigned i = 0; i < h.policy.options.size(); ++i) {
      list[i].setKey(AsText(h.policy.options[i].key));
      list[i].setValue(AsText(h.policy.options[i].value));
    }
  }
  if (!h.handler_sets.empty()) {
    SetTexts(h.handler_sets, out.initHandlerSets(static_cast<unsigned>(h.handler_sets.size())));
  }
  out.setSnapshotMode(Wire<s::SnapshotMode>(h.snapshot_mode));
  out.setSnapshotHash(AsText(h.snapshot_hash));
  out.setStartRealtimeNs(h.start_realtime_ns);
  out.setStartMonotonicNs(h.start_monotonic_ns);
}

void EncodeCall(const TraceeCall& c, s::TraceeCall::Builder out) {
  switch (c.kind) {
    case TraceeCallKind::kReadMemory: {
      auto g = out.initReadMemory();
      g.setAddress(c.addr);
      g.setLength(c.length);
      if (!c.bytes.empty()) g.setBytes(AsData(c.bytes));
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kReadString: {
      auto g = out.initReadString();
      g.setAddress(c.addr);
      g.setMaxLength(c.length);
      if (!c.bytes.empty()) g.setBytes(AsData(c.bytes));
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kReadProcLink: {
      auto g = out.initReadProcLink();
      g.setLink(Wire<s::ProcLink>(c.link));
      g.setFd(c.fd);
      if (!c.bytes.empty()) g.setTarget(AsData(c.bytes));
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kReadUmask: {
      auto g = out.initReadUmask();
      g.setUmask(static_cast<uint32_t>(c.result));
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kIdValid:
      out.initIdValid().setValid(c.result != 0);
      break;
    case TraceeCallKind::kWriteMemory: {
      auto g = out.initWriteMemory();
      g.setAddress(c.addr);
      if (!c.bytes.empty()) g.setBytes(AsData(c.bytes));
      g.setWritten(c.result);
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kReadProcIds: {
      auto g = out.initReadProcIds();
      g.setTgid(c.tgid);
      g.setPpid(c.ppid);
      g.setStartTime(c.start_time);
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kSeekFd: {
      auto g = out.initSeekFd();
      g.setFd(c.fd);
      g.setOffset(c.offset);
      g.setWhence(c.whence);
      g.setResult(static_cast<int64_t>(c.result));
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kInstallFd: {
      auto g = out.initInstallFd();
      auto f = g.initFile();
      f.setRoot(Wire<s::FileRoot>(c.file.root));
      if (!c.file.path.empty()) f.setPath(AsData(c.file.path));
      f.setOpenFlags(c.file.open_flags);
      f.setFdFlags(c.file.fd_flags);
      f.setFd(c.file.fd);
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kReadStackPointer: {
      auto g = out.initReadStackPointer();
      g.setStackPointer(c.result);
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kBindSocket: {
      auto g = out.initBindSocket();
      g.setFd(c.fd);
      g.setName(AsData(c.bytes));
      g.setMode(static_cast<uint32_t>(c.result));
      g.setErrno(c.error);
      if (!c.address.empty()) g.setAddress(AsData(c.address));
      break;
    }
    case TraceeCallKind::kConnectSocket: {
      auto g = out.initConnectSocket();
      g.setFd(c.fd);
      g.setName(AsData(c.bytes));
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kReadFileHead: {
      auto g = out.initReadFileHead();
      g.setLength(c.length);
      g.setBytes(AsData(c.bytes));
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kHostCall: {
      auto g = out.initHostCall();
      g.setOp(Wire<s::HostOp>(c.host_op));
      g.setPath(AsData(c.address));
      g.setArg(c.offset);
      g.setResult(AsData(c.bytes));
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kAddWatch: {
      auto g = out.initAddWatch();
      g.setFd(c.fd);
      g.setPath(AsData(c.address));
      g.setMask(static_cast<uint32_t>(c.offset));
      g.setWd(static_cast<int32_t>(c.result));
      g.setErrno(c.error);
      break;
    }
    case TraceeCallKind::kUnknown:
      out.setUnknown();
      break;
  }
}

void EncodeProcess(const ProcessRecord& p, s::ProcessEvent::Builder out) {
  out.setKind(Wire<s::ProcessEventKind>(p.kind));
  out.setPid(p.pid);
  out.setParentPid(p.parent_pid);
  if (!p.exec_path.empty()) out.setExecPath(AsData(p.exec_path));
  SetStrings(p.argv, [&](unsigned n) { return out.initArgv(n); });
  out.setExitStatus(p.exit_status);
  out.setSignal(p.signal);
  out.setTimestampNs(p.timestamp_ns);
}

void EncodeCow(const CowRecord& c, s::CowEvent::Builder out) {
  out.setKind(Wire<s::CowEventKind>(c.kind));
  if (!c.path.empty()) out.setPath(AsData(c.path));
  if (!c.detail.empty()) out.setDetail(AsData(c.detail));
  if (c.event_seq) {
    out.getCause().setEventSeq(*c.event_seq);
  } else {
    out.getCause().setNone();
  }
  out.setTimestampNs(c.timestamp_ns);
}

void EncodeSnapshot(const SnapshotChunk& c, s::SnapshotChunk::Builder out) {
  if (!c.entries.empty()) {
    auto list = out.initEntries(static_cast<unsigned>(c.entries.size()));
    for (unsigned i = 0; i < c.entries.size(); ++i) {
      const SnapshotEntry& e = c.entries[i];
      auto b = list[i];
      b.setPath(AsData(e.path));
      b.setType(Wire<s::FileType>(e.type));
      b.setMode(e.mode);
      b.setUid(e.uid);
      b.setGid(e.gid);
      b.setSize(e.size);
      b.setMtimeNs(e.mtime_ns);
      if (!e.symlink_target.empty()) b.setSymlinkTarget(AsData(e.symlink_target));
      if (!e.content_hash.empty()) b.setContentHash(AsData(e.content_hash));
      b.setRdev(e.rdev);
    }
  }
  if (!c.blobs.empty()) {
    auto list = out.initBlobs(static_cast<unsigned>(c.blobs.size()));
    for (unsigned i = 0; i < c.blobs.size(); ++i) {
      list[i].setHash(AsData(c.blobs[i].hash));
      list[i].setOffset(c.blobs[i].offset);
      list[i].setBytes(AsData(c.blobs[i].bytes));
    }
  }
}

void EncodeFooter(const FooterRecord& f, s::Footer::Builder out) {
  auto t = out.initTotals();
  t.setRecords(f.totals.records);
  t.setEvents(f.totals.events);
  t.setProcessEvents(f.totals.process_events);
  t.setCowEvents(f.totals.cow_events);
  t.setSnapshotChunks(f.totals.snapshot_chunks);
  t.setDecisionsContinue(f.totals.decisions_continue);
  t.setDecisionsReturn(f.totals.decisions_return);
  t.setDecisionsErrno(f.totals.decisions_errno);
  t.setDecisionsInjectFd(f.totals.decisions_inject_fd);
  t.setDecisionsUnknown(f.totals.decisions_unknown);
  t.setDecisionsRestart(f.totals.decisions_restart);
  t.setRecordBytes(f.totals.record_bytes);
  t.setCompressedBytes(f.totals.compressed_bytes);
  out.setExitStatus(f.exit_status);
  out.setSignal(f.signal);
  if (!f.changes.empty()) {
    auto list = out.initChanges(static_cast<unsigned>(f.changes.size()));
    for (unsigned i = 0; i < f.changes.size(); ++i) {
      list[i].setKind(Wire<s::ChangeKind>(f.changes[i].kind));
      list[i].setPath(AsData(f.changes[i].path));
    }
  }
  out.setCleanEnd(f.clean_end);
  out.setEndNs(f.end_ns);
}

// ---------------------------------------------------------------- decode

void DecodeHeader(s::Header::Reader in, HeaderRecord& h) {
  h.format_version = in.getFormatVersion();
  h.min_reader_version = in.getMinReaderVersion();
  Assign(h.tool_version, in.getToolVersion());
  Assign(h.kernel_release, in.getKernelRelease());
  auto features = in.getFeatures();
  h.features.resize(features.size());
  for (unsigned i = 0; i < features.size(); ++i) {
    Assign(h.features[i].name, features[i].getName());
    h.features[i].found = features[i].getFound();
    h.features[i].used = features[i].getUsed();
  }
  h.arch = in.getArch();
  GetStrings(in.getArgv(), h.argv);
  if (in.getEnvRecorded()) {
    if (!h.env) h.env.emplace();
    GetStrings(in.getEnv(), *h.env);
  } else {
    h.env.reset();
  }
  Assign(h.cwd, in.getCwd());
  Assign(h.workdir, in.getWorkdir());
  auto policy = in.getPolicy();
  GetStrings(policy.getReadPaths(), h.policy.read_paths);
  GetStrings(policy.getWritePaths(), h.policy.write_paths);
  h.policy.quota_bytes = policy.getQuotaBytes();
  h.policy.seed = policy.getSeed();
  h.policy.disposition = Local(policy.getDisposition(), Disposition::kDryRun);
  auto options = policy.getOptions();
  h.policy.options.resize(options.size());
  for (unsigned i = 0; i < options.size(); ++i) {
    Assign(h.policy.options[i].key, options[i].getKey());
    Assign(h.policy.options[i].value, options[i].getValue());
  }
  GetStrings(in.getHandlerSets(), h.handler_sets);
  h.snapshot_mode = Local(in.getSnapshotMode(), SnapshotMode::kFull);
  Assign(h.snapshot_hash, in.getSnapshotHash());
  h.start_realtime_ns = in.getStartRealtimeNs();
  h.start_monotonic_ns = in.getStartMonotonicNs();
}

void DecodeCall(s::TraceeCall::Reader in, TraceeCall& c) {
  c.Clear();
  switch (in.which()) {
    case s::TraceeCall::READ_MEMORY: {
      auto g = in.getReadMemory();
      c.kind = TraceeCallKind::kReadMemory;
      c.addr = g.getAddress();
      c.length = g.getLength();
      Assign(c.bytes, g.getBytes());
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::READ_STRING: {
      auto g = in.getReadString();
      c.kind = TraceeCallKind::kReadString;
      c.addr = g.getAddress();
      c.length = g.getMaxLength();
      Assign(c.bytes, g.getBytes());
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::READ_PROC_LINK: {
      auto g = in.getReadProcLink();
      c.kind = TraceeCallKind::kReadProcLink;
      c.link = Local(g.getLink(), ProcLink::kExe);
      c.fd = g.getFd();
      Assign(c.bytes, g.getTarget());
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::READ_UMASK: {
      auto g = in.getReadUmask();
      c.kind = TraceeCallKind::kReadUmask;
      c.result = g.getUmask();
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::ID_VALID:
      c.kind = TraceeCallKind::kIdValid;
      c.result = in.getIdValid().getValid() ? 1 : 0;
      break;
    case s::TraceeCall::WRITE_MEMORY: {
      auto g = in.getWriteMemory();
      c.kind = TraceeCallKind::kWriteMemory;
      c.addr = g.getAddress();
      Assign(c.bytes, g.getBytes());
      c.result = g.getWritten();
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::READ_PROC_IDS: {
      auto g = in.getReadProcIds();
      c.kind = TraceeCallKind::kReadProcIds;
      c.tgid = g.getTgid();
      c.ppid = g.getPpid();
      c.start_time = g.getStartTime();
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::SEEK_FD: {
      auto g = in.getSeekFd();
      c.kind = TraceeCallKind::kSeekFd;
      c.fd = g.getFd();
      c.offset = g.getOffset();
      c.whence = g.getWhence();
      c.result = static_cast<uint64_t>(g.getResult());
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::INSTALL_FD: {
      auto g = in.getInstallFd();
      auto f = g.getFile();
      c.kind = TraceeCallKind::kInstallFd;
      c.file.root = Local(f.getRoot(), FileRoot::kOutside);
      Assign(c.file.path, f.getPath());
      c.file.open_flags = f.getOpenFlags();
      c.file.fd_flags = f.getFdFlags();
      c.file.fd = f.getFd();
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::READ_STACK_POINTER: {
      auto g = in.getReadStackPointer();
      c.kind = TraceeCallKind::kReadStackPointer;
      c.result = g.getStackPointer();
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::BIND_SOCKET: {
      auto g = in.getBindSocket();
      c.kind = TraceeCallKind::kBindSocket;
      c.fd = g.getFd();
      Assign(c.bytes, g.getName());
      c.result = g.getMode();
      c.error = g.getErrno();
      Assign(c.address, g.getAddress());
      break;
    }
    case s::TraceeCall::CONNECT_SOCKET: {
      auto g = in.getConnectSocket();
      c.kind = TraceeCallKind::kConnectSocket;
      c.fd = g.getFd();
      Assign(c.bytes, g.getName());
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::READ_FILE_HEAD: {
      auto g = in.getReadFileHead();
      c.kind = TraceeCallKind::kReadFileHead;
      c.length = g.getLength();
      Assign(c.bytes, g.getBytes());
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::HOST_CALL: {
      auto g = in.getHostCall();
      c.kind = TraceeCallKind::kHostCall;
      c.host_op = Local(g.getOp(), HostOp::kChange);
      Assign(c.address, g.getPath());
      c.offset = g.getArg();
      Assign(c.bytes, g.getResult());
      c.error = g.getErrno();
      break;
    }
    case s::TraceeCall::ADD_WATCH: {
      auto g = in.getAddWatch();
      c.kind = TraceeCallKind::kAddWatch;
      c.fd = g.getFd();
      Assign(c.address, g.getPath());
      c.offset = g.getMask();
      c.result = static_cast<uint64_t>(static_cast<int64_t>(g.getWd()));
      c.error = g.getErrno();
      break;
    }
    default:
      c.kind = TraceeCallKind::kUnknown;
      break;
  }
}

EventDeltas Absolute(s::Event::Reader in, const EventDeltas& before) {
  return EventDeltas{before.seq + in.getSeq(), before.id + in.getId(),
                     before.received_ns + in.getReceivedNs()};
}

void DecodeEvent(s::Event::Reader in, EventRecord& e, EventDeltas* deltas) {
  EventDeltas abs = deltas != nullptr ? Absolute(in, *deltas) : Absolute(in, EventDeltas{});
  if (deltas != nullptr) *deltas = abs;
  e.seq = abs.seq;
  e.id = abs.id;
  e.tid = in.getTid();
  e.arch = in.getArch();
  e.nr = in.getNr();
  e.ip = in.getIp();
  auto args = in.getArgs();
  for (unsigned i = 0; i < e.args.size(); ++i) e.args[i] = i < args.size() ? args[i] : 0;
  e.received_ns = abs.received_ns;
  e.handler_start_ns = e.received_ns + in.getHandlerStartDeltaNs();
  e.handler_end_ns = e.handler_start_ns + in.getHandlerEndDeltaNs();
  e.response_sent_ns = e.handler_end_ns + in.getResponseSentDeltaNs();
  auto calls = in.getCalls();
  e.calls.resize(calls.size());
  for (unsigned i = 0; i < calls.size(); ++i) DecodeCall(calls[i], e.calls[i]);

  DecisionRecord& d = e.decision;
  d.Clear();
  auto decision = in.getDecision();
  switch (decision.which()) {
    case s::Event::Decision::CONTINUE:
      d.kind = DecisionKind::kContinue;
      break;
    case s::Event::Decision::RETURN_VALUE:
      d.kind = DecisionKind::kReturn;
      d.value = decision.getReturnValue();
      break;
    case s::Event::Decision::ERRNO:
      d.kind = DecisionKind::kErrno;
      d.error = decision.getErrno();
      break;
    case s::Event::Decision::INJECT_FD: {
      auto f = decision.getInjectFd();
      d.kind = DecisionKind::kInjectFd;
      d.file.root = Local(f.getRoot(), FileRoot::kOutside);
      Assign(d.file.path, f.getPath());
      d.file.open_flags = f.getOpenFlags();
      d.file.fd_flags = f.getFdFlags();
      d.file.fd = f.getFd();
      d.file.waits = f.getWaits();
      break;
    }
    case s::Event::Decision::RESTART_WITH: {
      auto r = decision.getRestartWith();
      d.kind = DecisionKind::kRestart;
      d.arg = r.getArg();
      d.arg2 = r.getArg2();
      d.value2 = r.getValue2();
      d.value = static_cast<int64_t>(r.getValue());
      d.error = r.getFallbackErrno();
      break;
    }
    default:
      d.kind = DecisionKind::kUnknown;
      break;
  }
  e.outcome = Local(in.getOutcome(), ResponseOutcome::kWaiting);
  auto restart = in.getRestart();
  if (restart.isOfSeq()) {
    e.restart_of_seq = restart.getOfSeq();
  } else {
    e.restart_of_seq.reset();
  }
}

void DecodeProcess(s::ProcessEvent::Reader in, ProcessRecord& p) {
  p.kind = Local(in.getKind(), ProcessEventKind::kExit);
  p.pid = in.getPid();
  p.parent_pid = in.getParentPid();
  Assign(p.exec_path, in.getExecPath());
  GetStrings(in.getArgv(), p.argv);
  p.exit_status = in.getExitStatus();
  p.signal = in.getSignal();
  p.timestamp_ns = in.getTimestampNs();
}

void DecodeCow(s::CowEvent::Reader in, CowRecord& c) {
  c.kind = Local(in.getKind(), CowEventKind::kQuota);
  Assign(c.path, in.getPath());
  Assign(c.detail, in.getDetail());
  auto cause = in.getCause();
  if (cause.isEventSeq()) {
    c.event_seq = cause.getEventSeq();
  } else {
    c.event_seq.reset();
  }
  c.timestamp_ns = in.getTimestampNs();
}

void DecodeSnapshot(s::SnapshotChunk::Reader in, SnapshotChunk& c) {
  auto entries = in.getEntries();
  c.entries.resize(entries.size());
  for (unsigned i = 0; i < entries.size(); ++i) {
    auto r = entries[i];
    SnapshotEntry& e = c.entries[i];
    Assign(e.path, r.getPath());
    e.type = Local(r.getType(), FileType::kBlockDevice);
    e.mode = r.getMode();
    e.uid = r.getUid();
    e.gid = r.getGid();
    e.size = r.getSize();
    e.mtime_ns = r.getMtimeNs();
    Assign(e.symlink_target, r.getSymlinkTarget());
    Assign(e.content_hash, r.getContentHash());
    e.rdev = r.getRdev();
  }
  auto blobs = in.getBlobs();
  c.blobs.resize(blobs.size());
  for (unsigned i = 0; i < blobs.size(); ++i) {
    Assign(c.blobs[i].hash, blobs[i].getHash());
    c.blobs[i].offset = blobs[i].getOffset();
    Assign(c.blobs[i].bytes, blobs[i].getBytes());
  }
}

void DecodeFooter(s::Footer::Reader in, FooterRecord& f) {
  auto t = in.getTotals();
  f.totals.records = t.getRecords();
  f.totals.events = t.getEvents();
  f.totals.process_events = t.getProcessEvents();
  f.totals.cow_events = t.getCowEvents();
  f.totals.snapshot_chunks = t.getSnapshotChunks();
  f.totals.decisions_continue = t.getDecisionsContinue();
  f.totals.decisions_return = t.getDecisionsReturn();
  f.totals.decisions_errno = t.getDecisionsErrno();
  f.totals.decisions_inject_fd = t.getDecisionsInjectFd();
  f.totals.decisions_unknown = t.getDecisionsUnknown();
  f.totals.decisions_restart = t.getDecisionsRestart();
  f.totals.record_bytes = t.getRecordBytes();
  f.totals.compressed_bytes = t.getCompressedBytes();
  f.exit_status = in.getExitStatus();
  f.signal = in.getSignal();
  auto changes = in.getChanges();
  f.changes.resize(changes.size());
  for (unsigned i = 0; i < changes.size(); ++i) {
    f.changes[i].kind = Local(changes[i].getKind(), ChangeKind::kDeleted);
    Assign(f.changes[i].path, changes[i].getPath());
  }
  f.clean_end = in.getCleanEnd();
  f.end_ns = in.getEndNs();
}

// Returns the T held by `out`, switching alternatives only when needed so a
// reused Record keeps its buffers.
template <class T>
T& Hold(Record& out) {
  if (auto* p = std::get_if<T>(&out)) return *p;
  return out.emplace<T>();
}

void EncodeEventBody(const EventRecord& e, s::Event::Builder out, EventDeltas* deltas) {
  const EventDeltas zero;
  const EventDeltas& before = deltas != nullptr ? *deltas : zero;
  out.setSeq(e.seq - before.seq);
  out.setId(e.id - before.id);
  out.setTid(e.tid);
  out.setArch(e.arch);
  out.setNr(e.nr);
  out.setIp(e.ip);
  auto args = out.initArgs(static_cast<unsigned>(e.args.size()));
  for (unsigned i = 0; i < e.args.size(); ++i) args.set(i, e.args[i]);
  // Unsigned wrap-around makes the deltas exact for any values.
  out.setReceivedNs(e.received_ns - before.received_ns);
  if (deltas != nullptr) *deltas = EventDeltas{e.seq, e.id, e.received_ns};
  out.setHandlerStartDeltaNs(e.handler_start_ns - e.received_ns);
  out.setHandlerEndDeltaNs(e.handler_end_ns - e.handler_start_ns);
  out.setResponseSentDeltaNs(e.response_sent_ns - e.handler_end_ns);
  if (!e.calls.empty()) {
    auto calls = out.initCalls(static_cast<unsigned>(e.calls.size()));
    for (unsigned i = 0; i < e.calls.size(); ++i) EncodeCall(e.calls[i], calls[i]);
  }
  auto decision = out.initDecision();
  switch (e.decision.kind) {
    case DecisionKind::kContinue:
      decision.setContinue();
      break;
    case DecisionKind::kReturn:
      decision.setReturnValue(e.decision.value);
      break;
    case DecisionKind::kErrno:
      decision.setErrno(e.decision.error);
      break;
    case DecisionKind::kInjectFd: {
      auto f = decision.initInjectFd();
      const InjectedFileRecord& file = e.decision.file;
      f.setRoot(Wire<s::FileRoot>(file.root));
      f.setPath(AsData(file.path));
      f.setOpenFlags(file.open_flags);
      f.setFdFlags(file.fd_flags);
      f.setFd(file.fd);
      if (file.waits) f.setWaits(true);
      break;
    }
    case DecisionKind::kRestart: {
      auto r = decision.initRestartWith();
      r.setArg(static_cast<uint8_t>(e.decision.arg));
      r.setArg2(static_cast<int8_t>(e.decision.arg2));
      r.setValue2(e.decision.value2);
      r.setValue(static_cast<uint64_t>(e.decision.value));
      r.setFallbackErrno(e.decision.error);
      break;
    }
    case DecisionKind::kUnknown:
      decision.setUnknown();
      break;
  }
  out.setOutcome(Wire<s::ResponseOutcome>(e.outcome));
  if (e.restart_of_seq) {
    out.getRestart().setOfSeq(*e.restart_of_seq);
  } else {
    out.getRestart().setNone();
  }
}

}  // namespace

void Encode(const HeaderRecord& r, s::Record::Builder out) { EncodeHeader(r, out.initHeader()); }
void Encode(const EventRecord& r, s::Record::Builder out) {
  EncodeEventBody(r, out.initEvent(), nullptr);
}
void Encode(const EventRecord& r, s::Record::Builder out, EventDeltas& deltas) {
  EncodeEventBody(r, out.initEvent(), &deltas);
}
void Encode(const ProcessRecord& r, s::Record::Builder out) { EncodeProcess(r, out.initProcess()); }
void Encode(const CowRecord& r, s::Record::Builder out) { EncodeCow(r, out.initCow()); }
void Encode(const SnapshotChunk& r, s::Record::Builder out) {
  EncodeSnapshot(r, out.initSnapshot());
}
void Encode(const FooterRecord& r, s::Record::Builder out) { EncodeFooter(r, out.initFooter()); }

namespace {

bool DecodeAny(s::Record::Reader in, Record& out, EventDeltas* deltas) {
  switch (in.which()) {
    case s::Record::HEADER:
      DecodeHeader(in.getHeader(), Hold<HeaderRecord>(out));
      return true;
    case s::Record::EVENT:
      DecodeEvent(in.getEvent(), Hold<EventRecord>(out), deltas);
      return true;
    case s::Record::PROCESS:
      DecodeProcess(in.getProcess(), Hold<ProcessRecord>(out));
      return true;
    case s::Record::COW:
      DecodeCow(in.getCow(), Hold<CowRecord>(out));
      return true;
    case s::Record::SNAPSHOT:
      DecodeSnapshot(in.getSnapshot(), Hold<SnapshotChunk>(out));
      return true;
    case s::Record::FOOTER:
      DecodeFooter(in.getFooter(), Hold<FooterRecord>(out));
      return true;
    default:
      return false;
  }
}

}  // namespace

EventDeltas AbsoluteOf(s::Event::Reader in, const EventDeltas& before) {
  return Absolute(in, before);
}

bool DecodeRecord(s::Record::Reader in, Record& out) { return DecodeAny(in, out, nullptr); }
bool DecodeRecord(s::Record::Reader in, Record& out, EventDeltas& deltas) {
  return DecodeAny(in, out, &deltas);
}

}  // namespace sandtrace::trace::internal
