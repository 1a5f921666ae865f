// strace-style text for trace records, decoded through the syscall table
// (tracer/core/syscall_table.h): one line per event, e.g.
//
//   [41000] openat(AT_FDCWD, "src/main.c", O_RDONLY|O_CLOEXEC) = inject fd 3 (lower) <12.4µs>
//   [41000] unlinkat(AT_FDCWD, "build/x.o", 0) = -1 ENOENT (No such file or directory) <3.1µs>
//   [41001] +++ exited with 0 +++
//
// The strings shown for path and string arguments are the ones the handler
// read through the Tracee seam (the recorded read_string calls at that
// argument's address); buffers the kernel reads (write's data) come from
// recorded read_memory calls, output buffers (getrandom's) from the
// handler's write_memory calls. Anything else prints as its address.
// Paths are shown whole; other strings and buffers are cut after
// `string_limit` bytes like strace -s, with "..." after the quote.
//
// After the call: the decision (`= continue`, `= 0`, `= -1 ENOENT (...)`,
// `= inject fd 3 (lower)`, with the injected path when it differs from the
// path argument), the response outcome when it was not delivered, the
// restart link, and the handler's time (handler start to end) in <>.
//
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "formats/records.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace::inspect {

struct TextOptions {
  size_t string_limit = 32;  // strace's -s default
  bool show_seq = false;     // prefix "#seq "
  // Prefix seconds since `time_base_ns` ("12.000345 "); 0 = no prefix.
  bool show_time = false;
  uint64_t time_base_ns = 0;
};

// The syscall's name in the table of `arch` ("openat"), "syscall_<nr>" for
// a number the table lacks, "<arch>:syscall_<nr>" for an arch without one.
std::string SyscallName(uint32_t arch, int nr);

// The handler's time (handler start to end), 0 when the times are missing
// or out of order.
uint64_t HandlerNs(const trace::EventRecord& event);

// "12.4µs", "1.25ms", "3.20s": three significant digits or so.
std::string FormatDuration(uint64_t ns);

// The bytes read for argument `index` (a path or string the handler read
// at args[index]), if any.
std::optional<std::string_view> ArgString(const trace::EventRecord& event, int index);

// The first path argument's string, or nullopt.
std::optional<std::string_view> EventPath(const trace::EventRecord& event);

// Quotes and escapes bytes C-style; cut after `limit` bytes (SIZE_MAX: no
// limit) with "..." after the closing quote.
std::string Quote(std::string_view bytes, size_t limit = SIZE_MAX);

class EventText {
 public:
  explicit EventText(TextOptions options = {}) : options_(options) {}

  // `openat(AT_FDCWD, "src/main.c", O_RDONLY|O_CLOEXEC)`
  std::string Call(const trace::EventRecord& event) const;
  // `inject fd 3 (lower)`, `-1 ENOENT (No such file or directory)`, ...
  std::string Decision(const trace::EventRecord& event) const;
  // The whole line for an event (no newline).
  std::string Line(const trace::EventRecord& event) const;
  // `[41001] +++ exited with 0 +++` and the like.
  std::string Line(const trace::ProcessRecord& process) const;
  // `--- cow copy_up "src/a.c" (event #12) ---`
  std::string Line(const trace::CowRecord& cow) const;

 private:
  std::string Prefix(std::optional<uint64_t> seq, std::optional<uint32_t> tid,
                     uint64_t time_ns) const;
  TextOptions options_;
};

}  // namespace sandtrace::inspect
