// JSON renderings of trace records, produced by Cap'n Proto's own JSON codec
// (libcapnp-json) from the schema in formats/trace.capnp, so that no string
// is escaped by hand and the field names are the schema's (camelCase, as
// `capnp decode` prints them).
//
// Conventions of the output (the codec's, plus one handler of ours):
//  - one JSON object per record: {"event": {...}}, {"header": {...}}, ...;
//  - 64-bit integers are JSON strings ("seq": "12"), since a JSON number (a
//    double) cannot hold every 64-bit value; 32-bit ones are numbers;
//  - enums are their schema names ("injectFd", "lower");
//  - Data fields (paths, argv, memory contents) that are valid UTF-8 are
//    JSON strings; any other bytes become {"base64": "..."} so nothing is
//    lost;
//  - Event times are stored as in the schema: receivedNs plus the deltas.
//
// Thread-safety: a JsonEncoder is not thread-safe; use one per thread.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "formats/records.h"

namespace sandtrace::trace {

// A top-level string field appended to a record's object: {key: "value"}.
using JsonExtraField = std::pair<std::string_view, std::string_view>;

class JsonEncoder {
 public:
  JsonEncoder();
  ~JsonEncoder();
  JsonEncoder(const JsonEncoder&) = delete;
  JsonEncoder& operator=(const JsonEncoder&) = delete;

  // `record` as one line of JSON (no trailing newline), with `extra` fields
  // added after the record's own member (e.g. {"syscall": "openat"}).
  std::string Record(const trace::Record& record, std::span<const JsonExtraField> extra = {});

  // A JSON string literal (with its quotes) holding `text`. Bytes that are
  // not valid UTF-8 are replaced by U+FFFD: for display only, not lossless.
  std::string String(std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience for one-off use (builds a JsonEncoder each call).
std::string RecordToJson(const Record& record);

}  // namespace sandtrace::trace
