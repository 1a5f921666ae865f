// Helpers shared by the formats tests: traces written to memory, sample
// records with every field set, and reading a whole trace back.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "formats/records.h"
#include "formats/trace_reader.h"
#include "formats/trace_writer.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace::trace::testing {

// An anonymous in-memory file.
inline UniqueFd MemFd() { return UniqueFd(::memfd_create("trace", MFD_CLOEXEC)); }

// The whole content of a file descriptor (from offset 0).
std::string ReadAll(int fd);

// Runs `fill(writer)` on a writer over a memfd, closes it and returns the
// bytes; fails the current test on error.
template <class Fill>
std::string WriteTrace(Fill fill, WriterOptions options = {}) {
  UniqueFd fd = MemFd();
  UniqueFd keep(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
  auto writer = TraceWriter::Adopt(std::move(fd), "memfd", std::move(options));
  if (!writer.ok()) {
    ADD_FAILURE() << writer.error().Message();
    return {};
  }
  fill(**writer);
  Status closed = (*writer)->Close();
  if (!closed.ok()) ADD_FAILURE() << closed.error().Message();
  return ReadAll(keep.get());
}

// Every record in `bytes`; `error`/`warning` receive what the reader said.
struct ReadOutcome {
  std::vector<Record> records;
  std::string open_error;  // Open failed
  std::string error;       // Next failed
  int error_code = 0;
  std::string warning;
};
ReadOutcome ReadTrace(const std::string& bytes, ReaderOptions options = {},
                      size_t max_records = 10'000'000);

// A header, events covering every decision and Tracee call kind, process,
// cow, snapshot records, and a footer; every field non-default somewhere.
HeaderRecord SampleHeader();
std::vector<EventRecord> SampleEvents();
std::vector<Record> SampleRecords();  // header first, footer last

inline std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span(s));
}

}  // namespace sandtrace::trace::testing
