#include "formats/json.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>
#include <kj/encoding.h>

#include <cstring>
#include <variant>
#include <vector>

#include "formats/codec.h"
#include "tracer/base/errors.h"

namespace sandtrace::trace {
namespace {

bool IsValidUtf8(kj::ArrayPtr<const char> text) {
  // Fast path: plain ASCII (nearly every path) needs no decoding.
  bool ascii = true;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  return ascii || !kj::encodeUtf16(text).hadErrors;
}

// Sets `out` to a JSON string holding `text`, replacing invalid UTF-8 with
// U+FFFD (the round trip through UTF-16 does the replacing).
void SetString(capnp::JsonValue::Builder out, kj::ArrayPtr<const char> text) {
  if (IsValidUtf8(text)) {
    auto s = out.initString(text.size());
    if (text.size() > 0) std::memcpy(s.begin(), text.begin(), text.size());
  } else {
    out.setString(kj::decodeUtf16(kj::encodeUtf16(text)));
  }
}

// Data as a JSON string when it is valid UTF-8, else {"base64": "..."}: a
// path or argv entry stays readable and nothing is lost either way.
class DataHandler final : public capnp::JsonCodec::Handler<capnp::Data> {
 public:
  void encode(const capnp::JsonCodec&, capnp::Data::Reader input,
              capnp::JsonValue::Builder output) const override {
    auto chars = input.asChars();
    if (IsValidUtf8(chars)) {
      SetString(output, chars);
      return;
    }
    auto field = output.initObject(1)[0];
    field.setName("base64");
    field.initValue().setString(kj::encodeBase64(input));
  }

  capnp::Orphan<capnp::Data> decode(const capnp::JsonCodec&, capnp::JsonValue::Reader input,
                                    capnp::Orphanage orphanage) const override {
    if (input.isString()) {
      auto text = input.getString();
      return orphanage.newOrphanCopy(capnp::Data::Reader(text.asBytes()));
    }
    if (input.isObject() && input.getObject().size() == 1 &&
        input.getObject()[0].getName() == "base64" && input.getObject()[0].getValue().isString()) {
      auto bytes = kj::decodeBase64(input.getObject()[0].getValue().getString());
      KJ_REQUIRE(!bytes.hadErrors, "invalid base64 in a Data field");
      return orphanage.newOrphanCopy(capnp::Data::Reader(bytes));
    }
    KJ_FAIL_REQUIRE("a Data field must be a string or {\"base64\": ...}");
  }
};

// Text is UTF-8 by contract, but a hostile trace may break the contract and
// the codec copies bytes through: replace invalid sequences so every line we
// print is valid JSON.
class TextHandler final : public capnp::JsonCodec::Handler<capnp::Text> {
 public:
  void encode(const capnp::JsonCodec&, capnp::Text::Reader input,
              capnp::JsonValue::Builder output) const override {
    SetString(output, input);
  }

  capnp::Orphan<capnp::Text> decode(const capnp::JsonCodec&, capnp::JsonValue::Reader input,
                                    capnp::Orphanage orphanage) const override {
    KJ_REQUIRE(input.isString(), "a Text field must be a string");
    return orphanage.newOrphanCopy(input.getString());
  }
};

}  // namespace

struct JsonEncoder::Impl {
  capnp::JsonCodec codec;
  DataHandler data_handler;
  TextHandler text_handler;

  // Reused first segments for the messages built per record, so the
  // common case allocates no segment (MallocMessageBuilder wants them zeroed).
  std::vector<capnp::word> record_scratch = std::vector<capnp::word>(1024);
  std::vector<capnp::word> json_scratch = std::vector<capnp::word>(2048);
  std::vector<capnp::word> string_scratch = std::vector<capnp::word>(64);

  Impl() {
    codec.addTypeHandler(data_handler);
    codec.addTypeHandler(text_handler);
  }

  static kj::ArrayPtr<capnp::word> Scratch(std::vector<capnp::word>& words) {
    std::memset(words.data(), 0, words.size() * sizeof(capnp::word));
    return kj::ArrayPtr<capnp::word>(words.data(), words.size());
  }
};

JsonEncoder::JsonEncoder() : impl_(std::make_unique<Impl>()) {}
JsonEncoder::~JsonEncoder() = default;

std::string JsonEncoder::Record(const trace::Record& record,
                                std::span<const JsonExtraField> extra) {
  try {
    capnp::MallocMessageBuilder message(impl_->Scratch(impl_->record_scratch));
    auto root = message.initRoot<schema::Record>();
    std::visit([&](const auto& r) { internal::Encode(r, root); }, record);

    capnp::MallocMessageBuilder json_message(impl_->Scratch(impl_->json_scratch));
    auto value = json_message.initRoot<capnp::JsonValue>();
    impl_->codec.encode(root.asReader(), value);
    kj::String encoded = impl_->codec.encodeRaw(value.asReader());
    std::string out(encoded.cStr(), encoded.size());
    if (!extra.empty()) {
      // The record is one object: put the extra members before its closing
      // brace (each value encoded by String()).
      out.pop_back();
      for (const auto& [key, text] : extra) {
        out += ',';
        out += String(key);
        out += ':';
        out += String(text);
      }
      out += '}';
    }
    return out;
  } catch (const kj::Exception& e) {
    // Every record we decoded re-encodes; failing here is a bug.
    throw Fatal(std::string("JSON encoding failed: ") + e.getDescription().cStr());
  }
}

std::string JsonEncoder::String(std::string_view text) {
  // Fast path: printable ASCII other than '"' and '\\' reads the same inside
  // quotes, so there is nothing for the codec to do.
  bool plain = true;
  for (char c : text) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    out += text;
    out += '"';
    return out;
  }
  try {
    capnp::MallocMessageBuilder message(impl_->Scratch(impl_->string_scratch));
    auto value = message.initRoot<capnp::JsonValue>();
    SetString(value, kj::ArrayPtr<const char>(text.data(), text.size()));
    kj::String out = impl_->codec.encodeRaw(value.asReader());
    return std::string(out.cStr(), out.size());
  } catch (const kj::Exception& e) {
    throw Fatal(std::string("JSON encoding failed: ") + e.getDescription().cStr());
  }
}

std::string RecordToJson(const Record& record) {
  JsonEncoder encoder;
  return encoder.Record(record);
}

}  // namespace sandtrace::trace
