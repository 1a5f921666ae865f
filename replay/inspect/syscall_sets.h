// Syscall sets for `-e trace=SET`, strace's syntax: a comma-separated list
// of syscall names, classes (%file, %stat, %process...), `/REGEX`, `all`,
// `none`, each optionally prefixed by `?` (ignore if unknown), and the
// whole set optionally negated by a leading `!`.
//
// Classes are derived from the syscall table: from the argument roles where
// a role says it (%file: takes a path; %desc: takes an fd; %memory: takes
// PROT_ or MAP_ flags; %signal: takes a signal), from name lists where the
// table has nothing to say (%process, %network, the stat families). Every
// name in a list must exist in the table (tested).
//
// Thread-safety: pure functions over immutable tables.
#pragma once

#include <string_view>
#include <vector>

#include "tracer/base/result.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace::inspect {

struct SyscallClass {
  std::string_view name;         // "%file"
  std::string_view description;  // for --help
};

// The classes, in the order --help lists them.
const std::vector<SyscallClass>& SyscallClasses();

// Whether `def` belongs to class `name` ("%file"). An unknown class is false.
bool InSyscallClass(std::string_view name, const SyscallDef& def);

// The names a class lists explicitly (empty for role-derived classes); for
// the test that every one exists in the table.
std::vector<std::string_view> SyscallClassNames(std::string_view name);

// Parses `expr` (without the "trace=" prefix) against `table`: a vector
// indexed by syscall number, true for the selected ones. EINVAL with a
// one-line context for an unknown name or class or a bad regex.
Result<std::vector<bool>> ParseSyscallSet(std::string_view expr, const ArchTable& table);

}  // namespace sandtrace::inspect
