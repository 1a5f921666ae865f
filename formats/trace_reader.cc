#include "formats/trace_reader.h"

#include <capnp/serialize.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader; exported by libzstd.so
#include <zstd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "formats/codec.h"

namespace sandtrace::trace {
namespace {

// Bytes fed to the decompressor per read.
constexpr size_t kReadChunk = 256 * 1024;
// Writers emit one segment per record unless a record outgrows the 64 KiB
// scratch segment; a few dozen segments is already far-fetched.
constexpr uint32_t kMaxSegments = 64;

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

uint32_t Le32(const std::byte* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

// Where the bytes come from: a file (pread) or memory.
class Source {
 public:
  virtual ~Source() = default;
  virtual uint64_t size() const = 0;
  // Up to `len` bytes at `offset` (fewer only at EOF); valid until the next call.
  virtual Result<std::span<const std::byte>> Read(uint64_t offset, size_t len) = 0;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::span<const std::byte> data) : data_(data) {}
  uint64_t size() const override { return data_.size(); }
  Result<std::span<const std::byte>> Read(uint64_t offset, size_t len) override {
    if (offset >= data_.size()) return std::span<const std::byte>();
    return data_.subspan(offset, std::min<uint64_t>(len, data_.size() - offset));
  }

 private:
  std::span<const std::byte> data_;
};

class FdSource : public Source {
 public:
  FdSource(UniqueFd fd, uint64_t size) : fd_(std::move(fd)), size_(size) {}
  uint64_t size() const override { return size_; }
  Result<std::span<const std::byte>> Read(uint64_t offset, size_t len) override {
    if (offset >= size_) return std::span<const std::byte>();
    len = std::min<uint64_t>(len, size_ - offset);
    if (buf_.size() < len) buf_.resize(len);
    size_t got = 0;
    while (got < len) {
      ssize_t n =
          ::pread(fd_.get(), buf_.data() + got, len - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError("read at byte " + std::to_string(offset + got));
      if (n == 0) break;  // the file shrank under us: treated as a truncated tail
      got += static_cast<size_t>(n);
    }
    return std::span<const std::byte>(buf_.data(), got);
  }

 private:
  UniqueFd fd_;
  uint64_t size_;
  std::vector<std::byte> buf_;
};

struct DctxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// What a record peek learns without decoding the whole record.
struct Peek {
  bool known = true;
  bool is_event = false;
  bool is_footer = false;
  uint64_t seq = 0;
  internal::EventDeltas after;  // the delta state past this record
};

}  // namespace

struct TraceReader::Impl {
  std::unique_ptr<Source> src;
  std::string name;
  ReaderOptions options;
  std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx;
  HeaderRecord header;

  // The decoded frame: records at [cursor, buf_len).
  std::unique_ptr<capnp::word[]> buf;
  size_t buf_words = 0;
  size_t buf_len = 0;
  size_t cursor = 0;
  uint64_t frame_offset = 0;
  uint64_t next_offset = 0;  // file offset of the next frame
  bool at_end = false;       // no frame after the current one
  bool salvaged = false;     // the current frame is the unverified part of a cut frame
  // Format version 2: events relative to the frame's previous event.
  bool deltas_used = false;
  internal::EventDeltas deltas;

  std::optional<Error> error;
  std::string warning;
  std::optional<uint64_t> last_seq;
  bool saw_footer = false;

  std::vector<FrameIndexEntry> index;
  bool has_index = false;
  std::string index_problem;
  ReaderStats stats;

  Error Corrupt(uint64_t offset, const std::string& what) {
    error = Err(EBADMSG, name + ": corrupt trace at byte " + std::to_string(offset) + ": " + what);
    return *error;
  }

  std::string LastSeqText() const {
    return last_seq ? "last good seq " + std::to_string(*last_seq) : "no complete event";
  }

  void Reset(uint64_t offset) {
    buf_len = cursor = 0;
    next_offset = offset;
    at_end = false;
    salvaged = false;
  }

