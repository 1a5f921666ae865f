#include "tests/formats/trace_fuzz_entry.h"

#include <span>
#include <string>

#include "formats/trace_reader.h"
#include "tests/formats/trace_craft.h"

namespace sandtrace::trace::testing {
namespace {

void ReadEverything(std::span<const std::byte> bytes, bool use_index, uint64_t seek_to) {
  ReaderOptions options;
  options.max_frame_bytes = 4 << 20;  // still hostile-sized, but keeps iterations quick
  options.use_index = use_index;
  auto reader = TraceReader::FromBuffer(bytes, "fuzz", options);
  if (!reader.ok()) return;
  Record record;
  for (int i = 0; i < 1'000'000; ++i) {
    auto more = (*reader)->Next(record);
    if (!more.ok() || !*more) break;
  }
  auto found = (*reader)->SeekToSeq(seek_to);
  if (found.ok() && *found) (void)(*reader)->Next(record);
  if ((*reader)->Rewind().ok()) (void)(*reader)->Next(record);
}

}  // namespace

void FuzzReadTrace(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  uint64_t seek_to = size > 0 ? data[size - 1] : 0;
  // 1. The input as a whole trace file: mostly exercises the zstd layer,
  //    frame boundaries, skippable frames and the index.
  ReadEverything(std::as_bytes(std::span(input)), size % 2 == 0, seek_to);
  // 2. The input as the decompressed content of a valid, checksummed frame
  //    after a valid header: reaches the record parsing and decoding that
  //    checksums keep random file mutations from reaching.
  static const std::string header = ZstdFrame(HeaderMessage());
  std::string wrapped = header + ZstdFrame(input);
  ReadEverything(std::as_bytes(std::span(wrapped)), false, seek_to);
}

}  // namespace sandtrace::trace::testing
