#include "replay/json_reader.h"

#include <cstdlib>

namespace sandtrace::replay {

namespace {
constexpr int kMaxDepth = 64;
constexpr size_t kMaxText = 64 << 20;
}  // namespace

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  Result<JsonValue> Document() {
    if (s_.size() > kMaxText) return Err(EINVAL, "JSON document larger than 64 MiB");
    JsonValue v;
    if (!Value(v, 0)) return Failure();
    Space();
    if (at_ != s_.size()) {
      why_ = "text after the document";
      return Failure();
    }
    return v;
  }

 private:
  Error Failure() const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Err(EINVAL,
               "line " + std::to_string(line) + " column " + std::to_string(col) + ": " + why_);
  }
  bool Fail(const char* why) {
    why_ = why;
    return false;
  }
  void Space() {
    while (at_ < s_.size() &&
           (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) {
      ++at_;
    }
  }
  bool Literal(std::string_view word) {
    if (s_.substr(at_, word.size()) != word) return Fail("unexpected character");
    at_ += word.size();
    return true;
  }

  bool Value(JsonValue& v, int depth) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    Space();
    if (at_ >= s_.size()) return Fail("unexpected end");
    char c = s_[at_];
    if (c == '{') return Object(v, depth);
    if (c == '[') return Array(v, depth);
    if (c == '"') {
      v.type_ = JsonValue::Type::kString;
      return String(v.string_);
    }
    if (c == 't') {
      v.type_ = JsonValue::Type::kBool;
      v.boolean_ = true;
      return Literal("true");
    }
    if (c == 'f') {
      v.type_ = JsonValue::Type::kBool;
      return Literal("false");
    }
    if (c == 'n') return Literal("null");
    return Number(v);
  }

  bool Number(JsonValue& v) {
    size_t start = at_;
    if (at_ < s_.size() && s_[at_] == '-') ++at_;
    auto digits = [&] {
      size_t d = at_;
      while (at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9') ++at_;
      return at_ > d;
    };
    if (!digits()) return Fail("bad number");
    if (at_ < s_.size() && s_[at_] == '.') {
      ++at_;
      if (!digits()) return Fail("bad number");
    }
    if (at_ < s_.size() && (s_[at_] == 'e' || s_[at_] == 'E')) {
      ++at_;
      if (at_ < s_.size() && (s_[at_] == '+' || s_[at_] == '-')) ++at_;
      if (!digits()) return Fail("bad number");
    }
    std::string text(s_.substr(start, at_ - start));
    v.type_ = JsonValue::Type::kNumber;
    v.number_ = std::strtod(text.c_str(), nullptr);
    return true;
  }

  static void Utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  bool Hex4(uint32_t& out) {
    if (at_ + 4 > s_.size()) return Fail("bad \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[at_++];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Fail("bad \\u escape");
      }
    }
    return true;
  }

  bool String(std::string& out) {
    ++at_;  // the opening quote
    while (at_ < s_.size()) {
      char c = s_[at_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= s_.size()) break;
      char e = s_[at_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00 && s_.substr(at_, 2) == "\\u") {
            at_ += 2;
            uint32_t lo = 0;
            if (!Hex4(lo)) return false;
            if (lo >= 0xdc00 && lo < 0xe000) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          Utf8(cp, out);
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
    return Fail("unterminated string");
  }

  bool Array(JsonValue& v, int depth) {
    v.type_ = JsonValue::Type::kArray;
    ++at_;
    Space();
    if (at_ < s_.size() && s_[at_] == ']') {
      ++at_;
      return true;
    }
    for (;;) {
      v.items_.emplace_back();
      if (!Value(v.items_.back(), depth + 1)) return false;
      Space();
      if (at_ >= s_.size()) return Fail("unterminated array");
      char c = s_[at_++];
      if (c == ']') return true;
      if (c != ',') return Fail("expected , or ]");
    }
  }

  bool Object(JsonValue& v, int depth) {
    v.type_ = JsonValue::Type::kObject;
    ++at_;
    Space();
    if (at_ < s_.size() && s_[at_] == '}') {
      ++at_;
      return true;
    }
    for (;;) {
      Space();
      if (at_ >= s_.size() || s_[at_] != '"') return Fail("expected a member name");
      std::string key;
      if (!String(key)) return false;
      Space();
      if (at_ >= s_.size() || s_[at_] != ':') return Fail("expected :");
      ++at_;
      v.members_.emplace_back(std::move(key), JsonValue());
      if (!Value(v.members_.back().second, depth + 1)) return false;
      Space();
      if (at_ >= s_.size()) return Fail("unterminated object");
      char c = s_[at_++];
      if (c == '}') return true;
      if (c != ',') return Fail("expected , or }");
    }
  }

  std::string_view s_;
  size_t at_ = 0;
  std::string why_;
};

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Result<JsonValue> JsonValue::Parse(std::string_view text) { return JsonParser(text).Document(); }

}  // namespace sandtrace::replay
