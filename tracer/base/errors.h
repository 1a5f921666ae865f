// The "bug" tier: broken invariants and unrecoverable failures throw Fatal,
// caught only in the supervisor loop and in main(), which print one line.
#pragma once

#include <stdexcept>
#include <string>

namespace sandtrace {

class Fatal : public std::runtime_error {
 public:
  explicit Fatal(const std::string& what) : std::runtime_error(what) {}
};

// Throws Fatal("context: strerror(errno)").
[[noreturn]] void ThrowErrno(const std::string& context);
[[noreturn]] void ThrowErrno(const std::string& context, int err);

}  // namespace sandtrace
