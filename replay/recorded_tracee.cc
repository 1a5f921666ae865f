#include "replay/recorded_tracee.h"

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "formats/core_enums.h"
#include "replay/message_text.h"

namespace sandtrace::replay {

namespace {

using trace::TraceeCall;
using trace::TraceeCallKind;

// An absolute path and its NUL, nothing else (a restart's copy of a path).
bool IsPathString(const std::string& b) {
  return b.size() >= 2 && b.front() == '/' && b.back() == '\0' && b.find('\0') == b.size() - 1;
}

// The inputs that must match for `kind` (see the header).
bool SameInputs(const TraceeCall& rec, const TraceeCall& asked) {
  switch (rec.kind) {
    case TraceeCallKind::kReadMemory:
    case TraceeCallKind::kReadString:
      return rec.addr == asked.addr && rec.length == asked.length;
    case TraceeCallKind::kReadProcLink:
      return rec.link == asked.link && (rec.link != trace::ProcLink::kFd || rec.fd == asked.fd);
    case TraceeCallKind::kWriteMemory:
      return rec.addr == asked.addr;
    case TraceeCallKind::kSeekFd:
      return rec.fd == asked.fd && rec.offset == asked.offset && rec.whence == asked.whence;
    case TraceeCallKind::kBindSocket:
      // Traces made before the address was recorded hold none.
      return rec.fd == asked.fd && rec.bytes == asked.bytes && rec.result == asked.result &&
             (rec.address.empty() || rec.address == asked.address);
    case TraceeCallKind::kConnectSocket:
      return rec.fd == asked.fd && rec.bytes == asked.bytes;
    case TraceeCallKind::kReadFileHead:
      return rec.length == asked.length;
    case TraceeCallKind::kHostCall:
      return rec.host_op == asked.host_op && rec.offset == asked.offset;
    case TraceeCallKind::kAddWatch:
      return rec.fd == asked.fd && rec.offset == asked.offset;
    default:
      return true;
  }
}

}  // namespace

CallMismatch::CallMismatch(size_t index, std::string expected, std::string got)
    : index_(index), expected_(std::move(expected)), got_(std::move(got)) {
  message_ = "Tracee call " + std::to_string(index) + ": expected " + expected_ + ", got " + got_;
}

std::string DescribeCall(const TraceeCall& c) {
  std::string name(trace::Name(c.kind));
  switch (c.kind) {
    case TraceeCallKind::kReadMemory:
    case TraceeCallKind::kReadString:
      return name + "(" + Hex(c.addr) + ", " + std::to_string(c.length) + ")";
    case TraceeCallKind::kReadProcLink:
      return name + "(" + std::string(trace::Name(c.link)) +
             (c.link == trace::ProcLink::kFd ? ", " + std::to_string(c.fd) : "") + ")";
    case TraceeCallKind::kWriteMemory:
      return name + "(" + Hex(c.addr) + ", " + std::to_string(c.bytes.size()) + " bytes)";
    case TraceeCallKind::kReadFileHead:
      return name + "(" + std::to_string(c.length) + ")";
    case TraceeCallKind::kHostCall:
      return name + "(" + std::string(trace::Name(c.host_op)) + ", " + Quoted(c.address, 64) +
             ", " + std::to_string(c.offset) + ")";
    case TraceeCallKind::kAddWatch:
      return name + "(" + std::to_string(c.fd) + ", " + Quoted(c.address, 64) + ", " +
             Hex(static_cast<uint64_t>(c.offset)) + ")";
    case TraceeCallKind::kSeekFd:
      return name + "(" + std::to_string(c.fd) + ", " + std::to_string(c.offset) + ", " +
             std::to_string(c.whence) + ")";
    case TraceeCallKind::kBindSocket:
    case TraceeCallKind::kConnectSocket:
      return name + "(" + std::to_string(c.fd) + ", " + Quoted(c.bytes, 64) + ")";
    case TraceeCallKind::kInstallFd:
      return name + "(" + std::string(trace::Name(c.file.root)) + " " + Quoted(c.file.path, 64) +
             ", flags " + Hex(static_cast<uint32_t>(c.file.open_flags)) + ", fd_flags " +
             Hex(c.file.fd_flags) + ")";
    default:
      return name + "()";
  }
}

std::string DescribeResult(const TraceeCall& c) {
  if (c.error != 0) return "= -1 " + ErrnoText(c.error);
  switch (c.kind) {
    case TraceeCallKind::kReadMemory:
      return "= " + std::to_string(c.bytes.size()) + " bytes";
    case TraceeCallKind::kReadString:
    case TraceeCallKind::kReadProcLink:
    case TraceeCallKind::kReadFileHead:
    case TraceeCallKind::kHostCall:
      return "= " + Quoted(c.bytes, 64);
    case TraceeCallKind::kReadUmask: {
      char buf[16];
      std::snprintf(buf, sizeof buf, "= 0%03" PRIo64, c.result);
      return buf;
    }
    case TraceeCallKind::kIdValid:
      return c.result ? "= valid" : "= gone";
    case TraceeCallKind::kReadProcIds:
      return "= tgid " + std::to_string(c.tgid) + " ppid " + std::to_string(c.ppid);
    case TraceeCallKind::kSeekFd:
      return "= " + std::to_string(static_cast<int64_t>(c.result));
    case TraceeCallKind::kInstallFd:
      return "= " + std::to_string(c.file.fd);
    case TraceeCallKind::kReadStackPointer:
      return "= " + Hex(c.result);
    default:
      return "= " + std::to_string(c.result);
  }
}

void RecordedTracee::Begin(const std::vector<TraceeCall>& calls) {
  calls_ = &calls;
  next_ = 0;
  writes_.clear();
  installs_.clear();
  unmapped_.clear();
}

const TraceeCall& RecordedTracee::Take(TraceeCallKind kind, const TraceeCall& asked) {
  if (calls_ == nullptr || next_ >= calls_->size()) {
    throw CallMismatch(next_,
                       "no further call (the trace holds " +
                           std::to_string(calls_ == nullptr ? 0 : calls_->size()) + ")",
                       DescribeCall(asked));
  }
  const TraceeCall& rec = (*calls_)[next_];
  if (rec.kind != kind || !SameInputs(rec, asked)) {
    throw CallMismatch(next_, DescribeCall(rec), DescribeCall(asked));
  }
  ++next_;
  return rec;
}

std::string RecordedTracee::MapIn(std::string path) {
  if (path.empty() || path[0] != '/') return path;
  std::string original = path;
  if (!map_.ToReplay(path)) return path;
  std::string back = path;
  map_.ToRecorded(back);
  // Mapped from a form the kernel reads the same ("//w/x"): what the
  // handler writes back of it (an exec rewrite's checks) is compared as
  // the child's own bytes.
  if (back != original) unmapped_.emplace_back(path, std::move(original));
  return path;
}

void RecordedTracee::Learn(const std::string& target) {
  if (learn_storage_.empty() || target.empty() || target[0] != '/' || map_.IsRecorded(target)) {
    return;
  }
  std::string t = target;
  constexpr std::string_view kDeleted = " (deleted)";
  if (t.size() > kDeleted.size() &&
      t.compare(t.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0) {
    t.resize(t.size() - kDeleted.size());
  }
  size_t at = 0;
  while ((at = t.find("/upper", at)) != std::string::npos) {
    const size_t end = at + 6;
    if (at > 0 && (end == t.size() || t[end] == '/')) {
      struct stat st {};
      if (lstat((learn_storage_ + "/upper" + t.substr(end)).c_str(), &st) == 0) {
        map_.Add(t.substr(0, at), learn_storage_);
        learn_storage_.clear();
        return;
      }
    }
    at = end;
  }
}

Result<size_t> RecordedTracee::ReadMemory(uint64_t addr, std::span<std::byte> out) {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kReadMemory;
  asked.addr = addr;
  asked.length = out.size();
  const TraceeCall& rec = Take(asked.kind, asked);
  if (rec.error != 0) return Err(rec.error);
  size_t n = std::min(out.size(), rec.bytes.size());
  std::memcpy(out.data(), rec.bytes.data(), n);
  MapUnixAddress(out.first(n));
  return n;
}

// A named AF_UNIX sockaddr read whole (the socket handlers read exactly
// the length the child gave, at most sizeof(sockaddr_un)): its absolute
// path names the recording machine's workdir like any path string does.
void RecordedTracee::MapUnixAddress(std::span<std::byte> buf) const {
  constexpr size_t kPathAt = offsetof(sockaddr_un, sun_path);
  if (buf.size() <= kPathAt + 1 || buf.size() > sizeof(sockaddr_un)) return;
  sa_family_t family;
  std::memcpy(&family, buf.data(), sizeof family);
  const char* at = reinterpret_cast<const char*>(buf.data()) + kPathAt;
  const size_t room = buf.size() - kPathAt;
  if (family != AF_UNIX || at[0] != '/') return;
  std::string path(at, strnlen(at, room));
  if (!map_.ToReplay(path) || path.size() > room) return;  // no room: left as recorded
  std::memset(buf.data() + kPathAt, 0, room);
  std::memcpy(buf.data() + kPathAt, path.data(), path.size());
}

Result<std::string> RecordedTracee::ReadString(uint64_t addr, size_t max_len) {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kReadString;
  asked.addr = addr;
  asked.length = max_len;
  const TraceeCall& rec = Take(asked.kind, asked);
  if (rec.error != 0) return Err(rec.error);
  return MapIn(rec.bytes);
}

size_t RecordedTracee::ChildStringSize(uint64_t addr, const std::string& as_read) {
  for (size_t i = std::min(next_, recorded()); i-- > 0;) {
    const TraceeCall& c = (*calls_)[i];
    if (c.kind == TraceeCallKind::kReadString && c.addr == addr && c.error == 0) {
      return c.bytes.size();
    }
  }
  return as_read.size();
}

Result<std::string> RecordedTracee::ReadProcLink(ProcLink which, int fd) {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kReadProcLink;
  asked.link = ToTrace(which);
  asked.fd = which == ProcLink::kFd ? fd : 0;
  const TraceeCall& rec = Take(asked.kind, asked);
  if (rec.error != 0) return Err(rec.error);
  Learn(rec.bytes);
  return MapIn(rec.bytes);
}

Result<mode_t> RecordedTracee::ReadUmask() {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kReadUmask;
  const TraceeCall& rec = Take(asked.kind, asked);
  if (rec.error != 0) return Err(rec.error);
  return static_cast<mode_t>(rec.result);
}

bool RecordedTracee::IdValid() {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kIdValid;
  return Take(asked.kind, asked).result != 0;
}

Result<size_t> RecordedTracee::WriteMemory(uint64_t addr, std::span<const std::byte> data) {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kWriteMemory;
  asked.addr = addr;
  asked.bytes.assign(reinterpret_cast<const char*>(data.data()), data.size());
  const size_t index = next_;
  const TraceeCall& rec = Take(asked.kind, asked);
  Write w{index, addr, std::move(asked.bytes), data.size()};
  for (const auto& [mapped, original] : unmapped_) {
    for (size_t at = w.bytes.find(mapped); at != std::string::npos;
         at = w.bytes.find(mapped, at + original.size())) {
      w.bytes.replace(at, mapped.size(), original);
    }
  }
  map_.ToRecorded(w.bytes);
  if (w.bytes != rec.bytes && IsPathString(w.bytes) && IsPathString(rec.bytes) &&
      map_.Corresponds(std::string_view(rec.bytes).substr(0, rec.bytes.size() - 1),
                       std::string_view(w.bytes).substr(0, w.bytes.size() - 1))) {
    // An absolute path out of the workdir through ".." (a restart's copy):
    // beneath the scratch's ancestor here, the recorded one's there.
    w.bytes = rec.bytes;
  }
  writes_.push_back(std::move(w));
  if (rec.error != 0) return Err(rec.error);
  // A complete write stays complete whatever the (mapped) length.
  if (rec.result >= rec.bytes.size()) return data.size();
  return std::min<size_t>(rec.result, data.size());
}

Result<ProcIds> RecordedTracee::ReadProcIds() {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kReadProcIds;
  const TraceeCall& rec = Take(asked.kind, asked);
  if (rec.error != 0) return Err(rec.error);
  ProcIds ids;
  ids.tgid = rec.tgid;
  ids.ppid = rec.ppid;
  ids.start_time = rec.start_time;
  return ids;
}

Result<int64_t> RecordedTracee::SeekFd(int fd, int64_t offset, int whence) {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kSeekFd;
  asked.fd = fd;
  asked.offset = offset;
  asked.whence = whence;
  const TraceeCall& rec = Take(asked.kind, asked);
  if (rec.error != 0) return Err(rec.error);
  return static_cast<int64_t>(rec.result);
}

Result<int> RecordedTracee::InstallFd(int srcfd, uint32_t fd_flags, const InjectedFile& what) {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kInstallFd;
  asked.file.root = ToTrace(what.root);
  asked.file.path = what.path;
  asked.file.open_flags = what.open_flags;
  asked.file.fd_flags = fd_flags;
  const size_t index = next_;
  const TraceeCall& rec = Take(asked.kind, asked);
  Install inst{index, what};
  inst.file.fd_flags = fd_flags;
  if (inst.file.root == FileRoot::kOutside) map_.ToRecorded(inst.file.path);
  installs_.push_back(std::move(inst));
  (void)srcfd;  // the supervisor's fd: replay has no child to give it to
  if (rec.error != 0) return Err(rec.error);
  return rec.file.fd;
}

Result<uint64_t> RecordedTracee::ReadStackPointer() {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kReadStackPointer;
  const TraceeCall& rec = Take(asked.kind, asked);
  if (rec.error != 0) return Err(rec.error);
  return rec.result;
}

Result<std::string> RecordedTracee::ReadFileHead(int fd, size_t max) {
  // Traces made before the call existed: the handler read the file itself
  // then, as replay's copy is read now (a decision that comes out other
  // for it is still caught by the comparison).
  if (calls_ != nullptr && next_ < calls_->size() &&
      (*calls_)[next_].kind != TraceeCallKind::kReadFileHead) {
    return Tracee::ReadFileHead(fd, max);
  }
  TraceeCall asked;
  asked.kind = TraceeCallKind::kReadFileHead;
  asked.length = max;
  const TraceeCall& rec = Take(asked.kind, asked);
  (void)fd;  // replay's copy may lack the bytes the child wrote: the record has them
  if (rec.error != 0) return Err(rec.error);
  return rec.bytes;
}

Status RecordedTracee::BindSocket(int fd, int dirfd, const std::string& name, mode_t mode,
                                  const std::string& address) {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kBindSocket;
  asked.fd = fd;
  asked.bytes = name;
  asked.result = mode;
  asked.address = address;
  map_.ToRecorded(asked.address);  // an absolute address names the scratch workdir
  const TraceeCall& rec = Take(asked.kind, asked);
  if (rec.error != 0) return Err(rec.error);
  // What the live bind left behind: a socket file (nobody listens on it).
  if (mknodat(dirfd, name.c_str(), S_IFSOCK | (mode & 07777), 0) != 0) {
    return ErrnoError("replay: mknod of the bound socket " + name);
  }
  return OkStatus();
}

Status RecordedTracee::ConnectSocket(int fd, int dirfd, const std::string& name) {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kConnectSocket;
  asked.fd = fd;
  asked.bytes = name;
  const TraceeCall& rec = Take(asked.kind, asked);
  (void)dirfd;
  if (rec.error != 0) return Err(rec.error);
  return OkStatus();
}

Result<std::string> RecordedTracee::HostCall(HostOp op, const std::string& path, int64_t arg,
                                             const std::function<Result<std::string>()>& perform) {
  if (!host_calls_recorded_) {
    // Never the replaying host's files: an open or a change is not made.
    if (op == HostOp::kOpen || op == HostOp::kChange) return std::string();
    return perform();
  }
  TraceeCall asked;
  asked.kind = TraceeCallKind::kHostCall;
  asked.host_op = ToTrace(op);
  asked.address = path;
  asked.offset = arg;
  const TraceeCall& rec = TakePathCall(asked);
  if (rec.error != 0) return Err(rec.error);
  if (op == HostOp::kReach || op == HostOp::kReadlink) {
    // A canonical path (then NUL and a name) or a link's target: into the
    // scratch, as link targets are.
    const size_t nul = rec.bytes.find('\0');
    std::string head = MapIn(rec.bytes.substr(0, nul));
    if (nul != std::string::npos) head += rec.bytes.substr(nul);
    return head;
  }
  return rec.bytes;
}

Result<int> RecordedTracee::AddWatch(int fd, const std::string& path, uint32_t mask) {
  TraceeCall asked;
  asked.kind = TraceeCallKind::kAddWatch;
  asked.fd = fd;
  asked.address = path;
  asked.offset = mask;
  const TraceeCall& rec = TakePathCall(asked);
  if (rec.error != 0) return Err(rec.error);
  return static_cast<int>(static_cast<int64_t>(rec.result));
}

const TraceeCall& RecordedTracee::TakePathCall(TraceeCall& asked) {
  const std::string path = asked.address;
  map_.ToRecorded(asked.address);  // for the messages
  const TraceeCall& rec = Take(asked.kind, asked);
  if (!map_.Corresponds(rec.address, path)) {
    --next_;
    throw CallMismatch(next_, DescribeCall(rec), DescribeCall(asked));
  }
  return rec;
}

}  // namespace sandtrace::replay
