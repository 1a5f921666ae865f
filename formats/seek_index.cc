#include "formats/seek_index.h"

#include <cerrno>
#include <cstring>

namespace sandtrace::trace {
namespace {

void Put(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t Get(std::span<const std::byte> in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[at + i]);
  return v;
}

uint64_t Fnv1a(std::span<const std::byte> data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (std::byte b : data) {
    h ^= static_cast<uint8_t>(b);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

void MergeIndexEntries(FrameIndexEntry& a, const FrameIndexEntry& b) {
  a.size = b.offset + b.size - a.offset;
  if (b.has_events) {
    if (!a.has_events) a.first_seq = b.first_seq;
    a.last_seq = b.last_seq;
    a.has_events = true;
  }
  if (a.first_time_ns == 0) a.first_time_ns = b.first_time_ns;
  a.records += b.records;
  a.frames = static_cast<uint16_t>(a.frames + b.frames);
}

std::string EncodeIndexFrame(const std::vector<FrameIndexEntry>& entries) {
  std::string out;
  size_t payload = entries.size() * kIndexEntryBytes + kIndexTrailerBytes;
  out.reserve(8 + payload);
  Put(out, kSkippableIndexMagic, 4);
  Put(out, payload, 4);
  for (const FrameIndexEntry& e : entries) {
    Put(out, e.offset, 8);
    Put(out, e.size, 8);
    Put(out, e.first_seq, 8);
    Put(out, e.last_seq, 8);
    Put(out, e.first_time_ns, 8);
    Put(out, e.records, 4);
    Put(out, e.frames, 2);
    Put(out, e.has_events ? 1 : 0, 2);
  }
  Put(out, entries.size(), 4);
  Put(out, kIndexVersion, 4);
  Put(out, Fnv1a(std::as_bytes(std::span(out)).subspan(8)), 8);
  Put(out, kIndexMagic, 8);
  return out;
}

Result<std::vector<FrameIndexEntry>> DecodeIndexPayload(std::span<const std::byte> payload,
                                                        uint64_t data_end) {
  if (payload.size() < kIndexTrailerBytes) return Err(EBADMSG, "seek index too short");
  size_t trailer = payload.size() - kIndexTrailerBytes;
  uint64_t count = Get(payload, trailer, 4);
  if (Get(payload, trailer + 16, 8) != kIndexMagic ||
      Get(payload, trailer + 4, 4) != kIndexVersion || count > kMaxIndexEntries ||
      count * kIndexEntryBytes != trailer) {
    return Err(EBADMSG, "seek index trailer is damaged");
  }
  if (Fnv1a(payload.first(trailer + 8)) != Get(payload, trailer + 8, 8)) {
    return Err(EBADMSG, "seek index checksum mismatch");
  }
  std::vector<FrameIndexEntry> entries(count);
  uint64_t next_offset = 0;
  for (size_t i = 0; i < count; ++i) {
    size_t at = i * kIndexEntryBytes;
    FrameIndexEntry& e = entries[i];
    e.offset = Get(payload, at, 8);
    e.size = Get(payload, at + 8, 8);
    e.first_seq = Get(payload, at + 16, 8);
    e.last_seq = Get(payload, at + 24, 8);
    e.first_time_ns = Get(payload, at + 32, 8);
    e.records = static_cast<uint32_t>(Get(payload, at + 40, 4));
    e.frames = static_cast<uint16_t>(Get(payload, at + 44, 2));
    e.has_events = (Get(payload, at + 46, 2) & 1) != 0;
    // Entries tile the data part of the file exactly, in order.
    if (e.offset != next_offset || e.size == 0 || e.size > data_end - e.offset || e.frames == 0) {
      return Err(EBADMSG, "seek index entry " + std::to_string(i) + " is inconsistent");
    }
    next_offset = e.offset + e.size;
  }
  if (next_offset != data_end) return Err(EBADMSG, "seek index does not cover the file");
  return entries;
}

Result<std::vector<FrameIndexEntry>> ReadIndex(uint64_t file_size, const ReadAtFn& read_at) {
  if (file_size < 8 + kIndexTrailerBytes) return Err(ENOENT, "no seek index");
  std::string tail = read_at(file_size - kIndexTrailerBytes, kIndexTrailerBytes);
  auto tail_bytes = std::as_bytes(std::span(tail));
  if (tail.size() != kIndexTrailerBytes || Get(tail_bytes, 16, 8) != kIndexMagic) {
    return Err(ENOENT, "no seek index");
  }
  uint64_t count = Get(tail_bytes, 0, 4);
  if (count > kMaxIndexEntries) return Err(EBADMSG, "seek index trailer is damaged");
  uint64_t payload_bytes = count * kIndexEntryBytes + kIndexTrailerBytes;
  if (payload_bytes + 8 > file_size) return Err(EBADMSG, "seek index larger than the file");
  uint64_t start = file_size - payload_bytes - 8;
  std::string frame = read_at(start, payload_bytes + 8);
  auto bytes = std::as_bytes(std::span(frame));
  if (frame.size() != payload_bytes + 8 || Get(bytes, 0, 4) != kSkippableIndexMagic ||
      Get(bytes, 4, 4) != payload_bytes) {
    return Err(EBADMSG, "seek index frame header does not match its trailer");
  }
  return DecodeIndexPayload(bytes.subspan(8), start);
}

}  // namespace sandtrace::trace
