// Divergence detection on edited traces, and damaged or unsupported traces:
// each must be reported precisely (event, syscall, what differs), never
// crash, and unreadable input must give one clear line (exit 2).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay/replay.h"
#include "tests/replay/replay_test_util.h"

namespace sandtrace::replay {
namespace {

using replay_test::TempDir;
using replay_test::WriteFile;

// One recording shared by the suite (recording costs a sandboxed run).
class ReplayTrace : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string work = *dir_ / "workdir-of-the-trace-tests";
    mkdir(work.c_str(), 0755);
    WriteFile(work + "/a.txt", "alpha\n");
    mkdir((work + "/sub").c_str(), 0755);
    WriteFile(work + "/sub/b.txt", "beta\n");
    replay_test::RecordSpec spec;
    spec.argv = {"/bin/sh", "-c",
                 "mkdir new; echo x > new/f; cat a.txt > /dev/null; ls sub > /dev/null; "
                 "rm sub/b.txt; ls -l > /dev/null; head -c 8 /dev/urandom > r.bin"};
    spec.workdir = work;
    spec.trace = *dir_ / "good.capnp";
    spec.seed = 5;
    auto r = replay_test::RecordCow(spec);
    ASSERT_EQ(r.error, "");
    records_ = new std::vector<trace::Record>(replay_test::ReadRecords(spec.trace));
  }
  static void TearDownTestSuite() {
    delete records_;
    delete dir_;
  }
  static std::string Good() { return *dir_ / "good.capnp"; }
  // Writes `records` as a new trace and returns its path.
  std::string Write(const std::vector<trace::Record>& records, const std::string& name) {
    std::string p = out_ / name;
    replay_test::WriteRecords(p, records);
    return p;
  }
  // The index in records_ of the first event whose syscall is `name`
  // and that satisfies `pred`.
  template <class Pred>
  static size_t FindEvent(std::string_view name, Pred pred) {
    const ArchTable& t = NativeSyscalls();
    for (size_t i = 0; i < records_->size(); ++i) {
      const auto* e = std::get_if<trace::EventRecord>(&(*records_)[i]);
      if (e != nullptr && t.NameOf(e->nr) == name && pred(*e)) return i;
    }
    return SIZE_MAX;
  }

  static TempDir* dir_;
  static std::vector<trace::Record>* records_;
  TempDir out_;
};
TempDir* ReplayTrace::dir_ = nullptr;
std::vector<trace::Record>* ReplayTrace::records_ = nullptr;

TEST_F(ReplayTrace, TheUneditedTraceIsIdentical) {
  auto r = Replay(Good());
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->ExitStatus(), 0) << FormatText(*r);
  EXPECT_TRUE(r->changes_compared);
  EXPECT_GE(r->changes_recorded, 3u);  // new, new/f, sub/b.txt, r.bin
}

TEST_F(ReplayTrace, AnEditedDecisionIsTheOnlyDivergence) {
  size_t i = FindEvent("mkdir", [](const trace::EventRecord& e) {
    return e.decision.kind == trace::DecisionKind::kReturn;
  });
  ASSERT_NE(i, SIZE_MAX);
  auto records = *records_;
  auto& e = std::get<trace::EventRecord>(records[i]);
  e.decision = {};
  e.decision.kind = trace::DecisionKind::kErrno;
  e.decision.error = EACCES;
  auto r = Replay(Write(records, "edited.capnp"));
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->ExitStatus(), 1);
  ASSERT_EQ(r->diverged, 1u) << FormatText(*r);
  ASSERT_EQ(r->divergences.size(), 1u);
  const Divergence& d = r->divergences[0];
  EXPECT_EQ(d.seq, e.seq);
  EXPECT_EQ(d.tid, e.tid);
  EXPECT_EQ(d.syscall, "mkdir");
  EXPECT_NE(d.call.find("\"new\""), std::string::npos) << d.call;
  ASSERT_EQ(d.differences.size(), 1u);
  EXPECT_EQ(d.differences[0].what, "decision");
  EXPECT_EQ(d.differences[0].expected, "errno EACCES");
  EXPECT_EQ(d.differences[0].got, "return 0");
  EXPECT_EQ(r->identical, r->events - 1);
  // The text names the event, the call and both sides.
  const std::string text = FormatText(*r);
  EXPECT_NE(text.find("event #" + std::to_string(e.seq)), std::string::npos) << text;
  EXPECT_NE(text.find("expected: errno EACCES"), std::string::npos) << text;
  EXPECT_NE(text.find("verdict: diverged"), std::string::npos) << text;
  // And the JSON report says the same.
  const std::string json = FormatJson(*r);
  EXPECT_NE(json.find("\"verdict\":\"diverged\""), std::string::npos) << json;
}

