// `trace info`: what a trace file holds, in one screen: the header
// (versions, kernel, features, argv, workdir, policy), the footer (totals,
// exit status, clean end or where the trace stopped), the change list, and
// frame and index statistics. Reads the whole file once (streaming).
//
// Thread-safety: none; plain values and one pass per reader.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "formats/trace_reader.h"

namespace sandtrace::inspect {

struct InfoReport {
  std::string file;
  uint64_t file_size = 0;
  trace::HeaderRecord header;
  std::optional<trace::FooterRecord> footer;

  // Counted while reading (compare with the footer's totals).
  uint64_t records = 0;
  uint64_t events = 0;
  uint64_t process_events = 0;
  uint64_t cow_events = 0;
  uint64_t snapshot_chunks = 0;
  uint64_t snapshot_entries = 0;
  uint64_t snapshot_blobs = 0;
  uint64_t snapshot_blob_bytes = 0;
  std::array<uint64_t, trace::kDecisionKinds> decisions{};  // by trace::DecisionKind
  std::optional<uint64_t> first_seq, last_seq;
  uint64_t first_event_ns = 0, last_event_ns = 0;
  uint64_t threads = 0;

  trace::ReaderStats reader;
  bool has_index = false;
  uint64_t index_entries = 0;
  uint64_t index_frames = 0;
  std::string index_problem;

  std::string warning;  // truncated or unfinished tail
  std::optional<uint64_t> last_good_seq;
  std::string error;  // a read error that stopped the scan

  // Clean: a footer with cleanEnd, no warning, no error.
  bool clean() const;
};

// Reads `reader` (just opened) to the end. Never fails: a read error is
// kept in `error` with everything read before it.
InfoReport CollectInfo(trace::TraceReader& reader);

std::string InfoText(const InfoReport& report);
// One JSON object (ends with a newline).
std::string InfoJson(const InfoReport& report);

}  // namespace sandtrace::inspect
