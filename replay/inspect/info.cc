#include "replay/inspect/info.h"

#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <unordered_set>

#include "formats/json.h"
#include "replay/inspect/event_text.h"
#include "replay/inspect/json_out.h"
#include "replay/inspect/trace_open.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace::inspect {
namespace {

std::string Bytes(uint64_t n) {
  char buf[48];
  if (n < 1024) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " B", n);
  } else if (n < (uint64_t{1} << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
  } else if (n < (uint64_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(n) / (1 << 30));
  }
  return buf;
}

std::string Join(const std::vector<std::string>& items, const char* sep, bool quote) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += quote ? Quote(items[i]) : items[i];
  }
  return out;
}

std::string ArchName(uint32_t arch) {
  if (const ArchTable* t = ArchTableFor(arch)) return std::string(t->name());
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#" PRIx32, arch);
  return buf;
}

std::string Utc(int64_t realtime_ns) {
  if (realtime_ns == 0) return "not recorded";
  time_t secs = static_cast<time_t>(realtime_ns / 1'000'000'000);
  struct tm tm {};
  if (gmtime_r(&secs, &tm) == nullptr) return std::to_string(realtime_ns) + " ns";
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

char ChangeLetter(trace::ChangeKind k) {
  switch (k) {
    case trace::ChangeKind::kAdded:
      return 'A';
    case trace::ChangeKind::kModified:
      return 'M';
    case trace::ChangeKind::kDeleted:
      return 'D';
    default:
      return '?';
  }
}

}  // namespace

bool InfoReport::clean() const {
  return footer && footer->clean_end && warning.empty() && error.empty();
}

InfoReport CollectInfo(trace::TraceReader& reader) {
  InfoReport r;
  r.file = reader.name();
  r.file_size = reader.file_size();
  r.header = reader.header();
  std::unordered_set<uint32_t> tids;
  trace::Record record;
  while (true) {
    auto more = reader.Next(record);
    if (!more.ok()) {
      r.error = ErrorLine(more.error());
      break;
    }
    if (!*more) break;
    ++r.records;
    if (const auto* e = std::get_if<trace::EventRecord>(&record)) {
      ++r.events;
      const auto kind = static_cast<size_t>(e->decision.kind);
      ++r.decisions[kind < r.decisions.size() ? kind : 0];
      if (!r.first_seq) {
        r.first_seq = e->seq;
        r.first_event_ns = e->received_ns;
      }
      r.last_seq = e->seq;
      r.last_event_ns = e->received_ns;
      tids.insert(e->tid);
    } else if (std::holds_alternative<trace::ProcessRecord>(record)) {
      ++r.process_events;
    } else if (std::holds_alternative<trace::CowRecord>(record)) {
      ++r.cow_events;
    } else if (const auto* s = std::get_if<trace::SnapshotChunk>(&record)) {
      ++r.snapshot_chunks;
      r.snapshot_entries += s->entries.size();
      r.snapshot_blobs += s->blobs.size();
      for (const auto& b : s->blobs) r.snapshot_blob_bytes += b.bytes.size();
    } else if (auto* f = std::get_if<trace::FooterRecord>(&record)) {
      r.footer = std::move(*f);
    }
  }
  r.threads = tids.size();
  r.reader = reader.stats();
  r.has_index = reader.has_index();
  r.index_entries = reader.index().size();
  for (const auto& e : reader.index()) r.index_frames += e.frames;
  r.index_problem = reader.index_problem();
  r.warning = reader.warning();
  r.last_good_seq = reader.last_good_seq();
  return r;
}

std::string InfoText(const InfoReport& r) {
  std::string out;
  auto line = [&](const char* label, const std::string& value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%-12s ", label);
    out += buf;
    out += value;
    out += '\n';
  };
  const trace::HeaderRecord& h = r.header;
  line("file:", r.file + " (" + Bytes(r.file_size) + ")");
  line("format:", "version " + std::to_string(h.format_version) + ", readable by version " +
                      std::to_string(h.min_reader_version) + " and newer");
  line("tool:", h.tool_version.empty() ? "unknown" : h.tool_version);
  line("kernel:",
       (h.kernel_release.empty() ? "unknown" : h.kernel_release) + ", arch " + ArchName(h.arch));
  std::string features;
  for (const auto& f : h.features) {
    if (!features.empty()) features += ", ";
    features += f.name + " " + std::to_string(f.found) + " (used " + std::to_string(f.used) + ")";
  }
  line("features:", features.empty() ? "none recorded" : features);
  line("command:", h.argv.empty() ? "none recorded" : Join(h.argv, " ", true));
  line("cwd:", Quote(h.cwd));
  line("workdir:", Quote(h.workdir));
  line("env:", h.env ? std::to_string(h.env->size()) + " variables" : "not recorded");
  const trace::Policy& p = h.policy;
  std::string policy =
      "read " + (p.read_paths.empty() ? "everywhere" : Join(p.read_paths, ", ", true));
  policy +=
      "; write " + (p.write_paths.empty() ? "nothing extra" : Join(p.write_paths, ", ", true));
  policy += "; quota " + (p.quota_bytes ? Bytes(p.quota_bytes) : "none");
  policy += "; seed " + std::to_string(p.seed);
  policy += "; on exit " + std::string(trace::Name(p.disposition));
  for (const auto& kv : p.options) policy += "; " + kv.key + "=" + kv.value;
  line("policy:", policy);
  line("handlers:", h.handler_sets.empty() ? "none recorded" : Join(h.handler_sets, ", ", false));
  std::string snapshot(trace::Name(h.snapshot_mode));
  if (!h.snapshot_hash.empty()) snapshot += " (hash " + h.snapshot_hash + ")";
  if (r.snapshot_chunks) {
    snapshot += ": " + std::to_string(r.snapshot_entries) + " entries, " +
                std::to_string(r.snapshot_blobs) + " blobs (" + Bytes(r.snapshot_blob_bytes) +
                ") in " + std::to_string(r.snapshot_chunks) + " chunks";
  }
  line("snapshot:", snapshot);
  line("started:", Utc(h.start_realtime_ns));

  line("records:", std::to_string(r.records) + " (events " + std::to_string(r.events) +
                       ", process " + std::to_string(r.process_events) + ", cow " +
                       std::to_string(r.cow_events) + ", snapshot " +
                       std::to_string(r.snapshot_chunks) + ", footer " +
                       std::to_string(r.footer ? 1 : 0) + ")");
  if (r.first_seq) {
    line("events:", "seq " + std::to_string(*r.first_seq) + ".." + std::to_string(*r.last_seq) +
                        " in " + std::to_string(r.threads) + " threads over " +
                        FormatDuration(r.last_event_ns - r.first_event_ns));
  } else {
    line("events:", "none");
  }
  line("decisions:",
       "continue " + std::to_string(r.decisions[1]) + ", return " + std::to_string(r.decisions[2]) +
           ", errno " + std::to_string(r.decisions[3]) + ", inject " +
           std::to_string(r.decisions[4]) +
           (r.decisions[5] != 0 ? ", restart " + std::to_string(r.decisions[5]) : std::string()) +
           ", unknown " + std::to_string(r.decisions[0]));

  if (r.footer) {
    const trace::FooterRecord& f = *r.footer;
    line("exit:", f.signal ? "killed by signal " + std::to_string(f.signal)
                           : "status " + std::to_string(f.exit_status));
    const trace::Totals& t = f.totals;
    std::string totals =
        "records " + std::to_string(t.records) + ", events " + std::to_string(t.events) +
        ", process " + std::to_string(t.process_events) + ", cow " + std::to_string(t.cow_events) +
        ", snapshot " + std::to_string(t.snapshot_chunks) + ", " + Bytes(t.record_bytes) +
        " uncompressed, " + Bytes(t.compressed_bytes) + " compressed";
    // The footer's totals count every record before it.
    const bool match = t.events == r.events && t.process_events == r.process_events &&
                       t.cow_events == r.cow_events && t.snapshot_chunks == r.snapshot_chunks &&
                       t.records + 1 == r.records;
    line("totals:", totals + (match ? "" : " (differs from the records read)"));
    line("changes:", std::to_string(f.changes.size()));
    for (const auto& c : f.changes)
      out += std::string("  ") + ChangeLetter(c.kind) + " " + Quote(c.path) + "\n";
  } else {
    line("footer:", "missing");
  }

  const trace::ReaderStats& s = r.reader;
  char buf[160];
  const double ratio =
      s.compressed_bytes ? static_cast<double>(s.decompressed_bytes) / s.compressed_bytes : 0.0;
  std::snprintf(buf, sizeof buf, "%" PRIu64 " data frames, %s compressed, %s decompressed (%.1fx)",
                s.frames, Bytes(s.compressed_bytes).c_str(), Bytes(s.decompressed_bytes).c_str(),
                ratio);
  std::string frames = buf;
  if (r.records) {
    std::snprintf(buf, sizeof buf, ", %.1f B/record compressed",
                  static_cast<double>(s.compressed_bytes) / static_cast<double>(r.records));
    frames += buf;
  }
  if (s.unknown_records)
    frames += ", " + std::to_string(s.unknown_records) + " unknown records skipped";
  line("frames:", frames);
  line("index:", r.has_index ? std::to_string(r.index_entries) + " entries covering " +
                                   std::to_string(r.index_frames) + " frames"
                             : "none (" + r.index_problem + ")");
  std::string end;
  if (!r.error.empty()) {
    end = "damaged: " + r.error;
  } else if (!r.warning.empty()) {
    end = "stopped early: " + r.warning;
  } else if (!r.footer) {
    end = "no footer";
  } else if (!r.footer->clean_end) {
    end = "footer written, but the recorder did not finish normally";
  } else {
    end = "clean";
  }
  if (!r.clean() && r.last_good_seq)
    end += " (last complete event #" + std::to_string(*r.last_good_seq) + ")";
  line("end:", end);
  return out;
}

std::string InfoJson(const InfoReport& r) {
  trace::JsonEncoder encoder;
  std::string out;
  JsonOut j(encoder, out);
  j.BeginObject();
  j.Key("file").String(r.file);
  j.Key("fileBytes").Uint(r.file_size);
  j.Key("header").Raw(encoder.Record(trace::Record(r.header)));
  if (r.footer) {
    j.Key("footer").Raw(encoder.Record(trace::Record(*r.footer)));
  } else {
    j.Key("footer").Null();
  }
  j.Key("counted").BeginObject();
  j.Key("records").Uint(r.records);
  j.Key("events").Uint(r.events);
  j.Key("processEvents").Uint(r.process_events);
  j.Key("cowEvents").Uint(r.cow_events);
  j.Key("snapshotChunks").Uint(r.snapshot_chunks);
  j.Key("snapshotEntries").Uint(r.snapshot_entries);
  j.Key("snapshotBlobs").Uint(r.snapshot_blobs);
  j.Key("snapshotBlobBytes").Uint(r.snapshot_blob_bytes);
  j.Key("decisions").BeginObject();
  j.Key("unknown").Uint(r.decisions[0]);
  j.Key("continue").Uint(r.decisions[1]);
  j.Key("return").Uint(r.decisions[2]);
  j.Key("errno").Uint(r.decisions[3]);
  j.Key("inject").Uint(r.decisions[4]);
  j.Key("restart").Uint(r.decisions[5]);
  j.EndObject();
  if (r.first_seq) {
    j.Key("firstSeq").Uint(*r.first_seq);
    j.Key("lastSeq").Uint(*r.last_seq);
    j.Key("spanNs").Uint(r.last_event_ns - r.first_event_ns);
  }
  j.Key("threads").Uint(r.threads);
  j.EndObject();
  j.Key("frames").BeginObject();
  j.Key("dataFrames").Uint(r.reader.frames);
  j.Key("compressedBytes").Uint(r.reader.compressed_bytes);
  j.Key("decompressedBytes").Uint(r.reader.decompressed_bytes);
  j.Key("unknownRecords").Uint(r.reader.unknown_records);
  j.EndObject();
  j.Key("index").BeginObject();
  j.Key("present").Bool(r.has_index);
  j.Key("entries").Uint(r.index_entries);
  j.Key("frames").Uint(r.index_frames);
  if (!r.has_index) j.Key("problem").String(r.index_problem);
  j.EndObject();
  j.Key("clean").Bool(r.clean());
  if (!r.warning.empty()) j.Key("warning").String(r.warning);
  if (!r.error.empty()) j.Key("error").String(r.error);
  if (r.last_good_seq) j.Key("lastGoodSeq").Uint(*r.last_good_seq);
  j.EndObject();
  out += '\n';
  return out;
}

}  // namespace sandtrace::inspect