TEST_F(ReplayTrace, ACutShortCallLogIsReportedAtTheMissingCall) {
  size_t i = FindEvent("openat", [](const trace::EventRecord& e) { return e.calls.size() >= 2; });
  ASSERT_NE(i, SIZE_MAX);
  auto records = *records_;
  auto& e = std::get<trace::EventRecord>(records[i]);
  const size_t keep = e.calls.size() - 1;
  const trace::TraceeCall dropped = e.calls.back();
  e.calls.resize(keep);
  auto r = Replay(Write(records, "cut.capnp"));
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->ExitStatus(), 1);
  ASSERT_GE(r->divergences.size(), 1u);
  const Divergence& d = r->divergences[0];
  EXPECT_EQ(d.seq, e.seq);
  ASSERT_FALSE(d.differences.empty());
  EXPECT_EQ(d.differences[0].what, "tracee call " + std::to_string(keep));
  EXPECT_EQ(d.differences[0].expected,
            "no further call (the trace holds " + std::to_string(keep) + ")");
  EXPECT_EQ(d.differences[0].got, DescribeCall(dropped));
}

TEST_F(ReplayTrace, AnEditedPathSendsTheHandlerElsewhere) {
  // The handlers read "a.txt" (the seed set, then the copy-on-write set);
  // the trace now says "new/f", a file of the upper layer: the open is
  // answered differently and that is reported.
  size_t i = FindEvent("openat", [](const trace::EventRecord& e) {
    return !e.calls.empty() && e.calls[0].bytes == "a.txt";
  });
  ASSERT_NE(i, SIZE_MAX);
  auto records = *records_;
  auto& e = std::get<trace::EventRecord>(records[i]);
  for (trace::TraceeCall& c : e.calls) {
    if (c.kind == trace::TraceeCallKind::kReadString && c.bytes == "a.txt") c.bytes = "new/f";
  }
  auto r = Replay(Write(records, "path.capnp"));
  ASSERT_TRUE(r.ok()) << r.error().Message();
  ASSERT_GE(r->divergences.size(), 1u) << FormatText(*r);
  EXPECT_EQ(r->divergences[0].seq, e.seq);
  EXPECT_EQ(r->divergences[0].differences.back().what, "decision") << FormatText(*r);
}

TEST_F(ReplayTrace, MaxDivergencesAndRanges) {
  auto records = *records_;
  std::vector<uint64_t> edited;
  for (auto& rec : records) {
    auto* e = std::get_if<trace::EventRecord>(&rec);
    if (e == nullptr || e->decision.kind != trace::DecisionKind::kContinue) continue;
    e->decision.kind = trace::DecisionKind::kErrno;
    e->decision.error = EPERM;
    edited.push_back(e->seq);
    if (edited.size() == 3) break;
  }
  ASSERT_EQ(edited.size(), 3u);
  const std::string t = Write(records, "three.capnp");
  ReplayOptions o;
  o.max_divergences = 2;
  auto r = Replay(t, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->diverged, 2u);
  EXPECT_TRUE(r->stopped_early);
  EXPECT_FALSE(r->changes_compared);

  o = {};
  o.from_seq = edited[1];
  o.to_seq = edited[1];
  r = Replay(t, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events, 1u);
  EXPECT_EQ(r->diverged, 1u);
  EXPECT_EQ(r->warmed_up, edited[1]) << "the events before the range are re-driven";
  ASSERT_EQ(r->divergences.size(), 1u);
  EXPECT_EQ(r->divergences[0].seq, edited[1]);

  o.cold = true;
  o.to_seq.reset();
  r = Replay(t, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->warmed_up, 0u);
  EXPECT_GE(r->diverged, 2u);
  ASSERT_FALSE(r->divergences.empty());
  EXPECT_EQ(r->divergences[0].seq, edited[1]);
}

