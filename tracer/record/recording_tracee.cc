#include "tracer/record/recording_tracee.h"

#include "tracer/base/errors.h"

namespace sandtrace::record {

trace::ProcLink ToTrace(ProcLink link) {
  switch (link) {
    case ProcLink::kCwd: return trace::ProcLink::kCwd;
    case ProcLink::kFd: return trace::ProcLink::kFd;
    case ProcLink::kRoot: return trace::ProcLink::kRoot;
    case ProcLink::kExe: return trace::ProcLink::kExe;
  }
  return trace::ProcLink::kUnknown;
}

void RecordingTracee::Begin(Tracee& live, std::vector<trace::TraceeCall>& log) {
  if (!log.empty()) throw Fatal("RecordingTracee::Begin: the call log is not empty");
  live_ = &live;
  log_ = &log;
}

void RecordingTracee::Recycle(std::vector<trace::TraceeCall>& log) {
  for (auto& call : log) {
    // Keep ordinary buffers for reuse; let go of the rare huge one (a large
    // getrandom payload) so a long run does not hold it forever.
    if (call.bytes.capacity() > kMaxKeptBytes) std::string().swap(call.bytes);
    pool_.push_back(std::move(call));
  }
  log.clear();
}

Tracee& RecordingTracee::live() {
  if (live_ == nullptr) throw Fatal("RecordingTracee used outside of an event");
  return *live_;
}

trace::TraceeCall& RecordingTracee::Append(trace::TraceeCallKind kind) {
  if (pool_.empty()) {
    log_->emplace_back();
  } else {
    log_->push_back(std::move(pool_.back()));
    pool_.pop_back();
  }
  trace::TraceeCall& c = log_->back();
  // Reset every field but keep the byte buffer's capacity.
  c.kind = kind;
  c.addr = 0;
  c.length = 0;
  c.link = trace::ProcLink::kUnknown;
  c.fd = 0;
  c.error = 0;
  c.result = 0;
  c.bytes.clear();
  return c;
}

Result<size_t> RecordingTracee::ReadMemory(uint64_t addr, std::span<std::byte> out) {
  auto r = live().ReadMemory(addr, out);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kReadMemory);
  c.addr = addr;
  c.length = out.size();
  if (r.ok()) {
    size_t n = std::min(*r, out.size());
    c.bytes.assign(reinterpret_cast<const char*>(out.data()), n);
  } else {
    c.error = r.code();
  }
  return r;
}

Result<std::string> RecordingTracee::ReadString(uint64_t addr, size_t max_len) {
  auto r = live().ReadString(addr, max_len);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kReadString);
  c.addr = addr;
  c.length = max_len;
  if (r.ok()) {
    c.bytes.assign(*r);
  } else {
    c.error = r.code();
  }
  return r;
}

Result<std::string> RecordingTracee::ReadProcLink(ProcLink which, int fd) {
  auto r = live().ReadProcLink(which, fd);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kReadProcLink);
  c.link = ToTrace(which);
  c.fd = which == ProcLink::kFd ? fd : 0;
  if (r.ok()) {
    c.bytes.assign(*r);
  } else {
    c.error = r.code();
  }
  return r;
}

Result<mode_t> RecordingTracee::ReadUmask() {
  auto r = live().ReadUmask();
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kReadUmask);
  if (r.ok()) {
    c.result = *r;
  } else {
    c.error = r.code();
  }
  return r;
}

bool RecordingTracee::IdValid() {
  bool valid = live().IdValid();
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kIdValid);
  c.result = valid ? 1 : 0;
  return valid;
}

Result<size_t> RecordingTracee::WriteMemory(uint64_t addr, std::span<const std::byte> data) {
  auto r = live().WriteMemory(addr, data);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kWriteMemory);
  c.addr = addr;
  c.bytes.assign(reinterpret_cast<const char*>(data.data()), data.size());
  if (r.ok()) {
    c.result = *r;
  } else {
    c.error = r.code();
  }
  return r;
}

}  // namespace sandtrace::record
