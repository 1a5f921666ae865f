// The storage area: where an overlay keeps its upper layer, its scratch
// space, its state and its commit journal.
//
// A storage area is a fresh directory nobody else can enter. Its parent is
// never a predictable shared path: $XDG_RUNTIME_DIR/sandtrace when
// XDG_RUNTIME_DIR names a directory owned by us with no group/other access,
// otherwise ${TMPDIR:-/tmp}/sandtrace-<uid>, created 0700 or, if it exists,
// checked to be a real directory (not a symlink) owned by us with mode 0700.
// The area itself is created with mkdtemp (0700) inside that parent.
//
// Layout: upper/ (the upper layer), work/ (temporary files for atomic
// copy-up), state (side table written by Keep), journal (commit journal).
//
// Thread-safety: plain functions, no shared state.
#pragma once

#include <string>
#include <string_view>

#include "tracer/base/result.h"

namespace sandtrace::cow {

// The directory storage areas are created in (created and checked as above).
Result<std::string> StorageParentDir();

// Creates a new, empty, private storage area and returns its absolute path.
Result<std::string> CreateStorageArea();

// Removes a directory tree without following any symlink in it and without
// leaving `parent_fd` (name is a single component). ENOENT if absent.
Status RemoveTreeAt(int parent_fd, const std::string& name);
// The same for an absolute path (its parent is opened first).
Status RemoveTree(const std::string& abs_path);

}  // namespace sandtrace::cow
