#include "replay/inspect/normalise.h"

#include <dirent.h>
#include <linux/stat.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstring>

namespace sandtrace::inspect {
namespace {

// Aliases so the macro below can name their members (`struct stat::st_ino`
// does not parse).
using Stat = struct ::stat;
using Statx = struct ::statx;
using Dirent64 = struct ::dirent64;

void Zero(std::string& bytes, size_t base, size_t offset, size_t size) {
  if (base + offset + size <= bytes.size()) std::memset(bytes.data() + base + offset, 0, size);
}

#define SANDTRACE_ZERO_FIELD(bytes, base, type, field) \
  Zero(bytes, base, offsetof(type, field), sizeof(type::field))

void BlankStat(std::string& b) {
  SANDTRACE_ZERO_FIELD(b, 0, Stat, st_ino);
  SANDTRACE_ZERO_FIELD(b, 0, Stat, st_atim);
  SANDTRACE_ZERO_FIELD(b, 0, Stat, st_mtim);
  SANDTRACE_ZERO_FIELD(b, 0, Stat, st_ctim);
}

void BlankStatx(std::string& b) {
  SANDTRACE_ZERO_FIELD(b, 0, Statx, stx_ino);
  SANDTRACE_ZERO_FIELD(b, 0, Statx, stx_atime);
  SANDTRACE_ZERO_FIELD(b, 0, Statx, stx_btime);
  SANDTRACE_ZERO_FIELD(b, 0, Statx, stx_ctime);
  SANDTRACE_ZERO_FIELD(b, 0, Statx, stx_mtime);
}

// linux_dirent64 records, each d_reclen long (struct dirent64 has the same
// leading fields).
void BlankDirents(std::string& b) {
  size_t at = 0;
  const size_t header = offsetof(Dirent64, d_name);
  while (at + header <= b.size()) {
    unsigned short reclen = 0;
    std::memcpy(&reclen, b.data() + at + offsetof(Dirent64, d_reclen), sizeof reclen);
    if (reclen < header || at + reclen > b.size()) break;
    SANDTRACE_ZERO_FIELD(b, at, Dirent64, d_ino);
    at += reclen;
  }
}

#undef SANDTRACE_ZERO_FIELD

}  // namespace

void BlankRunSpecificFields(std::string_view name, std::string& bytes) {
  if (name == "stat" || name == "fstat" || name == "lstat" || name == "newfstatat") {
    if (bytes.size() >= sizeof(Stat)) BlankStat(bytes);
  } else if (name == "statx") {
    BlankStatx(bytes);
  } else if (name == "getdents64") {
    BlankDirents(bytes);
  }
}

}  // namespace sandtrace::inspect
