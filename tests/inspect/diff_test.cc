// trace diff (replay/inspect/diff.h): alignment and what it reports.
#include "replay/inspect/diff.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>

#include "replay/inspect/trace_open.h"
#include "tests/inspect/golden_traces.h"
#include "tests/inspect/test_util.h"

namespace sandtrace::inspect {
namespace {

using inspect_test::TempDir;
using Records = std::vector<trace::Record>;

trace::EventRecord& EventSeq(Records& records, uint64_t seq) {
  for (auto& r : records) {
    if (auto* e = std::get_if<trace::EventRecord>(&r); e && e->seq == seq) return *e;
  }
  throw std::runtime_error("no such event");
}

class DiffTest : public ::testing::Test {
 protected:
  DiffSummary Diff(const Records& a, const Records& b, DiffOptions options = {}) {
    EXPECT_TRUE(inspect_test::WriteRecords(dir_.File("a.capnp"), a).ok());
    EXPECT_TRUE(inspect_test::WriteRecords(dir_.File("b.capnp"), b).ok());
    auto ra = OpenTrace(dir_.File("a.capnp"));
    auto rb = OpenTrace(dir_.File("b.capnp"));
    EXPECT_TRUE(ra.ok() && rb.ok());
    auto s = DiffTraces(**ra, **rb, options);
    EXPECT_TRUE(s.ok());
    text_ = DiffText(*s, "a", "b");
    return *s;
  }
  TempDir dir_;
  std::string text_;
  Records base_ = inspect_test::BuildTraceRecords();
};

TEST_F(DiffTest, ATraceIsIdenticalToItself) {
  DiffSummary s = Diff(base_, base_);
  EXPECT_TRUE(s.same()) << text_;
  EXPECT_TRUE(s.entries.empty());
  EXPECT_EQ(s.events_a, 14u);
  EXPECT_EQ(s.identical, s.matched);
  EXPECT_EQ(s.matched, 14u + 5u + 3u);  // events, process events, cow events
  EXPECT_NE(text_.find("\nidentical\n"), std::string::npos) << text_;
}

TEST_F(DiffTest, PointsAtAChangedDecision) {
  Records b = base_;
  trace::EventRecord& e = EventSeq(b, 5);
  e.decision.kind = trace::DecisionKind::kReturn;
  e.decision.error = 0;
  e.decision.value = 0;
  DiffSummary s = Diff(base_, b);
  ASSERT_FALSE(s.same());
  EXPECT_EQ(s.different, 1u);
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].seq_a, 5u);
  ASSERT_EQ(s.entries[0].aspects.size(), 1u);
  EXPECT_EQ(s.entries[0].aspects[0].first, DiffKind::kDecision);
  EXPECT_NE(text_.find("#5 [5001] unlinkat(AT_FDCWD, \"build/old.o\", 0)\n"
                       "  decision: A -1 ENOENT (No such file or directory); B 0\n"),
            std::string::npos)
      << text_;
  EXPECT_NE(text_.find("\ndifferent\n"), std::string::npos) << text_;
}

TEST_F(DiffTest, PointsAtAChangedPathAsPayload) {
  Records b = base_;
  EventSeq(b, 3).calls[0].bytes = "build/other.o";
  DiffSummary s = Diff(base_, b);
  ASSERT_EQ(s.entries.size(), 1u) << text_;
  EXPECT_EQ(s.entries[0].seq_a, 3u);
  EXPECT_EQ(s.entries[0].aspects[0].first, DiffKind::kPayload) << text_;
  EXPECT_EQ(s.only_a + s.only_b, 0u);
}

TEST_F(DiffTest, PointsAtAChangedInjectedFile) {
  Records b = base_;
  EventSeq(b, 0).decision.file.root = trace::FileRoot::kUpper;
  DiffSummary s = Diff(base_, b);
  ASSERT_EQ(s.entries.size(), 1u) << text_;
  EXPECT_EQ(s.entries[0].seq_a, 0u);
  EXPECT_EQ(s.entries[0].aspects[0].first, DiffKind::kInjectedFile);
  EXPECT_NE(text_.find("injected file: A lower \"Makefile\""), std::string::npos) << text_;
}

