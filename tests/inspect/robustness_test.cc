// Every inspect entry point on traces full of odd but well-formed records
// (unknown arches and syscall numbers, every call and decision kind, binary
// strings, times out of order): nothing may throw, crash or hang.
#include <gtest/gtest.h>
#include <linux/audit.h>

#include <sstream>

#include "replay/inspect/chrome_export.h"
#include "replay/inspect/diff.h"
#include "replay/inspect/dump.h"
#include "replay/inspect/info.h"
#include "replay/inspect/stats.h"
#include "replay/inspect/trace_open.h"
#include "tests/inspect/golden_traces.h"
#include "tests/inspect/test_util.h"

namespace sandtrace::inspect {
namespace {

using Records = std::vector<trace::Record>;

class Rng {
 public:
  explicit Rng(uint64_t seed) : x_(seed * 2654435761u + 1) {}
  uint64_t Next() {
    x_ ^= x_ << 13;
    x_ ^= x_ >> 7;
    x_ ^= x_ << 17;
    return x_;
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  std::string Bytes(size_t max) {
    std::string s(Below(max + 1), '\0');
    for (char& c : s) c = static_cast<char>(Next());
    return s;
  }

 private:
  uint64_t x_;
};

Records OddTrace(uint64_t seed) {
  Rng rng(seed);
  Records records;
  trace::HeaderRecord h;
  h.arch = rng.Below(2) ? AUDIT_ARCH_X86_64 : static_cast<uint32_t>(rng.Next());
  h.argv = {rng.Bytes(20), rng.Bytes(5)};
  h.workdir = rng.Bytes(10);
  h.start_monotonic_ns = rng.Below(3) ? rng.Next() : 0;
  records.push_back(h);
  for (int i = 0; i < 300; ++i) {
    const uint64_t what = rng.Below(10);
    if (what < 7) {
      trace::EventRecord e;
      e.seq = rng.Below(4) ? static_cast<uint64_t>(i) : rng.Next();
      e.tid = static_cast<uint32_t>(rng.Below(5));
      e.arch = rng.Below(4) ? AUDIT_ARCH_X86_64 : static_cast<uint32_t>(rng.Next());
      e.nr = static_cast<int32_t>(rng.Below(600)) - 5;
      for (auto& a : e.args) a = rng.Below(3) ? rng.Below(0x1000) : rng.Next();
      e.received_ns = rng.Next();
      e.handler_start_ns = rng.Next();
      e.handler_end_ns = rng.Next();
      e.response_sent_ns = rng.Next();
      for (uint64_t c = rng.Below(5); c > 0; --c) {
        trace::TraceeCall call;
        call.kind = static_cast<trace::TraceeCallKind>(rng.Below(11));
        call.addr = rng.Below(2) ? e.args[rng.Below(6)] : rng.Next();
        call.error = static_cast<int32_t>(rng.Below(3) ? 0 : rng.Below(200));
        call.result = rng.Next();
        call.bytes = rng.Bytes(70);
        call.link = static_cast<trace::ProcLink>(rng.Below(5));
        call.file.path = rng.Bytes(10);
        call.file.root = static_cast<trace::FileRoot>(rng.Below(4));
        e.calls.push_back(call);
      }
      e.decision.kind = static_cast<trace::DecisionKind>(rng.Below(5));
      e.decision.value = static_cast<int64_t>(rng.Next());
      e.decision.error = static_cast<int32_t>(rng.Below(5000));
      e.decision.file.root = static_cast<trace::FileRoot>(rng.Below(4));
      e.decision.file.path = rng.Bytes(30);
      e.decision.file.fd = static_cast<int32_t>(rng.Next());
      e.outcome = static_cast<trace::ResponseOutcome>(rng.Below(5));
      if (rng.Below(5) == 0) e.restart_of_seq = rng.Next();
      if (e.decision.kind != trace::DecisionKind::kReturn) e.decision.value = 0;
      if (e.decision.kind != trace::DecisionKind::kErrno) e.decision.error = 0;
      if (e.decision.kind != trace::DecisionKind::kInjectFd) e.decision.file = {};
      records.push_back(e);
    } else if (what < 9) {
      trace::ProcessRecord p;
      p.kind = static_cast<trace::ProcessEventKind>(rng.Below(5));
      p.pid = static_cast<uint32_t>(rng.Below(6));
      p.exec_path = rng.Bytes(12);
      p.argv = {rng.Bytes(8)};
      p.exit_status = static_cast<int32_t>(rng.Below(300));
      p.signal = static_cast<int32_t>(rng.Below(3) ? 0 : rng.Below(80));
      p.timestamp_ns = rng.Next();
      records.push_back(p);
    } else {
      trace::CowRecord c;
      c.kind = static_cast<trace::CowEventKind>(rng.Below(9));
      c.path = rng.Bytes(12);
      c.detail = rng.Bytes(12);
      if (rng.Below(2)) c.event_seq = rng.Next();
      c.timestamp_ns = rng.Next();
      records.push_back(c);
    }
  }
  if (rng.Below(2)) {
    trace::FooterRecord f;
    f.changes = {{trace::ChangeKind::kAdded, rng.Bytes(10)}};
    f.signal = static_cast<int32_t>(rng.Below(70));
    records.push_back(f);
  }
  return records;
}

TEST(InspectRobustness, OddRecordsNeverBreakTheTools) {
  inspect_test::TempDir dir;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string a = dir.File("a.capnp"), b = dir.File("b.capnp");
    ASSERT_TRUE(inspect_test::WriteRecords(a, OddTrace(seed)).ok());
    ASSERT_TRUE(inspect_test::WriteRecords(b, OddTrace(seed + 100)).ok());
    auto open = [&](const std::string& path) {
      auto r = OpenTrace(path);
      EXPECT_TRUE(r.ok());
      return std::move(*r);
    };
    for (bool json : {false, true}) {
      DumpOptions options;
      options.json = json;
      options.text.show_seq = options.text.show_time = true;
      std::ostringstream out;
      auto reader = open(a);
      EXPECT_TRUE(Dump(*reader, options, out).ok());
      EXPECT_FALSE(out.str().empty());
    }
    DumpOptions filtered;
    filtered.filter.expressions = {"trace=%file,%desc"};
    filtered.filter.paths = {"*"};
    filtered.filter.from = "10ms";
    std::ostringstream ignored;
    auto r1 = open(a);
    EXPECT_TRUE(Dump(*r1, filtered, ignored).ok());
    auto r2 = open(a);
    auto stats = CollectStats(*r2, {}, StatsSort::kP99);
    ASSERT_TRUE(stats.ok());
    EXPECT_FALSE(StatsText(*stats).empty());
    EXPECT_FALSE(StatsJson(*stats).empty());
    auto r3 = open(a);
    InfoReport info = CollectInfo(*r3);
    EXPECT_TRUE(info.error.empty()) << info.error;
    EXPECT_FALSE(InfoText(info).empty());
    EXPECT_FALSE(InfoJson(info).empty());
    auto r4 = open(a);
    std::ostringstream chrome;
    EXPECT_TRUE(ExportChrome(*r4, chrome).ok());
    auto ra = open(a), rb = open(b);
    auto diff = DiffTraces(*ra, *rb, {});
    ASSERT_TRUE(diff.ok());
    EXPECT_FALSE(diff->same());
    EXPECT_FALSE(DiffText(*diff, "a", "b").empty());
    auto rc = open(a), rd = open(a);
    auto self = DiffTraces(*rc, *rd, {});
    ASSERT_TRUE(self.ok());
    EXPECT_TRUE(self->same()) << DiffText(*self, "a", "a");
  }
}

}  // namespace
}  // namespace sandtrace::inspect
