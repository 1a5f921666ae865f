// Writes the checked-in input traces of tests/inspect/golden/:
//   inspect_golden_gen DIR   ->  DIR/build.capnp, DIR/synthetic.capnp
// The expected outputs next to them are refreshed by running the tests
// with SANDTRACE_UPDATE_GOLDEN=1 (see inspect_golden_test.cc).
#include <cstdio>
#include <string>

#include "tests/inspect/golden_traces.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: inspect_golden_gen DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  using namespace sandtrace::inspect_test;
  auto s = WriteRecords(dir + "/build.capnp", BuildTraceRecords());
  if (s.ok()) s = WriteSynthetic(dir + "/synthetic.capnp", 60, 7, 4096);
  if (!s.ok()) {
    std::fprintf(stderr, "inspect_golden_gen: %s\n", s.error().Message().c_str());
    return 1;
  }
  return 0;
}
