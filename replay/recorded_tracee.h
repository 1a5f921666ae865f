// RecordedTracee: the replay side of the Tracee seam (DESIGN.md §2).
//
// For one recorded event it serves the recorded Tracee results, in order,
// to the handlers being re-driven. Each call the handler makes must be the
// next recorded call with the same inputs:
//   ReadMemory     same address and length (a named AF_UNIX sockaddr read
//                  whole has its path mapped, as path strings have)
//   ReadString     same address and max_len
//   ReadProcLink   same link (and fd for kFd)
//   SeekFd         same fd, offset and whence
//   BindSocket     same fd, name, mode and address (when the trace has
//                  one); on success the socket file is made (mknod)
//                  where the live bind made it
//   ConnectSocket  same fd and name
//   ReadFileHead   same length (the fd is the replaying supervisor's own);
//                  when the next recorded call is another kind (a trace
//                  made before this call existed), replay's file is read
//   AddWatch       same fd, mask and path (mapped back); the recorded wd
//   HostCall       same op, argument and path (mapped back, or the same
//                  beneath the mapped directories' ancestors: a path
//                  reached through ".." from the workdir names the scratch
//                  directory's parent in replay); the handler's
//                  `perform` is not run. In a trace made before host calls
//                  were recorded (format < 3), lookups (stat, access,
//                  readlink, reach) run `perform` on the replaying host, as
//                  replay did then; opens and changes are not made and
//                  succeed (an open then installs a stand-in)
//   ReadUmask, IdValid, ReadProcIds, ReadStackPointer: the kind alone
//   WriteMemory    same address (the bytes are kept for comparison)
//   InstallFd      the kind alone (the file description is kept)
// Anything else (another kind, other inputs, a call past the end of the
// recorded log) throws CallMismatch: the event fails there, the handler is
// unwound, and the driver reports the divergence. Bytes written into the
// child and installed files are not checked here but collected (writes(),
// installs()) for replay/compare.h, which knows how to normalise them.
//
// Served results: recorded errors come back as the recorded errno with an
// empty context; path strings and link targets go through the PathMap
// (recording machine -> scratch). A WriteMemory that was complete when
// recorded reports the handler's own length (the mapped bytes may differ in
// length if the scratch path could not match the recorded one's length).
//
// Ownership: borrows the map (which LearnStorage may extend) and the event
// for the duration of the event.
// Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include "formats/records.h"
#include "replay/path_map.h"
#include "tracer/core/tracee.h"

namespace sandtrace::replay {

// A handler asked for something the trace does not hold at that point.
class CallMismatch : public std::exception {
 public:
  CallMismatch(size_t index, std::string expected, std::string got);
  const char* what() const noexcept override { return message_.c_str(); }
  size_t index() const { return index_; }
  const std::string& expected() const { return expected_; }
  const std::string& got() const { return got_; }

 private:
  size_t index_;
  std::string expected_;
  std::string got_;
  std::string message_;
};

// "read_string(0x7ffc1000, 4096)", "write_memory(0x7ffc2000, 144 bytes)", ...
// (the inputs of a call, not its result).
std::string DescribeCall(const trace::TraceeCall& call);
// The result part: "= \"src/a.c\"", "= -1 EFAULT", "= 3", ...
std::string DescribeResult(const trace::TraceeCall& call);

class RecordedTracee final : public Tracee {
 public:
  struct Write {
    size_t index = 0;  // position in the call log
    uint64_t addr = 0;
    std::string bytes;   // as the handler wrote them, scratch paths mapped back
    size_t written = 0;  // how many bytes the handler wrote (before the mapping)
  };
  struct Install {
    size_t index = 0;
    InjectedFile file;  // with fd_flags as asked; outside paths mapped back
  };

  explicit RecordedTracee(PathMap& map) : map_(map) {}
  RecordedTracee(const RecordedTracee&) = delete;
  RecordedTracee& operator=(const RecordedTracee&) = delete;

  // The trace did not name its storage area: learn it from the first /proc
  // link target of the form <prefix>/upper[/rest] (outside the mapped
  // prefixes) whose rest exists in `replay_storage`/upper, and map <prefix>
  // to `replay_storage` from then on.
  void LearnStorage(std::string replay_storage) { learn_storage_ = std::move(replay_storage); }

  // Starts serving `calls` (borrowed until the next Begin).
  void Begin(const std::vector<trace::TraceeCall>& calls);

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
  Status BindSocket(int fd, int dirfd, const std::string& name, mode_t mode,
                    const std::string& address) override;
  Status ConnectSocket(int fd, int dirfd, const std::string& name) override;
  Result<std::string> HostCall(HostOp op, const std::string& path, int64_t arg,
                               const std::function<Result<std::string>()>& perform) override;
  Result<int> AddWatch(int fd, const std::string& path, uint32_t mask) override;
  // Whether the trace records host calls (format 3 and later).
  void set_host_calls_recorded(bool recorded) { host_calls_recorded_ = recorded; }
  bool host_calls_recorded() const { return host_calls_recorded_; }
  // The recorded string's size (not a call of the log).
  size_t ChildStringSize(uint64_t addr, const std::string& as_read) override;

  // Recorded calls served so far (== calls.size() when all were asked for).
  size_t consumed() const { return next_; }
  size_t recorded() const { return calls_ == nullptr ? 0 : calls_->size(); }
  const std::vector<Write>& writes() const { return writes_; }
  const std::vector<Install>& installs() const { return installs_; }

 private:
  // The next recorded call, checked to be of `kind` with inputs described
  // by `got` (a DescribeCall of what the handler asked).
  const trace::TraceeCall& Take(trace::TraceeCallKind kind, const trace::TraceeCall& asked);
  // Take for a call with a host path (asked.address, the handler's): the
  // recorded one must correspond (PathMap::Corresponds).
  const trace::TraceeCall& TakePathCall(trace::TraceeCall& asked);
  // Recorded path -> scratch path.
  std::string MapIn(std::string path);
  void MapUnixAddress(std::span<std::byte> buf) const;

  // A recorded link target: may teach the storage prefix.
  void Learn(const std::string& target);

  PathMap& map_;
  std::string learn_storage_;
  bool host_calls_recorded_ = true;
  const std::vector<trace::TraceeCall>* calls_ = nullptr;
  size_t next_ = 0;
  std::vector<Write> writes_;
  std::vector<Install> installs_;
  // This event's paths that the map took in a form other than the recorded
  // prefix (doubled slashes, "." components): (scratch path, as recorded).
  std::vector<std::pair<std::string, std::string>> unmapped_;
};

}  // namespace sandtrace::replay
