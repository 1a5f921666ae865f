// Small text files of the storage area (state, journal): escaping of paths
// (any byte but NUL may appear in a name) and atomic writes. Internal.
#pragma once

#include <string>
#include <string_view>

#include "tracer/base/result.h"

namespace sandtrace::cow {}  // namespace sandtrace::cow
#include "cow/overlay.h"
namespace sandtrace::cow {

// Bytes <= ' ', '%' and >= 0x7f become %XX, so a path is one token.
std::string EscapePath(std::string_view path);
Result<std::string> UnescapePath(std::string_view token);

// Writes dir/name through dir/name.tmp + rename, fsyncing the file and the
// directory when `sync`.
Status WriteFileAtomic(int dir_fd, const std::string& name, const std::string& content, bool sync);
Result<std::string> ReadSmallFile(int dir_fd, const std::string& name);

// <storage>/state: the side table, for inspection of a kept upper.
Status WriteStateFile(const Overlay::Impl& impl);

}  // namespace sandtrace::cow
