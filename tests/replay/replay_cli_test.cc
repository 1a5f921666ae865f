// `trace replay` as a subprocess: exit statuses, text and JSON reports,
// --timing with --baseline, and a replay as an unprivileged user.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay/json_reader.h"
#include "tests/replay/replay_test_util.h"

namespace sandtrace::replay {
namespace {

using replay_test::RunCommand;
using replay_test::TempDir;
using replay_test::WriteFile;

class ReplayCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    chmod(dir_->path().c_str(), 0755);  // readable by the unprivileged replay
    const std::string work = *dir_ / "workdir-of-the-cli-tests";
    mkdir(work.c_str(), 0755);
    WriteFile(work + "/in.txt", "x\n");
    replay_test::RecordSpec spec;
    spec.argv = {"/bin/sh", "-c", "mkdir d; cp in.txt d/out.txt; ls d > /dev/null; rm in.txt"};
    spec.workdir = work;
    spec.trace = *dir_ / "t.capnp";
    ASSERT_EQ(replay_test::RecordCow(spec).error, "");
    chmod(spec.trace.c_str(), 0644);
    // The same trace with one decision edited.
    auto records = replay_test::ReadRecords(spec.trace);
    for (auto& rec : records) {
      auto* e = std::get_if<trace::EventRecord>(&rec);
      if (e != nullptr && e->decision.kind == trace::DecisionKind::kReturn) {
        e->decision.value = 77;
        break;
      }
    }
    replay_test::WriteRecords(*dir_ / "edited.capnp", records);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string T(const std::string& name) { return *dir_ / name; }
  static TempDir* dir_;
};
TempDir* ReplayCli::dir_ = nullptr;

TEST_F(ReplayCli, ExitStatusesAndOneLineErrors) {
  auto ok = RunCommand({TRACE_BIN, "replay", "--no-progress", T("t.capnp")});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("verdict: identical"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("change list:"), std::string::npos) << ok.out;

  auto diverged = RunCommand({TRACE_BIN, "replay", T("edited.capnp")});
  EXPECT_EQ(diverged.code, 1) << diverged.out << diverged.err;
  EXPECT_NE(diverged.out.find("expected: return 77"), std::string::npos) << diverged.out;
  EXPECT_NE(diverged.out.find("got:      return 0"), std::string::npos) << diverged.out;

  auto missing = RunCommand({TRACE_BIN, "replay", T("nope.capnp")});
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  EXPECT_EQ(missing.err.rfind("trace replay: ", 0), 0u) << missing.err;

  WriteFile(T("junk.capnp"), std::string(5000, 'j'));
  auto junk = RunCommand({TRACE_BIN, "replay", T("junk.capnp")});
  EXPECT_EQ(junk.code, 2);
  EXPECT_EQ(std::count(junk.err.begin(), junk.err.end(), '\n'), 1) << junk.err;

  auto usage = RunCommand({TRACE_BIN, "replay", "--from", "9", "--to", "3", T("t.capnp")});
  EXPECT_EQ(usage.code, 2) << usage.err;
}

TEST_F(ReplayCli, JsonReport) {
  auto r = RunCommand({TRACE_BIN, "replay", "--json", T("edited.capnp")});
  EXPECT_EQ(r.code, 1);
  auto doc = JsonValue::Parse(r.out);
  ASSERT_TRUE(doc.ok()) << doc.error().context << "\n" << r.out;
  EXPECT_EQ(doc->Find("verdict")->string(), "diverged");
  EXPECT_EQ(doc->Find("diverged")->number(), 1);
  const JsonValue* divs = doc->Find("divergences");
  ASSERT_NE(divs, nullptr);
  ASSERT_EQ(divs->items().size(), 1u);
  const JsonValue& d = divs->items()[0];
  EXPECT_FALSE(d.Find("syscall")->string().empty());
  EXPECT_EQ(d.Find("differences")->items()[0].Find("expected")->string(), "return 77");
}

TEST_F(ReplayCli, TimingAndBaselines) {
  auto r = RunCommand({TRACE_BIN, "replay", "--timing", "--repeat", "2", "--json", T("t.capnp")});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = JsonValue::Parse(r.out);
  ASSERT_TRUE(doc.ok()) << doc.error().context;
  const JsonValue* timing = doc->Find("timing");
  ASSERT_NE(timing, nullptr);
  EXPECT_EQ(timing->Find("repeat")->number(), 2);
  EXPECT_GT(timing->Find("by_syscall")->items().size(), 0u);
  // A baseline claiming everything took 1 ns: every judged row regressed.
  WriteFile(T("fast.json"),
            R"({"timing": {"all": {"name": "all events", "replay": {"count": 1000000,
               "p50_ns": 1, "p90_ns": 1, "p99_ns": 1, "max_ns": 1}}}})");
  auto slow = RunCommand({TRACE_BIN, "replay", "--baseline", T("fast.json"),
                          "--baseline-percentile", "p50", T("t.capnp")});
  EXPECT_EQ(slow.code, 3) << slow.out << slow.err;
  EXPECT_NE(slow.out.find("regressed: all events"), std::string::npos) << slow.out;
  // ... and one claiming an hour: nothing regressed.
  WriteFile(T("slow.json"),
            R"({"timing": {"all": {"name": "all events", "replay": {"count": 1000000,
               "p50_ns": 3600000000000, "p90_ns": 3600000000000, "p99_ns": 3600000000000,
               "max_ns": 3600000000000}}}})");
  auto fine = RunCommand({TRACE_BIN, "replay", "--baseline", T("slow.json"), T("t.capnp")});
  EXPECT_EQ(fine.code, 0) << fine.out << fine.err;
  EXPECT_NE(fine.out.find("baseline: 1 rows compared, 0 regressed"), std::string::npos) << fine.out;
  auto bad = RunCommand({TRACE_BIN, "replay", "--baseline", T("t.capnp"), T("t.capnp")});
  EXPECT_EQ(bad.code, 2) << bad.out << bad.err;
}

