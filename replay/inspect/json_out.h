// JsonOut: writes a JSON document piece by piece into a string, for the
// reports (stats, info, the Chrome export) whose shape is ours rather than
// the schema's. Structure and numbers are written here; every string goes
// through trace::JsonEncoder::String (Cap'n Proto's codec), so nothing is
// escaped by hand.
//
// Misuse (a value where a key is due, unbalanced End*) throws Fatal.
// Thread-safety: none; one writer per document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/json.h"

namespace sandtrace::inspect {

class JsonOut {
 public:
  // Appends to `out`; `encoder` must outlive this writer.
  JsonOut(trace::JsonEncoder& encoder, std::string& out) : encoder_(encoder), out_(out) {}

  JsonOut& BeginObject();
  JsonOut& EndObject();
  JsonOut& BeginArray();
  JsonOut& EndArray();
  JsonOut& Key(std::string_view key);
  JsonOut& String(std::string_view value);
  JsonOut& Uint(uint64_t value);
  JsonOut& Int(int64_t value);
  // Fixed-point with `decimals` digits ("12.345"): JSON has no NaN, so a
  // non-finite value is written as null.
  JsonOut& Double(double value, int decimals = 3);
  JsonOut& Bool(bool value);
  JsonOut& Null();
  // A value that is already JSON (e.g. from trace::JsonEncoder::Record).
  JsonOut& Raw(std::string_view json);

  // True once every opened object and array has been closed.
  bool complete() const { return stack_.empty() && started_; }

 private:
  void BeforeValue();
  trace::JsonEncoder& encoder_;
  std::string& out_;
  struct Level {
    bool object;
    bool has_items = false;
    bool key_pending = false;
  };
  std::vector<Level> stack_;
  bool started_ = false;
};

}  // namespace sandtrace::inspect
