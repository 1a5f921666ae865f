// How replay's reports show numbers, errnos and byte strings (compare.cc,
// recorded_tracee.cc).
#pragma once

#include <string.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace sandtrace::replay {

inline std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

// "ENOENT", or "errno N" for a number glibc has no name for.
inline std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? std::string(name) : "errno " + std::to_string(err);
}

// A C-style quoted rendering, cut after `limit` bytes with "...".
inline std::string Quoted(std::string_view s, size_t limit = SIZE_MAX) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < limit; ++i) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch >= 0x20 && ch < 0x7f) {
      out += static_cast<char>(ch);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      out += buf;
    }
  }
  out += '"';
  if (s.size() > limit) out += "...";
  return out;
}

}  // namespace sandtrace::replay