TEST_F(ReplayCli, TraceRecordThenTraceReplay) {
  // The user's path, end to end, on the demo's example tree.
  TempDir t;
  const std::string work = t / "example-workdir-of-the-cli-test";
  ASSERT_EQ(RunCommand({"/bin/cp", "-R", std::string(CORPUS_DIR) + "/example", work}).code, 0);
  auto rec = RunCommand({"/bin/sh", "-c",
                         "cd '" + work + "' && exec " + TRACE_BIN + " record --discard -o '" +
                             (t / "ex.capnp") + "' -- ./edit.sh"});
  ASSERT_EQ(rec.code, 0) << rec.out << rec.err;
  auto rep = RunCommand({TRACE_BIN, "replay", "--scratch", "/tmp", t / "ex.capnp"});
  EXPECT_EQ(rep.code, 0) << rep.out << rep.err;
  EXPECT_NE(rep.out.find("change list: "), std::string::npos) << rep.out;
  EXPECT_NE(rep.out.find("matching"), std::string::npos) << rep.out;
}

TEST_F(ReplayCli, ReplaysAsAnUnprivilegedUser) {
  struct passwd* nobody = getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user 'nobody' on this machine";
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch to 'nobody'";
  if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "no setpriv";
  TempDir scratch;
  ASSERT_EQ(chown(scratch.path().c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  const std::string uid = std::to_string(nobody->pw_uid);
  const std::string gid = std::to_string(nobody->pw_gid);
  auto r = RunCommand({"/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups",
                       "--inh-caps=-all", TRACE_BIN, "replay", "--scratch", scratch.path(),
                       T("t.capnp")});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict: identical"), std::string::npos) << r.out << r.err;
  // Nothing left behind in its scratch directory.
  auto left = RunCommand({"/bin/ls", "-A", scratch.path()});
  EXPECT_EQ(left.out, "");
  // Kept on request: the rebuilt workdir belongs to the unprivileged user.
  r = RunCommand({"/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups",
                  "--inh-caps=-all", TRACE_BIN, "replay", "--keep-scratch", "--scratch",
                  scratch.path(), T("t.capnp")});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  left = RunCommand({"/bin/ls", "-A", scratch.path()});
  ASSERT_EQ(left.out.rfind("rp-", 0), 0u) << left.out;
  struct stat st {};
  ASSERT_EQ(stat((scratch.path() + "/" + left.out.substr(0, left.out.find('\n'))).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody->pw_uid);
}

}  // namespace
}  // namespace sandtrace::replay
