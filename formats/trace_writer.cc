#include "formats/trace_writer.h"

#include <capnp/message.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "formats/codec.h"
#include "formats/seek_index.h"
#include "tracer/base/errors.h"

namespace sandtrace::trace {
namespace {

// Big enough for any event (they are well under 1 KiB); larger records
// (snapshot chunks) spill into segments capnp mallocs.
constexpr size_t kScratchWords = 8192;
// Beyond this many index entries the writer merges neighbours, so its
// memory stays bounded however long the trace (48 B per entry).
constexpr size_t kIndexEntryBudget = 1 << 16;

struct CctxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

uint64_t CoarseMonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// A growable byte buffer that does not zero what it hands out.
class ByteBuffer {
 public:
  std::byte* data() { return data_.get(); }
  const std::byte* data() const { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  void clear() { size_ = 0; }
  void swap(ByteBuffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }
  void Reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    auto bigger = std::make_unique_for_overwrite<std::byte[]>(capacity);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = capacity;
  }
  std::byte* Extend(size_t n) {
    std::byte* p = data_.get() + size_;
    size_ += n;
    return p;
  }

 private:
  std::unique_ptr<std::byte[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace

struct TraceWriter::Impl {
  UniqueFd fd;
  std::string name;
  WriterOptions options;
  std::unique_ptr<ZSTD_CCtx, CctxDeleter> cctx;
  std::unique_ptr<capnp::word[]> scratch;  // zeroed; capnp re-zeroes what it used
  ByteBuffer frame;                        // uncompressed records of the current frame
  ByteBuffer compressed;
  std::optional<Error> error;  // latched I/O error (the owner's copy)
  bool header_written = false;
  bool closed = false;

  uint64_t file_bytes = 0;
  uint64_t frames = 0;
  Totals totals;

  // The frame being filled.
  FrameIndexEntry pending;
  internal::EventDeltas deltas;  // the frame's events so far (format version 2)
  uint64_t frame_start_ns = 0;

  std::vector<FrameIndexEntry> index;
  uint32_t frames_per_entry = 1;

  // With options.compress_thread: the compressor thread and the one frame
  // handed to it. While `busy`, the thread owns `handed`, `compressed`, the
  // fd, file_bytes, frames and the index; the owner touches them only after
  // WaitForCompressor.
  struct Compressor {
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    bool busy = false;           // guarded by mu
    bool stop = false;           // guarded by mu
    std::optional<Error> error;  // guarded by mu
    std::atomic<bool> failed{false};
  };
  std::unique_ptr<Compressor> compressor;
  ByteBuffer handed;
  FrameIndexEntry handed_entry;

  uint64_t Now() const { return options.clock ? options.clock() : CoarseMonotonicNs(); }

  Status Fail(int code, const std::string& what) {
    error = Err(code, name + ": " + what);
    return *error;
  }

  // Does not latch: the caller does (Latch), on its own thread's side.
  Status WriteAll(const std::byte* data, size_t size) {
    while (size > 0) {
      ssize_t n = ::write(fd.get(), data, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Err(errno, name + ": write at byte " + std::to_string(file_bytes));
      }
      if (n == 0) return Err(EIO, name + ": write at byte " + std::to_string(file_bytes));
      data += n;
      size -= static_cast<size_t>(n);
      file_bytes += static_cast<uint64_t>(n);
    }
    return OkStatus();
  }

  void AddIndexEntry(const FrameIndexEntry& entry) {
    if (!index.empty() && index.back().frames < frames_per_entry) {
      MergeIndexEntries(index.back(), entry);
      return;
    }
    index.push_back(entry);
    if (index.size() >= kIndexEntryBudget && frames_per_entry < (1u << 14)) {
      // Coarsen: merge neighbours pairwise; seeks then decode up to twice as
      // many frames, but memory stays put.
      size_t out = 0;
      for (size_t i = 0; i < index.size(); i += 2) {
        index[out] = index[i];
        if (i + 1 < index.size()) MergeIndexEntries(index[out], index[i + 1]);
        ++out;
      }
      index.resize(out);
      frames_per_entry *= 2;
    }
  }

  Status Latch(Status st) {
    if (!st.ok() && !error) error = st.error();
    return st;
  }

  // Compresses `src` and appends it to the file as one frame described by
  // `entry` (records, seqs, time; the offset and size are filled here).
  Status WriteFrame(const ByteBuffer& src, FrameIndexEntry entry) {
    size_t n = ZSTD_compress2(cctx.get(), compressed.data(), compressed.capacity(), src.data(),
                              src.size());
    if (ZSTD_isError(n)) {
      // Only a bug (bad parameters, too small a buffer) gets here.
      throw Fatal(name + ": zstd compression failed: " + ZSTD_getErrorName(n));
    }
    entry.offset = file_bytes;
    entry.size = n;
    Status st = WriteAll(compressed.data(), n);
    if (!st.ok()) return st;
    ++frames;
    AddIndexEntry(entry);
    return OkStatus();
  }

  // Cuts the current frame: compresses and writes it here, or, with
  // options.compress_thread and `may_hand_over`, hands it to the compressor
  // thread (after the one handed before it has been written).
  Status FlushFrame(bool may_hand_over = true) {
    if (error) return *error;
    if (Status st = WaitForCompressor(); !st.ok()) return st;
    if (frame.size() == 0) return OkStatus();
    FrameIndexEntry entry = pending;
    pending = FrameIndexEntry{};
    deltas = internal::EventDeltas{};
    // A small frame (the header's, an explicit Flush, a quiet period) is
    // cheaper to compress here than to hand over, and a short run then
    // never starts the thread.
    if (may_hand_over && options.compress_thread && frame.size() >= options.hand_over_bytes &&
        StartCompressor()) {
      frame.swap(handed);
      frame.clear();
      handed_entry = entry;
      {
        std::lock_guard lock(compressor->mu);
        compressor->busy = true;
      }
      compressor->cv.notify_one();
      return OkStatus();
    }
    Status st = WriteFrame(frame, entry);
    frame.clear();
    return Latch(st);
  }

  // The thread, started with the first frame handed over (a run shorter
  // than one frame never pays for it). False when it cannot be started: the
  // frames are then written on the owner's thread.
  bool StartCompressor() {
    if (compressor) return true;
    auto c = std::make_unique<Compressor>();
    handed.Reserve(frame.capacity());
    try {
      c->thread = std::thread([this, raw = c.get()] { CompressorLoop(*raw); });
    } catch (const std::system_error&) {
      return false;
    }
    compressor = std::move(c);
    return true;
  }

  void CompressorLoop(Compressor& c) {
    std::unique_lock lock(c.mu);
    for (;;) {
      c.cv.wait(lock, [&] { return c.busy || c.stop; });
      if (!c.busy) return;
      lock.unlock();
      Status st = OkStatus();
      try {
        st = WriteFrame(handed, handed_entry);
      } catch (const Fatal& f) {
        st = Err(EIO, f.what());
      }
      handed.clear();
      lock.lock();
      if (!st.ok() && !c.error) {
        c.error = st.error();
        c.failed.store(true, std::memory_order_release);
      }
      c.busy = false;
      c.cv.notify_all();
    }
  }

  // Waits until the frame handed over (if any) is in the file; latches the
  // thread's error.
  Status WaitForCompressor() {
    if (compressor) {
      std::unique_lock lock(compressor->mu);
      compressor->cv.wait(lock, [&] { return !compressor->busy; });
      if (compressor->error && !error) error = compressor->error;
    }
    return error ? Status(*error) : OkStatus();
  }

  void StopCompressor() {
    if (!compressor || !compressor->thread.joinable()) return;
    {
      std::lock_guard lock(compressor->mu);
      compressor->stop = true;
    }
    compressor->cv.notify_all();
    compressor->thread.join();
  }

  // Frames `record` into the frame buffer and does the bookkeeping.
  template <class R>
  Status Append(const R& record) {
    if (closed) throw Fatal(name + ": write after Close()");
    if (error) return *error;
    if (compressor && compressor->failed.load(std::memory_order_acquire)) {
      return WaitForCompressor();
    }
    if constexpr (std::is_same_v<R, HeaderRecord>) {
      if (header_written) throw Fatal(name + ": a trace has exactly one header");
      header_written = true;
    } else if (!header_written) {
      throw Fatal(name + ": the first record of a trace must be its header");
    }

    size_t record_bytes = 0;
    try {
      // At most twice: an event encoded relative to the frame it no longer
      // fits in is encoded again for the next frame.
      for (int attempt = 0;; ++attempt) {
        capnp::MallocMessageBuilder message(kj::arrayPtr(scratch.get(), kScratchWords));
        internal::EventDeltas next = deltas;
        if constexpr (std::is_same_v<R, EventRecord>) {
          internal::Encode(record, message.initRoot<schema::Record>(), next);
        } else {
          internal::Encode(record, message.initRoot<schema::Record>());
        }
        auto segments = message.getSegmentsForOutput();
        // Standard stream framing: u32 (segments - 1), u32 size per segment,
        // padded to a word, then the segments.
        size_t table_words = (segments.size() + 2) / 2;
        size_t words = table_words;
        for (auto& s : segments) words += s.size();
        record_bytes = words * sizeof(capnp::word);
        if (record_bytes > kMaxRecordBytes) {
          return Err(E2BIG, name + ": record of " + std::to_string(record_bytes) +
                                " bytes exceeds the " + std::to_string(kMaxRecordBytes) +
                                "-byte limit");
        }
        if (frame.size() > 0 && frame.size() + record_bytes > options.frame_bytes) {
          Status st = FlushFrame();  // resets the deltas
          if (!st.ok()) return st;
          if (attempt == 0) continue;
        }
        if (frame.size() + record_bytes > frame.capacity()) {
          // `compressed` grows too: not while the thread compresses into it.
          if (Status st = WaitForCompressor(); !st.ok()) return st;
          GrowBuffers(frame.size() + record_bytes);
        }
        std::byte* out = frame.Extend(record_bytes);
        std::memset(out, 0, table_words * sizeof(capnp::word));
        auto put32 = [&](size_t slot, uint32_t v) {
          for (int i = 0; i < 4; ++i) out[slot * 4 + i] = static_cast<std::byte>(v >> (8 * i));
        };
        put32(0, static_cast<uint32_t>(segments.size() - 1));
        for (size_t i = 0; i < segments.size(); ++i) {
          put32(i + 1, static_cast<uint32_t>(segments[i].size()));
        }
        out += table_words * sizeof(capnp::word);
        for (auto& s : segments) {
          std::memcpy(out, s.begin(), s.size() * sizeof(capnp::word));
          out += s.size() * sizeof(capnp::word);
        }
        deltas = next;
        break;
      }
    } catch (const kj::Exception& e) {
      // Cap'n Proto refuses values it cannot represent (lists over 2^29
      // elements and the like): the caller's input, not an I/O problem.
      return Err(EINVAL, name + ": cannot encode record: " + e.getDescription().cStr());
    }

    Count(record, record_bytes);
    uint64_t now = Now();
    if (pending.records == 1) frame_start_ns = now;
    if (frame.size() >= options.frame_bytes || now - frame_start_ns >= options.flush_interval_ns) {
      return FlushFrame();
    }
    return OkStatus();
  }

  void GrowBuffers(size_t frame_capacity) {
    frame.Reserve(frame_capacity);
    compressed.Reserve(ZSTD_compressBound(frame_capacity));
  }

  template <class R>
  void Count(const R& record, size_t record_bytes) {
    ++totals.records;
    totals.record_bytes += record_bytes;
    ++pending.records;
    std::optional<uint64_t> time;
    if constexpr (std::is_same_v<R, EventRecord>) {
      ++totals.events;
      switch (record.decision.kind) {
        case DecisionKind::kContinue:
          ++totals.decisions_continue;
          break;
        case DecisionKind::kReturn:
          ++totals.decisions_return;
          break;
        case DecisionKind::kErrno:
          ++totals.decisions_errno;
          break;
        case DecisionKind::kInjectFd:
          ++totals.decisions_inject_fd;
          break;
        case DecisionKind::kRestart:
          ++totals.decisions_restart;
          break;
        case DecisionKind::kUnknown:
          ++totals.decisions_unknown;
          break;
      }
      if (!pending.has_events) pending.first_seq = record.seq;
      pending.last_seq = record.seq;
      pending.has_events = true;
      time = record.received_ns;
    } else if constexpr (std::is_same_v<R, ProcessRecord>) {
      ++totals.process_events;
      time = record.timestamp_ns;
    } else if constexpr (std::is_same_v<R, CowRecord>) {
      ++totals.cow_events;
      time = record.timestamp_ns;
    } else if constexpr (std::is_same_v<R, SnapshotChunk>) {
      ++totals.snapshot_chunks;
    } else if constexpr (std::is_same_v<R, FooterRecord>) {
      time = record.end_ns;
    }
    if (time && *time != 0 && pending.first_time_ns == 0) pending.first_time_ns = *time;
  }

  Status CloseFile() {
    if (closed) return error ? Status(*error) : OkStatus();
    Status st = FlushFrame(/*may_hand_over=*/false);
    StopCompressor();
    if (st.ok()) {
      std::string index_frame = EncodeIndexFrame(index);
      st = Latch(
          WriteAll(reinterpret_cast<const std::byte*>(index_frame.data()), index_frame.size()));
    }
    // A pipe or character device cannot be fsynced; that is not an error.
    if (st.ok() && options.fsync_on_close && ::fsync(fd.get()) != 0 && errno != EINVAL &&
        errno != EROFS) {
      st = Fail(errno, "fsync");
    }
    if (::close(fd.release()) != 0 && st.ok() && errno != EINTR) st = Fail(errno, "close");
    closed = true;
    return st;
  }
};

TraceWriter::TraceWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TraceWriter::~TraceWriter() {
  if (!impl_) return;
  if (!impl_->closed) {
    try {
      (void)impl_->CloseFile();
    } catch (const Fatal&) {
      // Only a zstd bug can throw here; a destructor must not.
    }
  }
  impl_->StopCompressor();
}

Result<std::unique_ptr<TraceWriter>> TraceWriter::Open(const std::string& path,
                                                       WriterOptions options) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return ErrnoError("open " + path);
  return Adopt(std::move(fd), path, std::move(options));
}

Result<std::unique_ptr<TraceWriter>> TraceWriter::Adopt(UniqueFd fd, std::string name,
                                                        WriterOptions options) {
  if (!fd) return Err(EBADF, name);
  // Readers accept frames up to 32 MiB by default: a frame holds at most
  // max(frame_bytes, one record), so both stay at or below 16 MiB.
  options.frame_bytes = std::clamp<size_t>(options.frame_bytes, 1, kMaxRecordBytes);
  auto impl = std::make_unique<Impl>();
  impl->fd = std::move(fd);
  impl->name = std::move(name);
  impl->options = std::move(options);
  impl->cctx.reset(ZSTD_createCCtx());
  if (!impl->cctx) return Err(ENOMEM, impl->name + ": ZSTD_createCCtx");
  ZSTD_CCtx* c = impl->cctx.get();
  for (auto [param, value] :
       {std::pair{ZSTD_c_compressionLevel, impl->options.zstd_level},
        std::pair{ZSTD_c_checksumFlag, 1}, std::pair{ZSTD_c_contentSizeFlag, 1}}) {
    size_t r = ZSTD_CCtx_setParameter(c, param, value);
    if (ZSTD_isError(r)) return Err(EINVAL, impl->name + ": zstd: " + ZSTD_getErrorName(r));
  }
  impl->scratch = std::make_unique<capnp::word[]>(kScratchWords);  // value-initialised: zeroed
  impl->GrowBuffers(std::min(impl->options.frame_bytes, kMaxRecordBytes) + 4096);
  return std::unique_ptr<TraceWriter>(new TraceWriter(std::move(impl)));
}

Status TraceWriter::Write(const HeaderRecord& record) {
  // The events are written the way this code writes them, whatever the
  // caller's header says.
  if (record.format_version >= kFormatVersion && record.min_reader_version >= kMinReaderVersion) {
    return impl_->Append(record);
  }
  HeaderRecord h = record;
  h.format_version = std::max(h.format_version, kFormatVersion);
  h.min_reader_version = std::max(h.min_reader_version, kMinReaderVersion);
  return impl_->Append(h);
}
Status TraceWriter::Write(const EventRecord& record) { return impl_->Append(record); }
Status TraceWriter::Write(const ProcessRecord& record) { return impl_->Append(record); }
Status TraceWriter::Write(const CowRecord& record) { return impl_->Append(record); }
Status TraceWriter::Write(const SnapshotChunk& record) { return impl_->Append(record); }

Status TraceWriter::Write(const FooterRecord& record) {
  if (!impl_->options.fill_footer_totals) return impl_->Append(record);
  FooterRecord filled = record;
  (void)impl_->WaitForCompressor();  // file_bytes is the thread's until then
  filled.totals = impl_->totals;
  filled.totals.compressed_bytes = impl_->file_bytes;
  return impl_->Append(filled);
}

Status TraceWriter::Write(const Record& record) {
  return std::visit([this](const auto& r) { return Write(r); }, record);
}

Status TraceWriter::Tick() {
  if (impl_->error) return *impl_->error;
  if (impl_->compressor && impl_->compressor->failed.load(std::memory_order_acquire)) {
    return impl_->WaitForCompressor();
  }
  if (impl_->frame.size() == 0) return OkStatus();
  if (impl_->Now() - impl_->frame_start_ns < impl_->options.flush_interval_ns) return OkStatus();
  return impl_->FlushFrame();
}

Status TraceWriter::Flush() {
  if (impl_->closed) throw Fatal(impl_->name + ": Flush() after Close()");
  return impl_->FlushFrame();
}

Status TraceWriter::Close() { return impl_->CloseFile(); }

WriterStats TraceWriter::stats() const {
  (void)impl_->WaitForCompressor();  // the frame handed over is counted once written
  WriterStats s;
  s.totals = impl_->totals;
  s.frames = impl_->frames;
  s.file_bytes = impl_->file_bytes;
  s.buffered_bytes = impl_->frame.size();
  return s;
}

const std::string& TraceWriter::name() const { return impl_->name; }

}  // namespace sandtrace::trace
