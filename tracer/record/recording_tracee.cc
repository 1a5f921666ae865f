#include "tracer/record/recording_tracee.h"

#include "tracer/base/errors.h"

namespace sandtrace::record {

void RecordingTracee::Begin(Tracee& live, std::vector<trace::TraceeCall>& log) {
  live_ = &live;
  log_ = &log;
  used_ = 0;
}

void RecordingTracee::End() {
  if (log_ != nullptr && used_ < log_->size()) {
    for (size_t i = used_; i < log_->size(); ++i) Keep((*log_)[i]);
    log_->resize(used_);
  }
  live_ = nullptr;
}

void RecordingTracee::Keep(trace::TraceeCall& call) {
  // Keep ordinary buffers for reuse; let go of the rare huge one (a large
  // getrandom payload) so a long run does not hold it forever.
  if (call.bytes.capacity() > kMaxKeptBytes) std::string().swap(call.bytes);
  pool_.push_back(std::move(call));
}

void RecordingTracee::Recycle(std::vector<trace::TraceeCall>& log) {
  for (auto& call : log) Keep(call);
  log.clear();
  if (&log == log_) used_ = 0;
}

Tracee& RecordingTracee::live() {
  if (live_ == nullptr) throw Fatal("RecordingTracee used outside of an event");
  return *live_;
}

trace::TraceeCall& RecordingTracee::Append(trace::TraceeCallKind kind) {
  if (used_ == log_->size()) {
    if (pool_.empty()) {
      log_->emplace_back();
    } else {
      log_->push_back(std::move(pool_.back()));
      pool_.pop_back();
    }
  }
  // A call of an earlier event in this log is reused where it is.
  trace::TraceeCall& c = (*log_)[used_++];
  if (c.bytes.capacity() > kMaxKeptBytes) std::string().swap(c.bytes);
  c.Clear();  // every field, keeping the byte buffer's capacity
  c.kind = kind;
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

Result<ProcIds> RecordingTracee::ReadProcIds() {
  auto r = live().ReadProcIds();
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kReadProcIds);
  if (r.ok()) {
    c.tgid = r->tgid;
    c.ppid = r->ppid;
    c.start_time = r->start_time;
  } else {
    c.error = r.code();
  }
  return r;
}

Result<int64_t> RecordingTracee::SeekFd(int fd, int64_t offset, int whence) {
  auto r = live().SeekFd(fd, offset, whence);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kSeekFd);
  c.fd = fd;
  c.offset = offset;
  c.whence = whence;
  if (r.ok()) {
    c.result = static_cast<uint64_t>(*r);
  } else {
    c.error = r.code();
  }
  return r;
}

Result<int> RecordingTracee::InstallFd(int srcfd, uint32_t fd_flags, const InjectedFile& what) {
  auto r = live().InstallFd(srcfd, fd_flags, what);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kInstallFd);
  c.file.root = ToTrace(what.root);
  c.file.path.assign(what.path);
  c.file.open_flags = what.open_flags;
  c.file.fd_flags = fd_flags;
  if (r.ok()) {
    c.file.fd = *r;
  } else {
    c.error = r.code();
  }
  return r;
}

Result<uint64_t> RecordingTracee::ReadStackPointer() {
  auto r = live().ReadStackPointer();
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kReadStackPointer);
  if (r.ok()) {
    c.result = *r;
  } else {
    c.error = r.code();
  }
  return r;
}

Result<std::string> RecordingTracee::ReadFileHead(int fd, size_t max) {
  auto r = live().ReadFileHead(fd, max);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kReadFileHead);
  c.length = max;
  if (r.ok()) {
    c.bytes.assign(*r);
  } else {
    c.error = r.code();
  }
  return r;
}

Status RecordingTracee::BindSocket(int fd, int dirfd, const std::string& name, mode_t mode,
                                   const std::string& address) {
  Status r = live().BindSocket(fd, dirfd, name, mode, address);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kBindSocket);
  c.fd = fd;
  c.bytes.assign(name);
  c.result = mode;
  c.address.assign(address);
  if (!r.ok()) c.error = r.code();
  return r;
}

Status RecordingTracee::ConnectSocket(int fd, int dirfd, const std::string& name) {
  Status r = live().ConnectSocket(fd, dirfd, name);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kConnectSocket);
  c.fd = fd;
  c.bytes.assign(name);
  if (!r.ok()) c.error = r.code();
  return r;
}

Result<std::string> RecordingTracee::HostCall(HostOp op, const std::string& path, int64_t arg,
                                              const std::function<Result<std::string>()>& perform) {
  auto r = live().HostCall(op, path, arg, perform);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kHostCall);
  c.host_op = ToTrace(op);
  c.address.assign(path);
  c.offset = arg;
  if (r.ok()) {
    c.bytes.assign(*r);
  } else {
    c.error = r.code();
  }
  return r;
}

Result<int> RecordingTracee::AddWatch(int fd, const std::string& path, uint32_t mask) {
  auto r = live().AddWatch(fd, path, mask);
  trace::TraceeCall& c = Append(trace::TraceeCallKind::kAddWatch);
  c.fd = fd;
  c.address.assign(path);
  c.offset = mask;
  if (r.ok()) {
    c.result = static_cast<uint64_t>(static_cast<int64_t>(*r));
  } else {
    c.error = r.code();
  }
  return r;
}

}  // namespace sandtrace::record
