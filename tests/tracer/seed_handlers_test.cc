#include "tracer/core/seed_handlers.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tests/tracer/fake_tracee.h"

namespace sandtrace {
namespace {

Notification Notif(int nr, std::array<uint64_t, 6> args) {
  Notification n;
  n.arch = AUDIT_ARCH_X86_64;
  n.nr = nr;
  n.args = args;
  return n;
}

std::string Getrandom(HandlerRegistry& reg, testing::FakeTracee& t, size_t len, int64_t* ret) {
  t.Map(0x5000, std::string(len, '\0'));
  DispatchResult r = reg.Dispatch(Notif(__NR_getrandom, {0x5000, len, 0}), t);
  *ret = r.decision.kind == DecisionKind::kReturn ? r.decision.value : -r.decision.error;
  return t.Region(0x5000);
}

TEST(HandlerSeed, GetrandomIsDeterministicPerSeedAndCallOrder) {
  HandlerRegistry a, b, c;
  ASSERT_TRUE(AddSeedHandlers(a, 42).ok());
  ASSERT_TRUE(AddSeedHandlers(b, 42).ok());
  ASSERT_TRUE(AddSeedHandlers(c, 43).ok());
  testing::FakeTracee ta, tb, tc;
  int64_t ra, rb, rc;
  std::string a1 = Getrandom(a, ta, 32, &ra);
  std::string b1 = Getrandom(b, tb, 32, &rb);
  std::string c1 = Getrandom(c, tc, 32, &rc);
  EXPECT_EQ(ra, 32);
  EXPECT_EQ(a1, b1);
  EXPECT_NE(a1, c1);
  EXPECT_NE(a1, std::string(32, '\0'));
  // The stream advances: the next call gives new bytes, the same in both runs.
  std::string a2 = Getrandom(a, ta, 32, &ra);
  EXPECT_NE(a1, a2);
  EXPECT_EQ(a2, Getrandom(b, tb, 32, &rb));
}

TEST(HandlerSeed, GetrandomChecksFlagsAndAddresses) {
  HandlerRegistry reg;
  ASSERT_TRUE(AddSeedHandlers(reg, 1).ok());
  testing::FakeTracee t;
  t.Map(0x5000, std::string(8, '\0'));
  auto d = reg.Dispatch(Notif(__NR_getrandom, {0x5000, 8, 0x80}), t).decision;
  EXPECT_EQ(d.kind, DecisionKind::kErrno);
  EXPECT_EQ(d.error, EINVAL);
  d = reg.Dispatch(Notif(__NR_getrandom, {0x5000, 8, GRND_RANDOM | GRND_INSECURE}), t).decision;
  EXPECT_EQ(d.error, EINVAL);
  d = reg.Dispatch(Notif(__NR_getrandom, {0x9000, 8, 0}), t).decision;
  EXPECT_EQ(d.error, EFAULT);
  d = reg.Dispatch(Notif(__NR_getrandom, {0x5000, 0, 0}), t).decision;
  EXPECT_EQ(d.kind, DecisionKind::kReturn);
  EXPECT_EQ(d.value, 0);
  // Large requests are served short, as the kernel may do.
  t.Map(0x100000, std::string(kMaxGetrandomBytes + 100, '\0'));
  d = reg.Dispatch(Notif(__NR_getrandom, {0x100000, kMaxGetrandomBytes + 100, 0}), t).decision;
  EXPECT_EQ(d.value, static_cast<int64_t>(kMaxGetrandomBytes));
}

TEST(HandlerSeed, OpenOfUrandomInjectsDeterministicFile) {
  HandlerRegistry reg, reg2;
  ASSERT_TRUE(AddSeedHandlers(reg, 7).ok());
  ASSERT_TRUE(AddSeedHandlers(reg2, 7).ok());
  testing::FakeTracee t;
  t.MapString(0x1000, "/dev/urandom");
  t.MapString(0x2000, "urandom");
  t.MapString(0x3000, "/etc/passwd");
  t.fds[5] = "/dev";
  auto open_at = [&](HandlerRegistry& r, int dirfd, uint64_t path, int flags) {
    return r.Dispatch(
        Notif(__NR_openat, {static_cast<uint64_t>(dirfd), path, static_cast<uint64_t>(flags)}), t);
  };
  DispatchResult r = open_at(reg, AT_FDCWD, 0x1000, O_RDONLY | O_CLOEXEC);
  ASSERT_EQ(r.decision.kind, DecisionKind::kInjectFd);
  EXPECT_EQ(r.decision.file.fd_flags, static_cast<uint32_t>(O_CLOEXEC));
  EXPECT_EQ(r.decision.file.root, FileRoot::kOutside);
  char buf[16];
  ASSERT_EQ(pread(r.decision.fd.get(), buf, sizeof buf, 0), 16);
  DispatchResult r2 = open_at(reg2, AT_FDCWD, 0x1000, O_RDONLY);
  char buf2[16];
  ASSERT_EQ(pread(r2.decision.fd.get(), buf2, sizeof buf2, 0), 16);
  EXPECT_EQ(std::string(buf, 16), std::string(buf2, 16));
  EXPECT_EQ(r2.decision.file.fd_flags, 0u);  // O_CLOEXEC copied, never forced
  // Relative to a dirfd; a second open gets a different stream.
  DispatchResult r3 = open_at(reg, 5, 0x2000, O_RDONLY);
  ASSERT_EQ(r3.decision.kind, DecisionKind::kInjectFd);
  ASSERT_EQ(pread(r3.decision.fd.get(), buf2, sizeof buf2, 0), 16);
  EXPECT_NE(std::string(buf, 16), std::string(buf2, 16));
  // Other files, and writes, are not ours.
  EXPECT_EQ(open_at(reg, AT_FDCWD, 0x3000, O_RDONLY).set, -1);
  EXPECT_EQ(open_at(reg, AT_FDCWD, 0x1000, O_WRONLY).set, -1);
  t.cwd = "/dev";
  EXPECT_EQ(open_at(reg, AT_FDCWD, 0x2000, O_RDONLY).decision.kind, DecisionKind::kInjectFd);
}

TEST(HandlerSeed, StreamsDependOnSeedAndIndex) {
  std::byte a[64], b[64], c[64];
  SeedStream(1, 0).Fill(a);
  SeedStream(1, 0).Fill(b);
  SeedStream(1, 1).Fill(c);
  EXPECT_EQ(std::memcmp(a, b, 64), 0);
  EXPECT_NE(std::memcmp(a, c, 64), 0);
  // Filling in pieces gives the same bytes as one fill.
  SeedStream s(1, 0);
  s.Fill(std::span(b, 3));
  s.Fill(std::span(b + 3, 61));
  EXPECT_EQ(std::memcmp(a, b, 64), 0);
}

}  // namespace
}  // namespace sandtrace