TEST_F(ReplayTrace, TruncatedTracesReplayTheirPrefixOrSayWhyNot) {
  const std::string good = replay_test::ReadFile(Good());
  ASSERT_GT(good.size(), 1000u);
  for (size_t cut : {size_t{10}, good.size() / 4, good.size() / 2, good.size() * 9 / 10,
                     good.size() - 40, good.size() - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const std::string p = out_ / "cut.capnp";
    WriteFile(p, good.substr(0, cut));
    auto r = Replay(p);
    if (!r.ok()) {
      // Exit 2, one line saying why.
      EXPECT_FALSE(r.error().context.empty());
      EXPECT_EQ(r.error().context.find('\n'), std::string::npos) << r.error().context;
      continue;
    }
    EXPECT_NE(r->ExitStatus(), 1) << "a cut tail is not a divergence: " << FormatText(*r);
  }
  // Cut before the snapshot: this copy-on-write trace cannot be replayed.
  WriteFile(out_ / "half.capnp", good.substr(0, good.size() / 2));
  auto r = Replay(out_ / "half.capnp");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().context.find("no workdir snapshot"), std::string::npos) << r.error().context;
}

TEST_F(ReplayTrace, CorruptOrForeignFilesGiveOneLine) {
  std::string good = replay_test::ReadFile(Good());
  // A flipped byte inside the data frames.
  std::string bad = good;
  bad[bad.size() / 3] ^= 0x5a;
  WriteFile(out_ / "corrupt.capnp", bad);
  auto r = Replay(out_ / "corrupt.capnp");
  if (r.ok()) {
    EXPECT_EQ(r->ExitStatus(), 2) << FormatText(*r);
    EXPECT_FALSE(r->read_error.empty());
  } else {
    EXPECT_FALSE(r.error().context.empty());
  }
  WriteFile(out_ / "text.capnp", "this is not a trace\n");
  r = Replay(out_ / "text.capnp");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().context.find("text.capnp"), std::string::npos) << r.error().context;
  r = Replay(out_ / "missing.capnp");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().context.find("missing.capnp"), std::string::npos) << r.error().context;
}

TEST_F(ReplayTrace, UnknownHandlerSetsAndArchitecturesAreUnsupported) {
  auto records = *records_;
  auto& h = std::get<trace::HeaderRecord>(records[0]);
  h.handler_sets.push_back("probe");
  auto r = Replay(Write(records, "probe.capnp"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), EPROTONOSUPPORT);
  EXPECT_NE(r.error().context.find("\"probe\""), std::string::npos) << r.error().context;
  // A library user can supply it.
  ReplayOptions o;
  o.handler_sets["probe"] = [](std::string_view, HandlerRegistry&, SetContext&) {
    return OkStatus();
  };
  r = Replay(out_ / "probe.capnp", o);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->ExitStatus(), 0) << FormatText(*r);

  records = *records_;
  std::get<trace::HeaderRecord>(records[0]).arch = 0xc00000b7;  // AUDIT_ARCH_AARCH64
  r = Replay(Write(records, "arm.capnp"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().context.find("architecture"), std::string::npos) << r.error().context;
}

TEST_F(ReplayTrace, TimingCoversEveryEventAndTheLiveFigures) {
  ReplayOptions o;
  o.timing = true;
  o.repeat = 2;
  auto r = Replay(Good(), o);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->timing.has_value());
  const TimingReport& t = *r->timing;
  EXPECT_EQ(t.repeat, 2);
  EXPECT_EQ(t.all.replay.count, 2 * r->events);
  EXPECT_EQ(t.all.live.count, 2 * r->events);
  uint64_t sum = 0;
  for (const TimingRow& row : t.by_syscall) sum += row.replay.count;
  EXPECT_EQ(sum, t.all.replay.count);
  bool cow = false;
  for (const TimingRow& row : t.by_handler) cow |= row.name == "cow";
  EXPECT_TRUE(cow);
  EXPECT_LE(t.all.replay.p50_ns, t.all.replay.p99_ns);
  EXPECT_LE(t.all.replay.p99_ns, t.all.replay.max_ns);
  EXPECT_GT(t.replay_events_per_s, 0);
  EXPECT_GT(t.live_events_per_s, 0);
  // The JSON report is a baseline for itself (no regression against itself
  // at a 1000% threshold: this asserts the format, not the speed).
  BaselineOptions bo;
  bo.threshold = 10;
  auto self = CompareBaseline(FormatJson(*r), t, bo);
  ASSERT_TRUE(self.ok()) << self.error().context;
  EXPECT_GT(self->rows_compared, 0u);
  EXPECT_TRUE(self->regressions.empty());
}

}  // namespace
}  // namespace sandtrace::replay
