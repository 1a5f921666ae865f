// RecordingTracee: the recorder's decorator of the Tracee seam.
//
// It forwards every call to the live Tracee and appends the call, its
// inputs and its result to a log, in order. The log is exactly what a
// replay RecordedTracee needs to serve the same answers (tracer/core/
// tracee.h, formats/records.h TraceeCall):
//   ReadMemory(addr, n)       -> kReadMemory   addr, length = n, bytes = what
//                                              was read (may be short), error
//   ReadString(addr, max)     -> kReadString   addr, length = max, bytes
//                                              (without the NUL), error
//   ReadProcLink(which, fd)   -> kReadProcLink link, fd (kFd only), bytes =
//                                              the target, error
//   ReadUmask()               -> kReadUmask    result = the mask, error
//   IdValid()                 -> kIdValid      result = 1 / 0
//   WriteMemory(addr, data)   -> kWriteMemory  addr, bytes = data, result =
//                                              bytes written, error
//   ReadProcIds()             -> kReadProcIds  tgid, ppid, start_time, error
//   SeekFd(fd, off, whence)   -> kSeekFd       fd, offset, whence, result =
//                                              the resulting offset, error
//   InstallFd(src, fl, what)  -> kInstallFd    file = `what` with fd_flags =
//                                              fl and fd = the child's number
//                                              (-1 on error), error; the
//                                              supervisor's `src` is not kept
//   ReadStackPointer()        -> kReadStackPointer result = the pointer, error
//   BindSocket(fd, dir, name, mode, address) -> kBindSocket fd, bytes = name, address,
//                                              result = mode, error
//   ConnectSocket(fd, dir, name) -> kConnectSocket fd, bytes = name, error
//   ReadFileHead(fd, max)     -> kReadFileHead length = max, bytes = what was
//                                              read, error
//   HostCall(op, path, arg, perform) -> kHostCall host_op, address = path,
//                                              offset = arg, bytes = what
//                                              perform returned, error
//   AddWatch(fd, path, mask)  -> kAddWatch     fd, address = path, offset =
//                                              mask, result = the wd, error
// `error` is the positive errno, 0 on success; on error the result fields
// are left empty. Error contexts (strings) are not recorded: a replayed
// handler sees the errno with an empty context.
//
// Allocation: the TraceeCall objects (and their byte buffers) are reused:
// those the log holds from an earlier event in place, the rest through a
// pool, so once warmed up recording a call copies bytes into existing
// capacity and allocates nothing (and moves nothing when events make as
// many calls as the one before). Buffers that grew past kMaxKeptBytes are
// released when reused or pooled, so memory stays bounded by the largest
// event rather than growing with the run.
//
// Ownership: borrows the live Tracee and the log vector for one event.
// Thread-safety: one thread (the supervisor loop).
#pragma once

#include <span>
#include <vector>

#include "formats/core_enums.h"
#include "formats/records.h"
#include "tracer/core/tracee.h"

namespace sandtrace::record {

class RecordingTracee final : public Tracee {
 public:
  static constexpr size_t kMaxKeptBytes = 1 << 20;

  RecordingTracee() = default;
  RecordingTracee(const RecordingTracee&) = delete;
  RecordingTracee& operator=(const RecordingTracee&) = delete;

  // Starts logging one notification's calls to `log` and forwarding to
  // `live`. Both must outlive the event. Calls `log` still holds (an
  // earlier event's) are overwritten in place, their buffers reused.
  void Begin(Tracee& live, std::vector<trace::TraceeCall>& log);
  // Ends the event: `log` then holds exactly its calls (any left over from
  // an earlier event go to the pool).
  void End();
  // Moves the entries of `log` back into the pool and clears it.
  void Recycle(std::vector<trace::TraceeCall>& log);
  bool active() const { return live_ != nullptr; }

  Result<size_t> ReadMemory(uint64_t addr, std::span<std::byte> out) override;
  Result<std::string> ReadString(uint64_t addr, size_t max_len) override;
  Result<std::string> ReadProcLink(ProcLink which, int fd) override;
  Result<mode_t> ReadUmask() override;
  bool IdValid() override;
  Result<size_t> WriteMemory(uint64_t addr, std::span<const std::byte> data) override;
  Result<ProcIds> ReadProcIds() override;
  Result<int64_t> SeekFd(int fd, int64_t offset, int whence) override;
  Result<int> InstallFd(int srcfd, uint32_t fd_flags, const InjectedFile& what) override;
  Result<uint64_t> ReadStackPointer() override;
  Result<std::string> ReadFileHead(int fd, size_t max) override;
  Result<std::string> HostCall(HostOp op, const std::string& path, int64_t arg,
                               const std::function<Result<std::string>()>& perform) override;
  Result<int> AddWatch(int fd, const std::string& path, uint32_t mask) override;
  Status BindSocket(int fd, int dirfd, const std::string& name, mode_t mode,
                    const std::string& address) override;
  Status ConnectSocket(int fd, int dirfd, const std::string& name) override;

  size_t pool_size() const { return pool_.size(); }

 private:
  trace::TraceeCall& Append(trace::TraceeCallKind kind);
  void Keep(trace::TraceeCall& call);
  Tracee& live();

  Tracee* live_ = nullptr;
  std::vector<trace::TraceeCall>* log_ = nullptr;
  size_t used_ = 0;  // calls of this event in *log_
  std::vector<trace::TraceeCall> pool_;
};

}  // namespace sandtrace::record