  void EnsureBuffer(size_t bytes) {
    size_t words = bytes / sizeof(capnp::word);
    if (words <= buf_words) return;
    buf = std::make_unique_for_overwrite<capnp::word[]>(words);
    buf_words = words;
  }

  // The message at byte `at` of the frame buffer: [at, *end). Returns false
  // when the bytes there are not a complete, plausible message.
  bool MessageAt(size_t at, size_t* end, std::string* why) const {
    const auto* p = reinterpret_cast<const std::byte*>(buf.get()) + at;
    size_t remaining = buf_len - at;
    if (remaining < 8) {
      *why = "record cut short";
      return false;
    }
    uint64_t segments = uint64_t{Le32(p)} + 1;
    if (segments > kMaxSegments) {
      *why = "record claims " + std::to_string(segments) + " segments";
      return false;
    }
    uint64_t words = (segments + 2) / 2;
    if (words * 8 > remaining) {
      *why = "record cut short";
      return false;
    }
    for (uint64_t i = 0; i < segments; ++i) words += Le32(p + 4 + 4 * i);
    if (words * 8 > remaining) {
      *why = "record cut short";
      return false;
    }
    *end = at + words * 8;
    return true;
  }

  // Runs `fn(root)` on the record at `cursor`, translating Cap'n Proto's
  // complaints about malformed data into an error naming the byte offset.
  template <class Fn>
  Result<size_t> WithRecord(Fn&& fn) {
    size_t end = 0;
    std::string why;
    if (!MessageAt(cursor, &end, &why)) return Corrupt(frame_offset, OffsetInFrame() + why);
    try {
      auto words = kj::arrayPtr(buf.get() + cursor / 8, (end - cursor) / 8);
      capnp::ReaderOptions limits;
      // Each word is decoded once; the slack covers the root and the list
      // tags. The bound keeps a small hostile message from expanding into a
      // large allocation through repeated pointers.
      limits.traversalLimitInWords = 2 * words.size() + 1024;
      limits.nestingLimit = 16;
      capnp::FlatArrayMessageReader message(words, limits);
      fn(message.getRoot<schema::Record>());
    } catch (const kj::Exception& e) {
      return Corrupt(frame_offset, OffsetInFrame() + e.getDescription().cStr());
    }
    return end;
  }

  std::string OffsetInFrame() const {
    return "record at byte " + std::to_string(cursor) + " of the frame's content: ";
  }

  // Looks at the record under the cursor without moving; peek.after is
  // what the delta state becomes if it is skipped.
  Result<Peek> PeekRecord() {
    Peek peek;
    peek.after = deltas;
    auto end = WithRecord([&](schema::Record::Reader r) {
      switch (r.which()) {
        case schema::Record::EVENT:
          peek.is_event = true;
          if (deltas_used) {
            peek.after = internal::AbsoluteOf(r.getEvent(), deltas);
            peek.seq = peek.after.seq;
          } else {
            peek.seq = r.getEvent().getSeq();
          }
          break;
        case schema::Record::FOOTER:
          peek.is_footer = true;
          break;
        case schema::Record::HEADER:
          // The first record: it says how the events after it are stored
          // (also when a cut first frame is salvaged before the header
          // has been read the usual way).
          deltas_used = r.getHeader().getFormatVersion() >= 2;
          break;
        case schema::Record::PROCESS:
        case schema::Record::COW:
        case schema::Record::SNAPSHOT:
          break;
        default:
          peek.known = false;
      }
    });
    if (!end.ok()) return end.error();
    return peek;
  }