TEST_F(DiffTest, MissingAndExtraEventsDoNotShiftTheRest) {
  Records b = base_;
  // Drop event #2 from B, and duplicate event #11 in B.
  b.erase(std::find_if(b.begin(), b.end(), [](const trace::Record& r) {
    auto* e = std::get_if<trace::EventRecord>(&r);
    return e && e->seq == 2;
  }));
  auto it = std::find_if(b.begin(), b.end(), [](const trace::Record& r) {
    auto* e = std::get_if<trace::EventRecord>(&r);
    return e && e->seq == 11;
  });
  b.insert(it, *it);
  DiffSummary s = Diff(base_, b);
  EXPECT_EQ(s.only_a, 1u) << text_;
  EXPECT_EQ(s.only_b, 1u) << text_;
  EXPECT_EQ(s.different, 0u) << text_;
  EXPECT_EQ(s.identical, 14u + 5u + 3u - 1u);
  EXPECT_NE(text_.find("only in A: #2 [5001] openat(AT_FDCWD, \"src/main.c\", O_RDONLY)"),
            std::string::npos)
      << text_;
  EXPECT_NE(text_.find("only in B: #11 [5000] chdir(\"src\")"), std::string::npos) << text_;
}

TEST_F(DiffTest, TidsAreMappedAndInterleavingIsIgnored) {
  Records b = base_;
  for (auto& r : b) {
    if (auto* e = std::get_if<trace::EventRecord>(&r)) e->tid += 100;
    if (auto* p = std::get_if<trace::ProcessRecord>(&r)) p->pid += 100;
  }
  // Swap two adjacent events of different threads (#6 is tid 5000, #5 5001).
  auto pos = [&](uint64_t seq) {
    return std::find_if(b.begin(), b.end(), [seq](const trace::Record& r) {
      auto* e = std::get_if<trace::EventRecord>(&r);
      return e && e->seq == seq;
    });
  };
  std::iter_swap(pos(5), pos(6));
  DiffSummary s = Diff(base_, b);
  EXPECT_TRUE(s.same()) << text_;

  DiffOptions literal;
  literal.map_tids = false;
  DiffSummary s2 = Diff(base_, b, literal);
  EXPECT_FALSE(s2.same());
  // Nothing pairs up by raw tid; only the cow events (no tid) still align.
  EXPECT_EQ(s2.only_a, 14u + 5u);
  EXPECT_EQ(s2.only_b, 14u + 5u);
  EXPECT_EQ(s2.matched, 3u);
}

TEST_F(DiffTest, ThreadsArePairedByWhatTheyDoNotByWhenTheyAppear) {
  Records b = base_;
  // In B the child's first syscall comes before anything of the parent, so
  // the order of first appearance is reversed; the threads' work is not.
  auto it = std::find_if(b.begin(), b.end(), [](const trace::Record& r) {
    auto* e = std::get_if<trace::EventRecord>(&r);
    return e && e->seq == 2;
  });
  trace::Record moved = *it;
  b.erase(it);
  b.insert(b.begin() + 2, moved);  // after the header and the snapshot
  DiffSummary s = Diff(base_, b);
  EXPECT_TRUE(s.same()) << text_;
}

TEST_F(DiffTest, RunSpecificValuesAreNotDifferences) {
  Records a = base_, b = base_;
  auto& ha = std::get<trace::HeaderRecord>(a[0]);
  auto& hb = std::get<trace::HeaderRecord>(b[0]);
  ha.policy.options.push_back({"storage", "/tmp/sandtrace-0/run-AAAA"});
  hb.policy.options.push_back({"storage", "/tmp/sandtrace-0/run-BBBBBB"});
  // Pids differ between the runs, as do the storage directory and inodes.
  for (auto& r : b) {
    if (auto* e = std::get_if<trace::EventRecord>(&r)) e->tid += 100;
    if (auto* p = std::get_if<trace::ProcessRecord>(&r)) p->pid += 100;
  }
  auto add_calls = [](Records& records, uint32_t pid, const std::string& storage, ino_t ino,
                      off_t size) {
    trace::EventRecord& e = EventSeq(records, 1);  // newfstatat by the main thread
    trace::TraceeCall ids;
    ids.kind = trace::TraceeCallKind::kReadProcIds;
    ids.tgid = static_cast<int32_t>(pid);
    ids.ppid = 1;
    ids.start_time = pid * 7;
    trace::TraceeCall link;
    link.kind = trace::TraceeCallKind::kReadProcLink;
    link.link = trace::ProcLink::kFd;
    link.fd = 3;
    link.bytes = storage + "/upper/build";
    struct stat st {};
    st.st_ino = ino;
    st.st_size = size;
    trace::TraceeCall out;
    out.kind = trace::TraceeCallKind::kWriteMemory;
    out.addr = e.args[2];
    out.bytes.assign(reinterpret_cast<const char*>(&st), sizeof st);
    out.result = sizeof st;
    e.calls.insert(e.calls.begin(), {ids, link, out});
  };
  add_calls(a, 5000, "/tmp/sandtrace-0/run-AAAA", 11, 100);
  add_calls(b, 5100, "/tmp/sandtrace-0/run-BBBBBB", 22, 100);
  DiffSummary s = Diff(a, b);
  EXPECT_TRUE(s.same()) << text_;

  // A real difference in the same buffer still shows.
  Records c = base_;
  std::get<trace::HeaderRecord>(c[0]).policy.options.push_back({"storage", "/s"});
  add_calls(c, 5000, "/s", 11, 101);
  DiffSummary s2 = Diff(a, c);
  ASSERT_EQ(s2.entries.size(), 1u) << text_;
  EXPECT_EQ(s2.entries[0].seq_a, 1u);
  EXPECT_EQ(s2.entries[0].aspects[0].first, DiffKind::kPayload);
  EXPECT_NE(text_.find("Tracee call 3: A write_memory"), std::string::npos) << text_;
}

