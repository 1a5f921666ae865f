#include "replay/inspect/json_out.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "tracer/base/errors.h"

namespace sandtrace::inspect {

void JsonOut::BeforeValue() {
  if (stack_.empty()) {
    if (started_) throw Fatal("JsonOut: a second top-level value");
    started_ = true;
    return;
  }
  Level& top = stack_.back();
  if (top.object) {
    if (!top.key_pending) throw Fatal("JsonOut: a value in an object without a key");
    top.key_pending = false;
    return;
  }
  if (top.has_items) out_ += ',';
  top.has_items = true;
}

JsonOut& JsonOut::BeginObject() {
  BeforeValue();
  out_ += '{';
  stack_.push_back({true});
  return *this;
}

JsonOut& JsonOut::EndObject() {
  if (stack_.empty() || !stack_.back().object || stack_.back().key_pending) {
    throw Fatal("JsonOut: unbalanced EndObject");
  }
  stack_.pop_back();
  out_ += '}';
  return *this;
}

JsonOut& JsonOut::BeginArray() {
  BeforeValue();
  out_ += '[';
  stack_.push_back({false});
  return *this;
}

JsonOut& JsonOut::EndArray() {
  if (stack_.empty() || stack_.back().object) throw Fatal("JsonOut: unbalanced EndArray");
  stack_.pop_back();
  out_ += ']';
  return *this;
}

JsonOut& JsonOut::Key(std::string_view key) {
  if (stack_.empty() || !stack_.back().object || stack_.back().key_pending) {
    throw Fatal("JsonOut: a key outside an object");
  }
  Level& top = stack_.back();
  if (top.has_items) out_ += ',';
  top.has_items = true;
  top.key_pending = true;
  out_ += encoder_.String(key);
  out_ += ':';
  return *this;
}

JsonOut& JsonOut::String(std::string_view value) {
  BeforeValue();
  out_ += encoder_.String(value);
  return *this;
}

JsonOut& JsonOut::Uint(uint64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
  return *this;
}

JsonOut& JsonOut::Int(int64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
  return *this;
}

JsonOut& JsonOut::Double(double value, int decimals) {
  BeforeValue();
  if (!std::isfinite(value)) {
    out_ += "null";
    return *this;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  out_ += buf;
  return *this;
}

JsonOut& JsonOut::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
  return *this;
}

JsonOut& JsonOut::Null() {
  BeforeValue();
  out_ += "null";
  return *this;
}

JsonOut& JsonOut::Raw(std::string_view json) {
  BeforeValue();
  out_ += json;
  return *this;
}

}  // namespace sandtrace::inspect
