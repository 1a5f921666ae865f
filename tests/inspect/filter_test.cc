// Syscall sets (-e trace=) and the record filter (replay/inspect/filter.h).
#include "replay/inspect/filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>

#include "replay/inspect/syscall_sets.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace::inspect {
namespace {

const ArchTable& Table() { return X86_64Syscalls(); }

int Nr(const char* name) { return Table().FindByName(name)->nr; }

TEST(InspectSyscallSets, NamesClassesNegationRegex) {
  auto set = ParseSyscallSet("openat,close", Table());
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE((*set)[Nr("openat")]);
  EXPECT_TRUE((*set)[Nr("close")]);
  EXPECT_FALSE((*set)[Nr("read")]);

  auto file = ParseSyscallSet("%file", Table());
  ASSERT_TRUE(file.ok());
  for (const char* n : {"open", "openat", "stat", "unlinkat", "execve", "renameat2", "mkdir"}) {
    EXPECT_TRUE((*file)[Nr(n)]) << n;
  }
  for (const char* n : {"close", "read", "fstat", "mmap"}) EXPECT_FALSE((*file)[Nr(n)]) << n;

  auto stat = ParseSyscallSet("%stat", Table());
  ASSERT_TRUE(stat.ok());
  EXPECT_TRUE((*stat)[Nr("newfstatat")]);
  EXPECT_TRUE((*stat)[Nr("statx")]);
  EXPECT_FALSE((*stat)[Nr("statfs")]);

  auto process = ParseSyscallSet("%process", Table());
  ASSERT_TRUE(process.ok());
  EXPECT_TRUE((*process)[Nr("execve")]);
  EXPECT_TRUE((*process)[Nr("exit_group")]);
  EXPECT_FALSE((*process)[Nr("openat")]);

  auto not_desc = ParseSyscallSet("!%desc", Table());
  ASSERT_TRUE(not_desc.ok());
  EXPECT_FALSE((*not_desc)[Nr("close")]);
  EXPECT_TRUE((*not_desc)[Nr("mkdir")]);

  auto re = ParseSyscallSet("/^open", Table());
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE((*re)[Nr("openat2")]);
  EXPECT_FALSE((*re)[Nr("close")]);

  auto optional = ParseSyscallSet("?nosuchcall,openat", Table());
  ASSERT_TRUE(optional.ok());
  EXPECT_TRUE((*optional)[Nr("openat")]);

  auto all = ParseSyscallSet("all", Table());
  auto none = ParseSyscallSet("!all", Table());
  ASSERT_TRUE(all.ok() && none.ok());
  EXPECT_TRUE((*all)[Nr("read")]);
  EXPECT_FALSE((*none)[Nr("read")]);
}

TEST(InspectSyscallSets, BadSetsAreUsageErrors) {
  for (const char* bad : {"nosuchcall", "%nosuchclass", "/(", "", "openat,,close", "!"}) {
    auto set = ParseSyscallSet(bad, Table());
    ASSERT_FALSE(set.ok()) << bad;
    EXPECT_EQ(set.code(), EINVAL);
    EXPECT_FALSE(set.error().context.empty());
    EXPECT_EQ(set.error().context.find('\n'), std::string::npos);
  }
}

TEST(InspectSyscallSets, EveryListedNameIsInTheTable) {
  for (const auto& c : SyscallClasses()) {
    size_t members = 0;
    for (const SyscallDef& def : Table().defs()) members += InSyscallClass(c.name, def) ? 1 : 0;
    EXPECT_GT(members, 0u) << c.name;
    for (std::string_view name : SyscallClassNames(c.name)) {
      // fork/vfork/pause/etc. are x86_64 syscalls; any name not in the
      // table would silently select nothing.
      EXPECT_NE(Table().FindByName(name), nullptr) << c.name << " lists " << name;
    }
  }
}

trace::EventRecord Event(uint64_t seq, uint32_t tid, int nr, const std::string& path,
                         trace::DecisionKind kind, uint64_t received_ns) {
  trace::EventRecord e;
  e.seq = seq;
  e.tid = tid;
  e.arch = AUDIT_ARCH_X86_64;
  e.nr = nr;
  e.args = {static_cast<uint64_t>(-100), 0x1000, O_RDONLY, 0, 0, 0};
  if (!path.empty()) {
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kReadString;
    c.addr = 0x1000;
    c.bytes = path;
    e.calls.push_back(c);
  }
  e.decision.kind = kind;
  e.received_ns = received_ns;
  return e;
}

trace::HeaderRecord Header() {
  trace::HeaderRecord h;
  h.arch = AUDIT_ARCH_X86_64;
  h.start_monotonic_ns = 1'000'000'000;
  return h;
}

using V = EventFilter::Verdict;

TEST(InspectFilter, CombinesEveryOption) {
  FilterOptions o;
  o.expressions = {"trace=%file"};
  o.tids = {7};
  o.paths = {"*.c"};
  o.decisions = {"inject", "errno"};
  auto f = EventFilter::Create(o, Header());
  ASSERT_TRUE(f.ok()) << f.error().context;
  using K = trace::DecisionKind;
  EXPECT_EQ(f->Next(Event(0, 7, 257, "src/a.c", K::kInjectFd, 1)), V::kKeep);
  EXPECT_EQ(f->Next(Event(1, 8, 257, "src/a.c", K::kInjectFd, 1)), V::kSkip);       // tid
  EXPECT_EQ(f->Next(Event(2, 7, 257, "src/a.h", K::kInjectFd, 1)), V::kSkip);       // path
  EXPECT_EQ(f->Next(Event(3, 7, 257, "src/a.c", K::kContinue, 1)), V::kSkip);       // decision
  EXPECT_EQ(f->Next(Event(4, 7, 3 /*close*/, "src/a.c", K::kErrno, 1)), V::kSkip);  // set
  EXPECT_TRUE(f->restricts_events());

  // Process events: kept unless -p or --path excludes them.
  trace::ProcessRecord p;
  p.kind = trace::ProcessEventKind::kExec;
  p.pid = 7;
  p.exec_path = "/usr/bin/cc";
  EXPECT_EQ(f->Next(p), V::kSkip);  // exec path does not match *.c
  p.exec_path = "/tmp/x.c";
  EXPECT_EQ(f->Next(p), V::kKeep);
  // Cow events have no tid or syscall: dropped once -e/-p/--decision is given.
  trace::CowRecord c;
  c.path = "src/a.c";
  EXPECT_EQ(f->Next(c), V::kSkip);
}

TEST(InspectFilter, InjectedPathMatchesToo) {
  FilterOptions o;
  o.paths = {"build/*"};
  auto f = EventFilter::Create(o, Header());
  ASSERT_TRUE(f.ok());
  auto e = Event(0, 1, 257, "x", trace::DecisionKind::kInjectFd, 1);
  e.decision.file.path = "build/x.o";
  EXPECT_EQ(f->Next(e), V::kKeep);
  trace::CowRecord c;
  c.path = "build/y";
  EXPECT_EQ(f->Next(c), V::kKeep);  // only --path given: cow events are filtered by path
}

TEST(InspectFilter, SeqRange) {
  FilterOptions o;
  o.from = "2";
  o.to = "3";
  auto f = EventFilter::Create(o, Header());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->from_seq(), 2u);
  trace::ProcessRecord p;
  EXPECT_EQ(f->Next(p), V::kSkip);  // before the first event of the range
  EXPECT_EQ(f->Next(Event(1, 1, 257, "", trace::DecisionKind::kContinue, 1)), V::kSkip);
  EXPECT_EQ(f->Next(Event(2, 1, 257, "", trace::DecisionKind::kContinue, 1)), V::kKeep);
  EXPECT_EQ(f->Next(p), V::kKeep);
  EXPECT_EQ(f->Next(Event(3, 1, 257, "", trace::DecisionKind::kContinue, 1)), V::kKeep);
  EXPECT_EQ(f->Next(Event(4, 1, 257, "", trace::DecisionKind::kContinue, 1)), V::kStop);
}

