// Result<T>: the "expected outcome" tier of sandtrace's two error tiers.
//
// An operation that can legitimately fail (a file is absent, the child died,
// a path is outside the workdir) returns Result<T>: either a value or an
// errno plus a short context string. Bugs and broken invariants throw
// instead (see Fatal in errors.h). g++ 12 in C++20 mode has no std::expected.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace sandtrace {

// An errno with the context it happened in ("openat upper/a/b").
struct Error {
  int code = 0;
  std::string context;

  std::string Message() const {
    std::string m = context;
    if (!m.empty()) m += ": ";
    m += std::strerror(code);
    return m;
  }
};

// Shorthand for returning an error: `return Err(ENOENT, "lookup")`.
inline Error Err(int code, std::string context = {}) { return Error{code, std::move(context)}; }
// The current errno as an Error.
inline Error ErrnoError(std::string context = {}) { return Error{errno, std::move(context)}; }

struct Unit {};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Accessing the value of an error (or the error of a value) is a bug.
  T& value() & {
    Check(true);
    return std::get<0>(v_);
  }
  const T& value() const& {
    Check(true);
    return std::get<0>(v_);
  }
  T&& value() && {
    Check(true);
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    Check(false);
    return std::get<1>(v_);
  }
  int code() const { return ok() ? 0 : error().code; }

  T value_or(T fallback) const { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  void Check(bool want_value) const {
    if (ok() != want_value) {
      throw std::logic_error(want_value ? "Result: value() on error: " + std::get<1>(v_).Message()
                                        : "Result: error() on a value");
    }
  }
  std::variant<T, Error> v_;
};

// A Result that carries no value.
using Status = Result<Unit>;
inline Status OkStatus() { return Unit{}; }

}  // namespace sandtrace
