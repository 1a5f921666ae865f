#include "replay/inspect/dump.h"

#include <array>

#include "formats/json.h"

namespace sandtrace::inspect {

Result<DumpSummary> Dump(trace::TraceReader& reader, const DumpOptions& options,
                         std::ostream& out) {
  auto filter = EventFilter::Create(options.filter, reader.header());
  if (!filter.ok()) return filter.error();
  TextOptions text_options = options.text;
  if (text_options.time_base_ns == 0)
    text_options.time_base_ns = reader.header().start_monotonic_ns;
  const EventText text(text_options);
  trace::JsonEncoder json;
  DumpSummary summary;
  std::string line;

  auto emit = [&](const trace::Record& record) {
    line.clear();
    if (options.json) {
      if (const auto* e = std::get_if<trace::EventRecord>(&record)) {
        const std::string name = SyscallName(e->arch, e->nr);
        const std::array<trace::JsonExtraField, 1> extra = {{{"syscall", name}}};
        line = json.Record(record, extra);
      } else {
        line = json.Record(record);
      }
    } else if (const auto* e = std::get_if<trace::EventRecord>(&record)) {
      line = text.Line(*e);
    } else if (const auto* p = std::get_if<trace::ProcessRecord>(&record)) {
      line = text.Line(*p);
    } else if (const auto* c = std::get_if<trace::CowRecord>(&record)) {
      line = text.Line(*c);
    } else {
      return;  // header, snapshot, footer: not part of the text dump
    }
    line += '\n';
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
    ++summary.records;
    if (std::holds_alternative<trace::EventRecord>(record)) ++summary.events;
  };

  // The header comes first even when --from seeks past it.
  trace::Record record = reader.header();
  emit(record);
  if (filter->from_seq()) {
    auto found = reader.SeekToSeq(*filter->from_seq());
    if (!found.ok()) return found.error();
  }
  while (true) {
    auto more = reader.Next(record);
    if (!more.ok()) return more.error();
    if (!*more) break;
    if (std::holds_alternative<trace::HeaderRecord>(record)) continue;  // already written
    const EventFilter::Verdict verdict = filter->Next(record);
    if (verdict == EventFilter::Verdict::kStop) break;
    if (verdict == EventFilter::Verdict::kKeep) emit(record);
  }
  summary.warning = reader.warning();
  if (!out) return Err(EIO, "writing the output failed");
  return summary;
}

}  // namespace sandtrace::inspect