  // Loads the next data frame into the buffer. False at the end of the
  // data (a clean end, or a truncated tail with the warning set).
  Result<bool> LoadNextFrame() {
    buf_len = cursor = 0;
    salvaged = false;
    deltas = internal::EventDeltas{};
    const uint64_t file_size = src->size();
    for (;;) {
      const uint64_t off = next_offset;
      if (off >= file_size) {
        if (!saw_footer && warning.empty()) {
          warning = name + ": trace ends at byte " + std::to_string(off) +
                    " without a footer (the writer did not finish); " + LastSeqText();
        }
        at_end = true;
        return false;
      }
      std::byte head[ZSTD_FRAMEHEADERSIZE_MAX];
      auto read = src->Read(off, sizeof head);
      if (!read.ok()) return Fail(read.error());
      size_t head_len = read->size();
      std::memcpy(head, read->data(), head_len);
      if (head_len < 4) return Truncated(off, off, "an incomplete frame");
      uint32_t magic = Le32(head);
      if ((magic & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START) {
        if (head_len < 8) return Truncated(off, off, "an incomplete skippable frame");
        uint64_t skip = 8 + uint64_t{Le32(head + 4)};
        if (skip > file_size - off) {
          return Truncated(file_size, off,
                           magic == kSkippableIndexMagic ? "the seek index" : "a skippable frame");
        }
        next_offset = off + skip;
        continue;
      }
      if (magic != ZSTD_MAGICNUMBER) {
        return Corrupt(off, "not a zstd frame (magic " + Hex(magic) + ")" +
                                (off == 0 ? "; is this a sandtrace trace?" : ""));
      }
      ZSTD_frameHeader fh{};
      size_t r = ZSTD_getFrameHeader(&fh, head, head_len);
      if (ZSTD_isError(r)) return Corrupt(off, std::string("zstd: ") + ZSTD_getErrorName(r));
      if (r > 0) return Truncated(off, off, "an incomplete frame");
      if (!fh.checksumFlag) return Corrupt(off, "zstd frame without a content checksum");
      if (fh.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN ||
          fh.frameContentSize > options.max_frame_bytes || fh.frameContentSize % 8 != 0) {
        return Corrupt(off, "zstd frame declares an implausible content size");
      }
      if (fh.windowSize > std::bit_ceil(options.max_frame_bytes)) {
        return Corrupt(off, "zstd frame window larger than the reader's limit");
      }
      return Decompress(off, fh.frameContentSize);
    }
  }

  Result<bool> Decompress(uint64_t off, uint64_t content_size) {
    EnsureBuffer(content_size);
    ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_only);
    ZSTD_outBuffer out{buf.get(), static_cast<size_t>(content_size), 0};
    uint64_t in_off = off;
    for (;;) {
      auto chunk = src->Read(in_off, kReadChunk);
      if (!chunk.ok()) return Fail(chunk.error());
      if (chunk->empty()) return Salvage(off, in_off, out.pos);
      ZSTD_inBuffer in{chunk->data(), chunk->size(), 0};
      size_t before = out.pos;
      size_t ret = ZSTD_decompressStream(dctx.get(), &out, &in);
      in_off += in.pos;
      if (ZSTD_isError(ret)) {
        return Corrupt(in_off, std::string("zstd: ") + ZSTD_getErrorName(ret) +
                                   " (frame starting at byte " + std::to_string(off) + ")");
      }
      if (ret == 0) break;  // complete, checksum verified
      if (in.pos == 0 && out.pos == before) {
        return Corrupt(in_off, "zstd frame makes no progress (frame starting at byte " +
                                   std::to_string(off) + ")");
      }
    }
    if (out.pos != content_size) return Corrupt(off, "zstd frame shorter than it declares");
    buf_len = out.pos;
    frame_offset = off;
    next_offset = in_off;
    ++stats.frames;
    stats.compressed_bytes += in_off - off;
    stats.decompressed_bytes += buf_len;
    return true;
  }

  // The file ends inside the frame at `off`: keep the complete records
  // decoded so far (they cannot be checksum-verified) and end after them.
  Result<bool> Salvage(uint64_t off, uint64_t cut, size_t decoded) {
    buf_len = decoded - decoded % 8;
    frame_offset = off;
    size_t end = 0;
    size_t records = 0;
    std::string why;
    std::optional<uint64_t> seq = last_seq;
    while (cursor < buf_len && MessageAt(cursor, &end, &why)) {
      auto peek = PeekRecord();
      if (!peek.ok()) break;
      if (peek->is_event) seq = peek->seq;
      deltas = peek->after;
      cursor = end;
      ++records;
    }
    error.reset();  // a record that does not parse marks the end, not corruption
    buf_len = cursor;
    cursor = 0;
    deltas = internal::EventDeltas{};
    salvaged = true;
    at_end = true;
    next_offset = src->size();
    std::optional<uint64_t> saved = last_seq;
    last_seq = seq;
    warning = name + ": truncated at byte " + std::to_string(cut) +
              " (incomplete zstd frame starting at byte " + std::to_string(off) + "; " +
              std::to_string(records) + " complete records kept from it); " + LastSeqText();
    last_seq = saved;
    return true;
  }

