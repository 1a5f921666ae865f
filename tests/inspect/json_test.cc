// formats/json.h (Cap'n Proto's JSON codec) and the JsonOut writer.
#include "formats/json.h"

#include <gtest/gtest.h>

#include "replay/inspect/json_out.h"
#include "tracer/base/errors.h"

namespace sandtrace {
namespace {

TEST(InspectJson, StringsAreEscapedByTheCodec) {
  trace::JsonEncoder json;
  EXPECT_EQ(json.String("plain"), "\"plain\"");
  EXPECT_EQ(json.String("a\"b\\c\nd\te"), "\"a\\\"b\\\\c\\nd\\te\"");
  EXPECT_EQ(json.String(std::string("\x01", 1)), "\"\\u0001\"");
  EXPECT_EQ(json.String("µs"), "\"µs\"");
  // Not UTF-8: replaced, so the output stays valid JSON.
  EXPECT_EQ(json.String("a\xff"
                        "b"),
            "\"a\xef\xbf\xbd"
            "b\"");
  EXPECT_EQ(json.String(std::string("nul\0in", 6)).size(), std::string("\"nul\\u0000in\"").size());
}

TEST(InspectJson, RecordUsesSchemaNamesAndBase64ForBinaryData) {
  trace::EventRecord e;
  e.seq = 12;
  e.tid = 41000;
  e.nr = 257;
  e.decision.kind = trace::DecisionKind::kInjectFd;
  e.decision.file = {trace::FileRoot::kLower, "src/main.c", 0, 0, 3};
  trace::TraceeCall read;
  read.kind = trace::TraceeCallKind::kReadString;
  read.bytes = "weird\xff";
  e.calls.push_back(read);
  const std::string line = trace::RecordToJson(e);
  EXPECT_EQ(line.rfind("{\"event\":{", 0), 0u) << line;
  EXPECT_NE(line.find("\"seq\":\"12\""), std::string::npos) << line;  // 64-bit: a string
  EXPECT_NE(line.find("\"tid\":41000"), std::string::npos) << line;
  EXPECT_NE(line.find("\"injectFd\":{\"root\":\"lower\",\"path\":\"src/main.c\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"bytes\":{\"base64\":\"d2VpcmT/\"}"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(InspectJson, ExtraFieldsFollowTheRecord) {
  trace::JsonEncoder json;
  trace::ProcessRecord p;
  p.kind = trace::ProcessEventKind::kExit;
  const std::array<trace::JsonExtraField, 2> extra = {{{"syscall", "x\"y"}, {"k", ""}}};
  const std::string line = json.Record(p, extra);
  EXPECT_NE(line.find("},\"syscall\":\"x\\\"y\",\"k\":\"\"}"), std::string::npos) << line;
}

TEST(InspectJson, JsonOutWritesBalancedDocuments) {
  trace::JsonEncoder json;
  std::string out;
  inspect::JsonOut j(json, out);
  j.BeginObject();
  j.Key("a").BeginArray().Uint(1).Int(-2).Double(1.5, 2).Bool(true).Null().String("s").EndArray();
  j.Key("nan").Double(0.0 / 0.0);
  j.Key("o").BeginObject().EndObject();
  j.EndObject();
  EXPECT_TRUE(j.complete());
  EXPECT_EQ(out, "{\"a\":[1,-2,1.50,true,null,\"s\"],\"nan\":null,\"o\":{}}");
}

TEST(InspectJson, JsonOutRejectsMisuse) {
  trace::JsonEncoder json;
  std::string out;
  inspect::JsonOut j(json, out);
  j.BeginObject();
  EXPECT_THROW(j.Uint(1), Fatal);  // a value without a key
  EXPECT_THROW(j.EndArray(), Fatal);
  j.Key("k");
  EXPECT_THROW(j.Key("again"), Fatal);
}

}  // namespace
}  // namespace sandtrace
