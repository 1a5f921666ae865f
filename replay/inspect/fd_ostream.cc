#include "replay/inspect/fd_ostream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace sandtrace::inspect {
namespace {
constexpr size_t kBufferBytes = 64 * 1024;
}  // namespace

FdStreamBuf::FdStreamBuf(UniqueFd fd) : fd_(std::move(fd)) {
  buffer_.resize(kBufferBytes);
  setp(buffer_.data(), buffer_.data() + buffer_.size());
}

FdStreamBuf::~FdStreamBuf() { FlushBuffer(); }

bool FdStreamBuf::FlushBuffer() {
  const char* p = pbase();
  size_t left = static_cast<size_t>(pptr() - pbase());
  while (left > 0 && error_ == 0 && fd_.valid()) {
    ssize_t n = ::write(fd_.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = errno;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  return error_ == 0;
}

FdStreamBuf::int_type FdStreamBuf::overflow(int_type ch) {
  if (!FlushBuffer()) return traits_type::eof();
  if (!traits_type::eq_int_type(ch, traits_type::eof())) {
    *pptr() = traits_type::to_char_type(ch);
    pbump(1);
  }
  return traits_type::not_eof(ch);
}

std::streamsize FdStreamBuf::xsputn(const char* s, std::streamsize n) {
  std::streamsize done = 0;
  while (done < n) {
    std::streamsize room = epptr() - pptr();
    if (room == 0) {
      if (!FlushBuffer()) return done;
      room = epptr() - pptr();
    }
    const std::streamsize chunk = std::min(room, n - done);
    traits_type::copy(pptr(), s + done, static_cast<size_t>(chunk));
    pbump(static_cast<int>(chunk));
    done += chunk;
  }
  return done;
}

int FdStreamBuf::sync() { return FlushBuffer() ? 0 : -1; }

Status FdStreamBuf::Close() {
  FlushBuffer();
  if (fd_.valid() && ::close(fd_.release()) != 0 && error_ == 0) error_ = errno;
  if (error_ != 0) return Err(error_, "write");
  return OkStatus();
}

FdOstream::FdOstream(UniqueFd fd) : std::ostream(nullptr), buf_(std::move(fd)) { rdbuf(&buf_); }

Result<std::unique_ptr<FdOstream>> FdOstream::Create(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return ErrnoError("create " + path);
  auto out = std::unique_ptr<FdOstream>(new FdOstream(std::move(fd)));
  out->path_ = path;
  return out;
}

Status FdOstream::Close() {
  Status s = buf_.Close();
  if (!s.ok()) {
    setstate(std::ios::badbit);
    return Err(s.code(), "write " + path_);
  }
  return OkStatus();
}

}  // namespace sandtrace::inspect