  Result<bool> Truncated(uint64_t cut, uint64_t off, const std::string& what) {
    warning = name + ": truncated at byte " + std::to_string(cut) + " inside " + what +
              " starting at byte " + std::to_string(off) + "; " + LastSeqText();
    at_end = true;
    return false;
  }

  Result<bool> Fail(const Error& e) {
    error = Err(e.code, name + ": " + e.context);
    return *error;
  }

  // Moves the cursor to the next record, loading frames as needed. False at
  // the end of the data.
  Result<bool> EnsureRecord() {
    while (cursor >= buf_len) {
      if (at_end) return false;
      auto loaded = LoadNextFrame();
      if (!loaded.ok() || !*loaded) return loaded;
    }
    return true;
  }

  Result<bool> Next(Record& out) {
    if (error) return *error;
    for (;;) {
      auto more = EnsureRecord();
      if (!more.ok() || !*more) return more;
      bool known = false;
      auto end = WithRecord([&](schema::Record::Reader r) {
        known = deltas_used ? internal::DecodeRecord(r, out, deltas)
                            : internal::DecodeRecord(r, out);
      });
      if (!end.ok()) return end.error();
      cursor = *end;
      ++stats.records;
      if (!known) {
        ++stats.unknown_records;
        continue;
      }
      if (const auto* e = std::get_if<EventRecord>(&out)) last_seq = e->seq;
      if (std::holds_alternative<FooterRecord>(out)) saw_footer = true;
      return true;
    }
  }

  Result<bool> SeekToSeq(uint64_t target) {
    if (error) return *error;
    uint64_t start = 0;
    if (has_index && options.use_index) {
      const FrameIndexEntry* best = nullptr;
      for (const FrameIndexEntry& e : index) {
        if (!e.has_events) continue;
        if (best == nullptr || e.first_seq <= target) best = &e;
        if (e.first_seq > target) break;
      }
      if (best == nullptr) {
        // No events at all: nothing to find; stand at the end.
        Reset(src->size());
        at_end = true;
        return false;
      }
      start = best->offset;
    }
    Reset(start);
    for (;;) {
      auto more = EnsureRecord();
      if (!more.ok() || !*more) return more;
      auto peek = PeekRecord();
      if (!peek.ok()) return peek.error();
      if (peek->is_event && peek->seq >= target) return true;
      if (peek->is_event) last_seq = peek->seq;
      if (peek->is_footer) saw_footer = true;
      deltas = peek->after;
      size_t end = 0;
      std::string why;
      MessageAt(cursor, &end, &why);  // cannot fail: PeekRecord checked it
      cursor = end;
      ++stats.records;
    }
  }

  Status OpenAndCheckHeader() {
    if (options.use_index) {
      auto idx = ReadIndex(src->size(), [&](uint64_t offset, size_t len) {
        auto bytes = src->Read(offset, len);
        if (!bytes.ok()) return std::string();
        return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
      });
      if (idx.ok()) {
        index = std::move(*idx);
        has_index = true;
      } else {
        index_problem = idx.error().context;
      }
    } else {
      index_problem = "index not used";
    }

    auto loaded = LoadNextFrame();
    if (!loaded.ok()) return loaded.error();
    if (!*loaded || buf_len == 0) {
      return Err(EBADMSG, name + ": not a sandtrace trace (no complete first record)");
    }
    uint64_t magic = 0;
    uint32_t min_reader = 0;
    bool is_header = false;
    Record first;
    auto end = WithRecord([&](schema::Record::Reader r) {
      if (r.which() != schema::Record::HEADER) return;
      is_header = true;
      magic = r.getHeader().getMagic();
      min_reader = r.getHeader().getMinReaderVersion();
      if (magic == kTraceMagic && min_reader <= kReaderVersion) internal::DecodeRecord(r, first);
    });
    if (!end.ok()) return end.error();
    if (!is_header || magic != kTraceMagic) {
      return Err(EBADMSG, name +
                              ": not a sandtrace trace (the first record is not a sandtrace "
                              "header)");
    }
    if (min_reader > kReaderVersion) {
      return Err(EPROTONOSUPPORT,
                 name + ": this trace needs a reader of format version " +
                     std::to_string(min_reader) + " or newer, but this sandtrace reads version " +
                     std::to_string(kReaderVersion) + "; upgrade sandtrace to read it");
    }
    header = std::move(std::get<HeaderRecord>(first));
    deltas_used = header.format_version >= 2;
    return OkStatus();
  }

