// TraceReader: streams the records of a trace file (formats/trace.capnp).
//
// Design: the reader decodes one zstd frame at a time into a buffer and
// hands out its records only once the frame's content checksum has been
// verified, so a corrupt frame yields an error, never garbage records. The
// seek index at the end of the file is used to position SeekToSeq(); when
// it is missing or damaged the reader scans from the start instead.
//
// Damage is reported in two tiers:
//  - a truncated tail (the writer was killed, the disk filled, a copy was
//    cut short) is not an error: the reader yields every complete record up
//    to the cut, including the complete records of a partial last frame,
//    then ends and sets warning() to one line naming the byte offset and
//    the last good sequence number. A trace that simply ends without a
//    footer gets the same kind of warning.
//  - anything else (a bad checksum, a bad magic, a malformed record) is an
//    error (EBADMSG) naming the byte offset; it latches.
// A trace whose header says it needs a newer reader is refused by Open()
// with one line saying so (EPROTONOSUPPORT).
//
// Hostile input: every size is bounded before anything is allocated: the
// zstd window (ReaderOptions::max_frame_bytes), a frame's decompressed size,
// a record's size and segment count, and Cap'n Proto's traversal and
// nesting limits (set per record from its size). Memory therefore stays
// within a small multiple of max_frame_bytes. The fuzz target is
// tests/formats/trace_reader_fuzz.cc.
//
// Thread-safety: none; one reader per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "formats/records.h"
#include "formats/seek_index.h"
#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace::trace {

// The format version this reader understands (see Header.minReaderVersion).
inline constexpr uint32_t kReaderVersion = kFormatVersion;

struct ReaderOptions {
  // Upper bound on one frame's decompressed size and on the zstd window.
  // Writers cut frames at WriterOptions::frame_bytes (512 KiB) unless one
  // record is bigger (at most TraceWriter::kMaxRecordBytes, 16 MiB).
  size_t max_frame_bytes = 32 << 20;
  // Use the seek index when present (false: always scan; for tests).
  bool use_index = true;
};

struct ReaderStats {
  uint64_t frames = 0;              // data frames decoded
  uint64_t records = 0;             // records returned or skipped by seeks
  uint64_t unknown_records = 0;     // records of a kind this reader does not know (skipped)
  uint64_t compressed_bytes = 0;    // of the frames decoded
  uint64_t decompressed_bytes = 0;  // of the frames decoded
};

class TraceReader {
 public:
  // Opens a trace file and reads and checks its header (magic, version).
  static Result<std::unique_ptr<TraceReader>> Open(const std::string& path,
                                                   ReaderOptions options = {});
  // Reads from a regular file the caller opened; `name` is for messages.
  static Result<std::unique_ptr<TraceReader>> FromFd(UniqueFd fd, std::string name,
                                                     ReaderOptions options = {});
  // Reads from memory the caller keeps alive while the reader exists.
  static Result<std::unique_ptr<TraceReader>> FromBuffer(std::span<const std::byte> data,
                                                         std::string name,
                                                         ReaderOptions options = {});

  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;
  ~TraceReader();

  // The header (also returned by the first Next()).
  const HeaderRecord& header() const;

  // Stores the next record in `out` and returns true, or returns false at
  // the end of the trace (then check warning()). `out` may be reused across
  // calls: an alternative it already holds keeps its buffers.
  Result<bool> Next(Record& out);

  // Positions the reader so that Next() returns the first event (in file
  // order) whose seq >= `seq`, skipping the records before it; returns
  // false (and positions at the end) when there is none. Uses the index
  // when there is one; otherwise scans from the start. Assumes seqs do not
  // decrease along the file, which is how the recorder writes them.
  Result<bool> SeekToSeq(uint64_t seq);

  // Back to the first record (the header).
  Status Rewind();

  // Non-empty once the reader has met a truncated or unfinished tail: one
  // line with the byte offset and the last good sequence number.
  const std::string& warning() const;
  // The seq of the last complete event decoded so far.
  std::optional<uint64_t> last_good_seq() const;

  // The seek index, when the file has a valid one; otherwise index_problem()
  // says why not ("no seek index", "seek index checksum mismatch", ...).
  bool has_index() const;
  const std::vector<FrameIndexEntry>& index() const;
  const std::string& index_problem() const;

  uint64_t file_size() const;
  ReaderStats stats() const;
  const std::string& name() const;

 private:
  struct Impl;
  explicit TraceReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandtrace::trace