TEST(InspectFilter, TimeRangeFromTheTraceStart) {
  FilterOptions o;
  o.from = "1.5s";
  o.to = "2000ms";
  auto f = EventFilter::Create(o, Header());
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->from_seq().has_value());
  const uint64_t base = Header().start_monotonic_ns;
  EXPECT_EQ(f->Next(Event(0, 1, 257, "", trace::DecisionKind::kContinue, base + 1'499'999'999)),
            V::kSkip);
  EXPECT_EQ(f->Next(Event(1, 1, 257, "", trace::DecisionKind::kContinue, base + 1'500'000'000)),
            V::kKeep);
  EXPECT_EQ(f->Next(Event(2, 1, 257, "", trace::DecisionKind::kContinue, base + 2'000'000'000)),
            V::kKeep);
  EXPECT_EQ(f->Next(Event(3, 1, 257, "", trace::DecisionKind::kContinue, base + 2'000'000'001)),
            V::kStop);
}

TEST(InspectFilter, BadOptionsAreOneLineUsageErrors) {
  std::vector<FilterOptions> bad(7);
  bad[0].expressions = {"trace=nosuch"};
  bad[1].expressions = {"signal=all"};
  bad[2].decisions = {"maybe"};
  bad[3].from = "soon";
  bad[4].to = "12parsecs";
  bad[5].from = "5";
  bad[5].to = "4";
  bad[6].from = "-1s";
  for (const auto& o : bad) {
    auto f = EventFilter::Create(o, Header());
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.code(), EINVAL);
    EXPECT_EQ(f.error().context.find('\n'), std::string::npos);
  }
}

TEST(InspectFilter, Durations) {
  EXPECT_EQ(ParseDuration("10ns"), 10u);
  EXPECT_EQ(ParseDuration("50us"), 50'000u);
  EXPECT_EQ(ParseDuration("50µs"), 50'000u);
  EXPECT_EQ(ParseDuration("200ms"), 200'000'000u);
  EXPECT_EQ(ParseDuration("1.5s"), 1'500'000'000u);
  EXPECT_FALSE(ParseDuration("s").has_value());
  EXPECT_FALSE(ParseDuration("12").has_value());
  EXPECT_FALSE(ParseDuration("1e30s").has_value());
}

}  // namespace
}  // namespace sandtrace::inspect
