#include "formats/json.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>
#include <kj/encoding.h>

#include <cstring>
#include <variant>

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
        input.getObject()[0].getName() == "base64" &&
        input.getObject()[0].getValue().isString()) {
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

  Impl() {
    codec.addTypeHandler(data_handler);
    codec.addTypeHandler(text_handler);
  }
};

JsonEncoder::JsonEncoder() : impl_(std::make_unique<Impl>()) {}
JsonEncoder::~JsonEncoder() = default;

std::string JsonEncoder::Record(const trace::Record& record,
                                std::span<const JsonExtraField> extra) {
  try {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::Record>();
    std::visit([&](const auto& r) { internal::Encode(r, root); }, record);

    capnp::MallocMessageBuilder json_message;
    auto value = json_message.initRoot<capnp::JsonValue>();
    if (extra.empty()) {
      impl_->codec.encode(root.asReader(), value);
    } else {
      // Encode the record, then copy its members into a larger object that
      // also holds the extra fields.
      auto encoded = json_message.getOrphanage().newOrphan<capnp::JsonValue>();
      impl_->codec.encode(root.asReader(), encoded.get());
      auto members = encoded.getReader().getObject();
      auto object = value.initObject(members.size() + extra.size());
      for (unsigned i = 0; i < members.size(); ++i) {
        object[i].setName(members[i].getName());
        object[i].setValue(members[i].getValue());
      }
      for (size_t i = 0; i < extra.size(); ++i) {
        auto field = object[members.size() + i];
        auto name = field.initName(extra[i].first.size());
        if (!extra[i].first.empty()) std::memcpy(name.begin(), extra[i].first.data(), name.size());
        SetString(field.initValue(),
                  kj::ArrayPtr<const char>(extra[i].second.data(), extra[i].second.size()));
      }
    }
    kj::String out = impl_->codec.encodeRaw(value.asReader());
    return std::string(out.cStr(), out.size());
  } catch (const kj::Exception& e) {
    // Every record we decoded re-encodes; failing here is a bug.
    throw Fatal(std::string("JSON encoding failed: ") + e.getDescription().cStr());
  }
}

std::string JsonEncoder::String(std::string_view text) {
  try {
    capnp::MallocMessageBuilder message(64);
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
