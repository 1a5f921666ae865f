#include "tests/formats/trace_fuzz_entry.h"

#include <span>

#include "formats/trace_reader.h"

namespace sandtrace::trace::testing {

void FuzzReadTrace(const uint8_t* data, size_t size) {
  ReaderOptions options;
  options.max_frame_bytes = 4 << 20;  // still hostile-sized, but keeps iterations quick
  options.use_index = size % 2 == 0;  // exercise both seek paths
  auto reader = TraceReader::FromBuffer(
      std::as_bytes(std::span(reinterpret_cast<const char*>(data), size)), "fuzz", options);
  if (!reader.ok()) return;
  Record record;
  for (int i = 0; i < 1'000'000; ++i) {
    auto more = (*reader)->Next(record);
    if (!more.ok() || !*more) break;
  }
  uint64_t target = size > 0 ? data[size - 1] : 0;
  auto found = (*reader)->SeekToSeq(target);
  if (found.ok() && *found) (void)(*reader)->Next(record);
  if ((*reader)->Rewind().ok()) (void)(*reader)->Next(record);
}

}  // namespace sandtrace::trace::testing
