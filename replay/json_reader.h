// A small JSON reader for the saved timing reports `--baseline` compares
// against (replay/timing.h). Writing JSON goes through inspect::JsonOut;
// reading needs only this: RFC 8259 values, with a nesting limit and a size
// limit so a hostile file cannot exhaust the stack or memory.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tracer/base/result.h"

namespace sandtrace::replay {

class JsonValue {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_array() const { return type_ == Type::kArray; }
  double number() const { return number_; }
  bool boolean() const { return boolean_; }
  const std::string& string() const { return string_; }
  const std::vector<JsonValue>& items() const { return items_; }
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }
  // The member `key` of an object, or nullptr.
  const JsonValue* Find(std::string_view key) const;

  // Parses a whole document. EINVAL with "line L column C: why".
  static Result<JsonValue> Parse(std::string_view text);

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool boolean_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

}  // namespace sandtrace::replay