TEST_F(DiffTest, ThePrivateTmpdirIsRunSpecificToo) {
  // Format 3 names the run's TMPDIR in the policy: paths in it, in calls,
  // and in exec argv, are the same place in both runs.
  Records a = base_, b = base_;
  std::get<trace::HeaderRecord>(a[0]).policy.options.push_back({"tmpdir", "/tmp/sandtrace-AAAAAA"});
  std::get<trace::HeaderRecord>(b[0]).policy.options.push_back({"tmpdir", "/tmp/sandtrace-BBBBBB"});
  auto add = [](Records& records, const std::string& tmpdir) {
    trace::EventRecord& e = EventSeq(records, 1);
    trace::TraceeCall path;
    path.kind = trace::TraceeCallKind::kReadString;
    path.bytes = tmpdir + "/cc1.s";
    e.calls.insert(e.calls.begin(), path);
    trace::ProcessRecord exec;
    exec.kind = trace::ProcessEventKind::kExec;
    exec.pid = 4242;
    exec.exec_path = "/usr/bin/as";
    exec.argv = {"as", "-o", tmpdir + "/x.o", tmpdir + "/cc1.s"};
    records.push_back(exec);
  };
  add(a, "/tmp/sandtrace-AAAAAA");
  add(b, "/tmp/sandtrace-BBBBBB");
  EXPECT_TRUE(Diff(a, b).same()) << text_;
  // Another file there is still another file.
  Records c = base_;
  std::get<trace::HeaderRecord>(c[0]).policy.options.push_back({"tmpdir", "/tmp/sandtrace-CCCCCC"});
  add(c, "/tmp/sandtrace-CCCCCC/sub");
  EXPECT_FALSE(Diff(a, c).same()) << text_;
}

TEST_F(DiffTest, FooterDifferences) {
  Records b = base_;
  auto& footer = std::get<trace::FooterRecord>(b.back());
  footer.exit_status = 2;
  footer.changes.push_back({trace::ChangeKind::kDeleted, "Makefile"});
  DiffSummary s = Diff(base_, b);
  EXPECT_FALSE(s.same());
  EXPECT_EQ(s.different, 0u);
  EXPECT_NE(text_.find("command: A exit status 0; B exit status 2"), std::string::npos) << text_;
  EXPECT_NE(text_.find("change only in B: deleted \"Makefile\""), std::string::npos) << text_;
}

TEST_F(DiffTest, LongTracesWithOneChangeStayAligned) {
  ASSERT_TRUE(inspect_test::WriteSynthetic(dir_.File("a.capnp"), 20000, 5).ok());
  ASSERT_TRUE(inspect_test::WriteSynthetic(dir_.File("b.capnp"), 20000, 5).ok());
  auto ra = OpenTrace(dir_.File("a.capnp"));
  auto rb = OpenTrace(dir_.File("b.capnp"));
  ASSERT_TRUE(ra.ok() && rb.ok());
  DiffOptions options;
  options.max_buffered = 256;  // forces the bounded path
  auto s = DiffTraces(**ra, **rb, options);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->same());
  EXPECT_EQ(s->matched, 20000u + 2u);
}

TEST_F(DiffTest, CapsTheDetailButCountsEverything) {
  Records b = base_;
  for (uint64_t seq : {0, 2, 3, 13}) EventSeq(b, seq).decision.file.fd += 10;
  DiffOptions options;
  options.max_reported = 2;
  DiffSummary s = Diff(base_, b, options);
  EXPECT_EQ(s.different, 4u);
  EXPECT_EQ(s.entries.size(), 2u);
  EXPECT_EQ(s.unreported, 2u);
  EXPECT_EQ(s.by_kind[static_cast<size_t>(DiffKind::kInjectedFile)], 4u);
  EXPECT_NE(text_.find("... 2 more differences not shown"), std::string::npos) << text_;
}

}  // namespace
}  // namespace sandtrace::inspect