  static Result<std::unique_ptr<Impl>> Create(std::unique_ptr<Source> src, std::string name,
                                              ReaderOptions options) {
    auto impl = std::make_unique<Impl>();
    impl->src = std::move(src);
    impl->name = std::move(name);
    impl->options = options;
    impl->dctx.reset(ZSTD_createDCtx());
    if (!impl->dctx) return Err(ENOMEM, impl->name + ": ZSTD_createDCtx");
    // The window can never need to exceed the largest frame we accept.
    int window_log =
        std::bit_width(std::bit_ceil(std::max<size_t>(options.max_frame_bytes, 1024))) - 1;
    ZSTD_DCtx_setParameter(impl->dctx.get(), ZSTD_d_windowLogMax, window_log);
    Status st = impl->OpenAndCheckHeader();
    if (!st.ok()) return st.error();
    return impl;
  }
};

TraceReader::TraceReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceReader::~TraceReader() = default;

Result<std::unique_ptr<TraceReader>> TraceReader::Open(const std::string& path,
                                                       ReaderOptions options) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + path);
  return FromFd(std::move(fd), path, options);
}

Result<std::unique_ptr<TraceReader>> TraceReader::FromFd(UniqueFd fd, std::string name,
                                                         ReaderOptions options) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(name);
  if (!S_ISREG(st.st_mode)) return Err(EINVAL, name + ": not a regular file");
  auto impl =
      Impl::Create(std::make_unique<FdSource>(std::move(fd), static_cast<uint64_t>(st.st_size)),
                   std::move(name), options);
  if (!impl.ok()) return impl.error();
  return std::unique_ptr<TraceReader>(new TraceReader(std::move(*impl)));
}

Result<std::unique_ptr<TraceReader>> TraceReader::FromBuffer(std::span<const std::byte> data,
                                                             std::string name,
                                                             ReaderOptions options) {
  auto impl = Impl::Create(std::make_unique<MemorySource>(data), std::move(name), options);
  if (!impl.ok()) return impl.error();
  return std::unique_ptr<TraceReader>(new TraceReader(std::move(*impl)));
}

const HeaderRecord& TraceReader::header() const { return impl_->header; }
Result<bool> TraceReader::Next(Record& out) { return impl_->Next(out); }
Result<bool> TraceReader::SeekToSeq(uint64_t seq) { return impl_->SeekToSeq(seq); }

Status TraceReader::Rewind() {
  if (impl_->error) return *impl_->error;
  impl_->Reset(0);
  return OkStatus();
}

const std::string& TraceReader::warning() const { return impl_->warning; }
std::optional<uint64_t> TraceReader::last_good_seq() const { return impl_->last_seq; }
bool TraceReader::has_index() const { return impl_->has_index; }
const std::vector<FrameIndexEntry>& TraceReader::index() const { return impl_->index; }
const std::string& TraceReader::index_problem() const { return impl_->index_problem; }
uint64_t TraceReader::file_size() const { return impl_->src->size(); }
ReaderStats TraceReader::stats() const { return impl_->stats; }
const std::string& TraceReader::name() const { return impl_->name; }

}  // namespace sandtrace::trace
