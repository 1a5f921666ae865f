#include "cow/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include "cow/fs_util.h"
#include "cow/overlay_impl.h"

namespace sandtrace::cow {

std::string EscapePath(std::string_view path) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    if (c <= ' ' || c == '%' || c >= 0x7f) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  // The empty path (the workdir root) still needs a token.
  return out.empty() ? "%" : out;
}

Result<std::string> UnescapePath(std::string_view token) {
  if (token == "%") return std::string();
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] != '%') {
      out.push_back(token[i]);
      continue;
    }
    if (i + 2 >= token.size()) return Err(EINVAL, "bad escape");
    int hi = hex(token[i + 1]);
    int lo = hex(token[i + 2]);
    if (hi < 0 || lo < 0) return Err(EINVAL, "bad escape");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

Status WriteFileAtomic(int dir_fd, const std::string& name, const std::string& content, bool sync) {
  const std::string tmp = name + ".tmp";
  auto fd = fs::OpenAt(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!fd) return fd.error();
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd->get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + name);
    }
    done += static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd->get()) != 0) return ErrnoError("fsync " + name);
  if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) {
    return ErrnoError("rename " + name);
  }
  if (sync) {
    auto d = fs::OpenAt(dir_fd, "", O_RDONLY | O_DIRECTORY);
    if (!d) return d.error();
    if (::fsync(d->get()) != 0) return ErrnoError("fsync directory");
  }
  return OkStatus();
}

Result<std::string> ReadSmallFile(int dir_fd, const std::string& name) {
  auto fd = fs::OpenAt(dir_fd, name, O_RDONLY);
  if (!fd) return fd.error();
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + name);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

Status WriteStateFile(const Overlay::Impl& im) {
  std::string s = "sandtrace-state 1\n";
  s += "workdir " + EscapePath(im.lower_abs_) + "\n";
  for (const auto& [path, meta] : im.dirs_) {
    s += "dir " + EscapePath(path) + " " + (meta.origin ? EscapePath(*meta.origin) : "-") + "\n";
    for (const auto& w : meta.whiteouts) s += "whiteout " + EscapePath(fs::Join(path, w)) + "\n";
  }
  for (const auto& [ino, owner] : im.virtual_owner_) {
    s += "owner " + std::to_string(ino) + " " + std::to_string(owner.first) + " " +
         std::to_string(owner.second) + "\n";
  }
  s += "end\n";
  return WriteFileAtomic(im.storage_fd_.get(), "state", s, true);
}

}  // namespace sandtrace::cow
