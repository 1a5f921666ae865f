// trace_format_demo: writes a synthetic trace, reads it back and prints a
// summary (what `make demo` shows until recording exists).
//
//   trace_format_demo [--events N] FILE   write FILE, read it, summarise
//   trace_format_demo --corpus DIR        write small seed traces for the fuzzer
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "formats/synthetic_trace.h"
#include "formats/trace_reader.h"
#include "formats/trace_writer.h"

namespace {

using namespace sandtrace::trace;  // NOLINT(google-build-using-namespace): a tiny main

int Fail(const std::string& what) {
  std::fprintf(stderr, "trace_format_demo: %s\n", what.c_str());
  return 1;
}

sandtrace::Status WriteTrace(const std::string& path, uint64_t events, uint64_t seed,
                             WriterOptions options) {
  auto writer = TraceWriter::Open(path, std::move(options));
  if (!writer.ok()) return writer.error();
  sandtrace::Status st = WriteSyntheticTrace(**writer, events, seed);
  sandtrace::Status closed = (*writer)->Close();
  return st.ok() ? closed : st;
}

int WriteCorpus(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Fail("mkdir " + dir);
  WriterOptions small;
  small.frame_bytes = 2048;  // several frames even for a small trace
  struct Seed {
    const char* name;
    uint64_t events;
    WriterOptions options;
  };
  for (const Seed& s :
       {Seed{"empty_run", 0, {}}, Seed{"ten_events", 10, {}}, Seed{"multi_frame", 60, small}}) {
    sandtrace::Status st = WriteTrace(dir + "/" + s.name + ".trace", s.events, 7, s.options);
    if (!st.ok()) return Fail(st.error().Message());
  }
  std::printf("wrote seed traces to %s\n", dir.c_str());
  return 0;
}

int Demo(const std::string& path, uint64_t events) {
  sandtrace::Status st = WriteTrace(path, events, 1, {});
  if (!st.ok()) return Fail(st.error().Message());

  auto reader = TraceReader::Open(path);
  if (!reader.ok()) return Fail(reader.error().Message());
  TraceReader& r = **reader;
  uint64_t counts[std::variant_size_v<Record>] = {};
  Record record;
  for (;;) {
    auto more = r.Next(record);
    if (!more.ok()) return Fail(more.error().Message());
    if (!*more) break;
    ++counts[record.index()];
  }
  const FooterRecord* footer = std::get_if<FooterRecord>(&record);
  if (footer == nullptr || !r.warning().empty()) return Fail("trace did not end cleanly");

  const HeaderRecord& h = r.header();
  std::printf("trace %s: format %u, tool %s, argv[0] %s\n", path.c_str(), h.format_version,
              h.tool_version.c_str(), h.argv.empty() ? "" : h.argv[0].c_str());
  std::printf("records: %llu header, %llu events, %llu process, %llu footer\n",
              (unsigned long long)counts[0], (unsigned long long)counts[1],
              (unsigned long long)counts[2], (unsigned long long)counts[5]);
  const Totals& t = footer->totals;
  std::printf("decisions: %llu continue, %llu return, %llu errno, %llu inject_fd\n",
              (unsigned long long)t.decisions_continue, (unsigned long long)t.decisions_return,
              (unsigned long long)t.decisions_errno, (unsigned long long)t.decisions_inject_fd);
  uint64_t records = t.records + 1;
  std::printf(
      "file: %llu bytes, %llu frames (index: %s), %.1f bytes/record, %.1f:1 over %llu "
      "capnp bytes\n",
      (unsigned long long)r.file_size(), (unsigned long long)r.stats().frames,
      r.has_index() ? "yes" : r.index_problem().c_str(),
      static_cast<double>(r.file_size()) / static_cast<double>(records),
      static_cast<double>(t.record_bytes) / static_cast<double>(r.file_size()),
      (unsigned long long)t.record_bytes);

  uint64_t target = events / 2;
  auto found = r.SeekToSeq(target);
  if (!found.ok()) return Fail(found.error().Message());
  auto more = r.Next(record);
  if (!*found || !more.ok() || !*more || std::get<EventRecord>(record).seq != target) {
    return Fail("seek to seq " + std::to_string(target) + " failed");
  }
  std::printf("seek to seq %llu via the index: ok\n", (unsigned long long)target);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 100000;
  std::string corpus;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--events" && i + 1 < argc) {
      char* end = nullptr;
      events = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0') return Fail("--events wants a number");
    } else if (arg == "--corpus" && i + 1 < argc) {
      corpus = argv[++i];
    } else if (!arg.empty() && arg[0] != '-' && path.empty()) {
      path = arg;
    } else {
      return Fail("usage: trace_format_demo [--events N] FILE | --corpus DIR");
    }
  }
  if (!corpus.empty()) return WriteCorpus(corpus);
  if (path.empty()) return Fail("usage: trace_format_demo [--events N] FILE | --corpus DIR");
  return Demo(path, events);
}
