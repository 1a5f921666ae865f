// What the reader fuzzer does with one input: open it as a trace, read every
// record, seek, rewind. Shared by the libFuzzer target (built by `make
// fuzz` with clang) and by a plain gtest that feeds it mutated traces.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sandtrace::trace::testing {

void FuzzReadTrace(const uint8_t* data, size_t size);

}  // namespace sandtrace::trace::testing
