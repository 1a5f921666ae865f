// Small confined filesystem helpers shared by the overlay engine's parts.
// Internal to cow/: not part of the public API.
//
// Every multi-component path opened here goes through openat2 with
// RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS under a root
// fd, so a symlink planted anywhere in a layer makes the open fail (ELOOP)
// instead of leaving the root. Single-component *at() calls are used with
// O_NOFOLLOW / AT_SYMLINK_NOFOLLOW. Every fd is O_CLOEXEC.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace::cow::fs {

// openat2(root_fd, rel, flags | O_CLOEXEC) confined to root_fd; rel "" opens
// the root itself.
Result<UniqueFd> OpenIn(int root_fd, const std::string& rel, int flags, mode_t mode = 0);
// An O_PATH | O_DIRECTORY fd of an absolute directory path given by the
// user (a workdir, a storage area): the one place symlinks may be followed.
Result<UniqueFd> OpenAbsDir(const std::string& abs_path);
// F_DUPFD_CLOEXEC of `fd`.
Result<UniqueFd> DupFd(int fd);
// An O_PATH | O_DIRECTORY fd of root/rel.
Result<UniqueFd> OpenDirIn(int root_fd, const std::string& rel);
// openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC) of one component.
Result<UniqueFd> OpenAt(int dir_fd, const std::string& name, int flags, mode_t mode = 0);

// lstat of one component (fstat of dir_fd itself when name is "").
Result<struct stat> StatAt(int dir_fd, const std::string& name);
Result<struct stat> StatFd(int fd);
Result<std::string> ReadlinkAt(int dir_fd, const std::string& name);

// "/proc/self/fd/<fd>": the way to reach an O_PATH fd's inode for calls that
// have no fd form (chmod, xattrs). It names our own fd, never a child path.
std::string ProcFdPath(int fd);

// Copies `size` bytes from the start of src to dst: FICLONE when the
// filesystem has reflinks, else copy_file_range, else sendfile/read-write.
// Never used on anything but regular files.
Status CopyData(int src_fd, int dst_fd, uint64_t size);

// Copies every xattr the caller may read and set (user.*, and security.* /
// trusted.* when privileged) from src to dst; both are fds of any kind
// (O_PATH included). Names dst refuses are skipped, not errors.
Status CopyXattrs(int src_fd, int dst_fd);

// Sets atime/mtime of dir_fd/name (no follow) from st.
Status SetTimesAt(int dir_fd, const std::string& name, const struct stat& st);
Status SetTimesFd(int path_fd, const struct stat& st);

// Joins view/layer paths: Join("", "a") == "a", Join("a", "b") == "a/b".
std::string Join(std::string_view dir, std::string_view name);
// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
std::pair<std::string, std::string> SplitLast(std::string_view path);
// Splits on '/', dropping empty components.
std::vector<std::string> SplitComponents(std::string_view path);
// True when `path` is `prefix` or lies under it ("a" contains "a/b", not
// "ab"); "" contains every relative path and "/" every absolute one.
bool PathWithin(std::string_view path, std::string_view prefix);
// An absolute path with runs of slashes collapsed and "." components
// dropped, but not a last one ("x/." must still fail when x is no
// directory): the kernel resolves it to the same object, so prefixes (the
// workdir, the storage area, /dev/shm, -w paths) can then be found by
// lexical comparison ("//wx/d", "/./wx/d").
std::string NormalAbsolute(const std::string& path);

// Reads the entries of a directory (any fd of it, O_PATH included), minus
// "." and "..", calling add(name, d_type, ino). DT_UNKNOWN is resolved by
// lstat.
Status ReadDir(int dir_fd, const std::function<void(std::string, uint8_t, ino_t)>& add);

// fsync of an fd opened from an O_PATH fd (directories need O_RDONLY).
Status FsyncDirAt(int root_fd, const std::string& rel);

}  // namespace sandtrace::cow::fs
