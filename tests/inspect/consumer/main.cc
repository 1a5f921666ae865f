// Reads a trace through an installed sandtrace: `consumer FILE` prints the
// command line and the event and process counts, one line.
#include <cstdio>

#include "formats/trace_reader.h"
#include "replay/inspect/info.h"
#include "replay/inspect/trace_open.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer FILE\n");
    return 2;
  }
  auto reader = sandtrace::inspect::OpenTrace(argv[1]);
  if (!reader.ok()) {
    std::fprintf(stderr, "consumer: %s\n", sandtrace::inspect::ErrorLine(reader.error()).c_str());
    return 2;
  }
  const auto info = sandtrace::inspect::CollectInfo(**reader);
  std::printf("%s: %llu events, %llu process events, clean %d\n",
              info.header.argv.empty() ? "?" : info.header.argv[0].c_str(),
              static_cast<unsigned long long>(info.events),
              static_cast<unsigned long long>(info.process_events), info.clean() ? 1 : 0);
  return 0;
}
