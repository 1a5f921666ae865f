// TraceWriter: appends records to a trace file (layout: formats/trace.capnp).
//
// Design: each record is built in a reused, zeroed scratch segment (a
// MallocMessageBuilder over caller-owned memory, so the steady-state path
// does no heap allocation), framed as an unpacked Cap'n Proto message and
// appended to an in-memory frame buffer. A frame is compressed (zstd, level
// 1 by default, content checksum and size in the header) and written in one
// go when the buffer reaches `frame_bytes`, when `flush_interval_ns` has
// passed since the frame's first record (checked on every Write and by
// Tick()), and on Flush()/Close(). With `compress_thread`, a cut frame (of
// at least `hand_over_bytes`) is handed to a thread of the writer's own that
// compresses and writes it while the owner fills the next one (at most one
// frame in flight: a second cut waits for the first). A writer killed at any
// moment therefore loses at most the frame in memory (two with the thread).
// Close() appends the seek index (a zstd skippable frame) and fsyncs. Memory
// stays bounded by about twice max(frame_bytes, largest record) however long
// the trace (three times with the thread).
//
// Errors: I/O failures (ENOSPC, EIO...) come back as an Error from the call
// that hit them (with `compress_thread`: from the next call after the thread
// hit them, at the latest the next frame cut, Flush or Close), and latch:
// every later call returns the same error, since the file may now hold a
// partial frame. Misuse (a first record that is not
// the header, a write after Close) is a bug and throws Fatal.
//
// Thread-safety: none; one owner calls everything (the recorder's loop or
// its writer thread); the compressor thread is internal. Not
// async-signal-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "formats/records.h"
#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace::trace {

struct WriterOptions {
  // A frame is cut once this many uncompressed bytes are buffered.
  size_t frame_bytes = 512 * 1024;
  // ...and once this long has passed since its first record.
  uint64_t flush_interval_ns = 100'000'000;
  int zstd_level = 1;
  // Compress and write frames on a thread of the writer's own (started at
  // the first frame cut before Close), so the owner only encodes. Pays off
  // where the owner's time is someone else's wait: the recorder's loop
  // answers the command's syscalls. See bench/record.
  bool compress_thread = false;
  // ...for frames at least this big; smaller ones (the header's, an
  // explicit Flush, a quiet period) cost less to compress on the spot, and
  // a run that makes none never starts the thread.
  size_t hand_over_bytes = 64 * 1024;
  bool fsync_on_close = true;
  // Overwrite FooterRecord::totals with the writer's own counts.
  bool fill_footer_totals = true;
  // Monotonic clock in ns; empty = CLOCK_MONOTONIC_COARSE. Tests inject one.
  std::function<uint64_t()> clock;
};

// What has been written so far (for `trace info`-style summaries).
struct WriterStats {
  Totals totals;                // records counted as in the footer
  uint64_t frames = 0;          // data frames written
  uint64_t file_bytes = 0;      // bytes written to the file
  uint64_t buffered_bytes = 0;  // uncompressed bytes not yet in a frame
};

class TraceWriter {
 public:
  // A record larger than this (framed) is refused with E2BIG.
  static constexpr size_t kMaxRecordBytes = 16 << 20;

  // Creates (truncating) `path`, O_CLOEXEC, mode 0644.
  static Result<std::unique_ptr<TraceWriter>> Open(const std::string& path,
                                                   WriterOptions options = {});
  // Writes to an fd the caller opened (a file, /dev/full in tests, a pipe:
  // offsets are counted, never lseek'd). `name` is used in error messages.
  static Result<std::unique_ptr<TraceWriter>> Adopt(UniqueFd fd, std::string name,
                                                    WriterOptions options = {});

  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;
  // Closes if Close() was not called, ignoring errors (call Close to see them).
  ~TraceWriter();

  // The first record must be the header. Each call may write a frame.
  Status Write(const HeaderRecord& record);
  Status Write(const EventRecord& record);
  Status Write(const ProcessRecord& record);
  Status Write(const CowRecord& record);
  Status Write(const SnapshotChunk& record);
  Status Write(const FooterRecord& record);
  Status Write(const Record& record);

  // Writes the current frame if its flush interval has passed. Call it from
  // the owner's poll loop so quiet periods still reach the disk.
  Status Tick();
  // Writes the current frame now (no-op when empty).
  Status Flush();
  // Flush, then the seek index, fsync and close. Idempotent.
  Status Close();

  WriterStats stats() const;
  const std::string& name() const;

 private:
  struct Impl;
  explicit TraceWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandtrace::trace
