// libFuzzer target for TraceReader; built by `make fuzz` (tests/formats/fuzz.sh).
#include <cstddef>
#include <cstdint>

#include "tests/formats/trace_fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sandtrace::trace::testing::FuzzReadTrace(data, size);
  return 0;
}
