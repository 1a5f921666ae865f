// FakeChild: a Tracee over a fake address space, cwd, fd table and file
// offsets, for driving the COW handlers without a child process.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tracer/core/tracee.h"

namespace sandtrace::cow::testing {

class FakeChild : public Tracee {
 public:
  // Places `bytes` at `addr` (regions must not overlap).
  void Map(uint64_t addr, std::string bytes, bool writable = true) {
    mem_[addr] = Region{std::move(bytes), writable};
  }
  void MapString(uint64_t addr, const std::string& s, bool writable = true) {
    Map(addr, s + '\0', writable);
  }
  std::string Bytes(uint64_t addr, size_t n) const {
    auto it = mem_.find(addr);
    return it == mem_.end() ? std::string() : it->second.bytes.substr(0, n);
  }
  std::string String(uint64_t addr) const {
    auto it = mem_.find(addr);
    if (it == mem_.end()) return {};
    return std::string(it->second.bytes.c_str());
  }

  Result<size_t> ReadMemory(uint64_t addr, std::span<std::byte> out) override {
    ++reads;
    auto* r = Find(addr);
    if (r == nullptr) return Err(EFAULT, "fake read");
    size_t off = addr - r->first;
    size_t n = std::min(out.size(), r->second.bytes.size() - off);
    std::memcpy(out.data(), r->second.bytes.data() + off, n);
    return n;
  }
  Result<std::string> ReadString(uint64_t addr, size_t max_len) override {
    ++reads;
    auto* r = Find(addr);
    if (r == nullptr) return Err(EFAULT, "fake read");
    std::string s = r->second.bytes.substr(addr - r->first);
    size_t nul = s.find('\0');
    if (nul == std::string::npos || nul >= max_len) return Err(ENAMETOOLONG, "fake");
    return s.substr(0, nul);
  }
  Result<std::string> ReadProcLink(ProcLink which, int fd) override {
    ++link_reads;
    if (which == ProcLink::kCwd) return cwd;
    if (which == ProcLink::kExe) return exe;
    if (which == ProcLink::kRoot) return std::string("/");
    auto it = fds.find(fd);
    if (it == fds.end()) return Err(ENOENT, "fake fd");
    return it->second;
  }
  Result<mode_t> ReadUmask() override { return umask; }
  bool IdValid() override { return valid; }
  Result<size_t> WriteMemory(uint64_t addr, std::span<const std::byte> data) override {
    auto* r = Find(addr);
    if (r == nullptr || !r->second.writable) return Err(EFAULT, "fake write");
    size_t off = addr - r->first;
    if (off + data.size() > r->second.bytes.size()) return Err(EFAULT, "fake write past region");
    std::memcpy(r->second.bytes.data() + off, data.data(), data.size());
    written += data.size();
    return data.size();
  }
  Result<ProcIds> ReadProcIds() override {
    ++id_reads;
    if (!has_ids) return Err(ENOSYS, "fake");
    return ids;
  }
  Result<int64_t> SeekFd(int fd, int64_t offset, int whence) override {
    if (!fds.count(fd)) return Err(EBADF, "fake fd");
    int64_t& pos = positions[fd];
    if (whence == SEEK_SET) pos = offset;
    if (whence == SEEK_CUR) pos += offset;
    return pos;
  }
  Result<int> InstallFd(int srcfd, uint32_t fd_flags, const InjectedFile& what) override {
    if (!can_install) return Err(ENOSYS, "fake");
    installed.push_back(what);
    installed_flags.push_back(fd_flags);
    return next_fd++;
  }

  Result<uint64_t> ReadStackPointer() override {
    if (sp == 0) return Err(ENOSYS, "fake");
    return sp;
  }

  std::string cwd = "/";
  uint64_t sp = 0;
  std::string exe = "/bin/true";
  std::map<int, std::string> fds;
  std::map<int, int64_t> positions;
  mode_t umask = 022;
  bool valid = true;
  bool has_ids = true;
  ProcIds ids{100, 1, 12345};
  bool can_install = true;
  int next_fd = 7;
  std::vector<InjectedFile> installed;
  std::vector<uint32_t> installed_flags;
  int reads = 0, link_reads = 0, id_reads = 0;
  size_t written = 0;

 private:
  struct Region {
    std::string bytes;
    bool writable = true;
  };
  std::pair<const uint64_t, Region>* Find(uint64_t addr) {
    auto it = mem_.upper_bound(addr);
    if (it == mem_.begin()) return nullptr;
    --it;
    if (addr >= it->first + it->second.bytes.size()) return nullptr;
    return &*it;
  }
  std::map<uint64_t, Region> mem_;
};

}  // namespace sandtrace::cow::testing
