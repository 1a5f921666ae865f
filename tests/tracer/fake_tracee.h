// A Tracee over a fake address space, for handler unit tests.
#pragma once

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tracer/core/tracee.h"

namespace sandtrace::testing {

class FakeTracee : public Tracee {
 public:
  // Places `bytes` at `addr` (one region per call; regions must not overlap).
  void Map(uint64_t addr, std::string bytes) { mem_[addr] = std::move(bytes); }
  void MapString(uint64_t addr, const std::string& s) { Map(addr, s + '\0'); }
  const std::string& Region(uint64_t addr) { return mem_.at(addr); }

  Result<size_t> ReadMemory(uint64_t addr, std::span<std::byte> out) override {
    ++reads;
    auto* r = Find(addr);
    if (r == nullptr) return Err(EFAULT, "fake read");
    size_t off = addr - r->first;
    size_t n = std::min(out.size(), r->second.size() - off);
    std::memcpy(out.data(), r->second.data() + off, n);
    return n;
  }
  Result<std::string> ReadString(uint64_t addr, size_t max_len) override {
    ++reads;
    auto* r = Find(addr);
    if (r == nullptr) return Err(EFAULT, "fake read");
    std::string s = r->second.substr(addr - r->first);
    size_t nul = s.find('\0');
    if (nul == std::string::npos || nul >= max_len) return Err(ENAMETOOLONG, "fake");
    return s.substr(0, nul);
  }
  Result<std::string> ReadProcLink(ProcLink which, int fd) override {
    if (which == ProcLink::kCwd) return cwd;
    auto it = fds.find(fd);
    if (it == fds.end()) return Err(ENOENT, "fake fd");
    return it->second;
  }
  Result<mode_t> ReadUmask() override { return mode_t{022}; }
  bool IdValid() override {
    ++id_checks;
    return valid;
  }
  Result<size_t> WriteMemory(uint64_t addr, std::span<const std::byte> data) override {
    auto* r = Find(addr);
    if (r == nullptr) return Err(EFAULT, "fake write");
    size_t off = addr - r->first;
    size_t n = std::min(data.size(), r->second.size() - off);
    std::memcpy(r->second.data() + off, data.data(), n);
    written += n;
    return n;
  }

  std::string cwd = "/home/u";
  std::map<int, std::string> fds;
  bool valid = true;
  int reads = 0, id_checks = 0;
  size_t written = 0;

 private:
  std::pair<const uint64_t, std::string>* Find(uint64_t addr) {
    auto it = mem_.upper_bound(addr);
    if (it == mem_.begin()) return nullptr;
    --it;
    if (addr >= it->first + it->second.size()) return nullptr;
    return &*it;
  }
  std::map<uint64_t, std::string> mem_;
};

}  // namespace sandtrace::testing
