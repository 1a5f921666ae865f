// What `trace diff` blanks out of the bytes a handler wrote into the child
// before comparing two runs: fields that differ from run to run for the
// same behaviour (inode numbers, timestamps), in the structures the stat
// family and getdents64 fill. Layouts come from the kernel's and libc's
// own types (struct stat, struct statx, struct dirent64) of the build
// machine, so only buffers of the native architecture are touched.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sandtrace::inspect {

// Zeroes the run-specific fields of `bytes`, written for syscall `name`
// (of the native arch); other syscalls' buffers are left alone. A short or
// malformed buffer is left as it is past the last whole structure.
void BlankRunSpecificFields(std::string_view name, std::string& bytes);

}  // namespace sandtrace::inspect
