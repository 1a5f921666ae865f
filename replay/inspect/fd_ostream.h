// FdOstream: a std::ostream writing to a file it creates with O_CLOEXEC and
// owns through a UniqueFd (std::ofstream cannot set O_CLOEXEC), for the
// tools' -o options. Buffered (64 KiB); Close() flushes and reports the
// first write error, which also sets the stream's badbit.
//
// Thread-safety: none, like any stream.
#pragma once

#include <memory>
#include <ostream>
#include <streambuf>
#include <string>

#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace::inspect {

class FdStreamBuf final : public std::streambuf {
 public:
  explicit FdStreamBuf(UniqueFd fd);
  ~FdStreamBuf() override;
  // Flushes and closes; the first error seen, if any.
  Status Close();

 protected:
  int_type overflow(int_type ch) override;
  int sync() override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;

 private:
  bool FlushBuffer();
  UniqueFd fd_;
  std::string buffer_;
  int error_ = 0;
};

class FdOstream final : public std::ostream {
 public:
  // Creates (truncating) `path`, mode 0644.
  static Result<std::unique_ptr<FdOstream>> Create(const std::string& path);
  Status Close();

 private:
  explicit FdOstream(UniqueFd fd);
  FdStreamBuf buf_;
  std::string path_;
};

}  // namespace sandtrace::inspect
