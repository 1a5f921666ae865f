#include "tracer/core/handler_registry.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <sys/syscall.h>

#include "tests/tracer/fake_tracee.h"

namespace sandtrace {
namespace {

Notification Notif(int nr) {
  Notification n;
  n.arch = AUDIT_ARCH_X86_64;
  n.nr = nr;
  return n;
}

TEST(HandlerRegistry, FirstDecisionWinsInRegistrationOrder) {
  HandlerRegistry reg;
  std::vector<std::string> calls;
  ASSERT_TRUE(reg.Add("a", {__NR_getppid},
                      [&](const Notification&, Tracee&) {
                        calls.push_back("a");
                        return std::optional<Decision>();
                      })
                  .ok());
  ASSERT_TRUE(reg.Add("b", {__NR_getppid, __NR_getpid},
                      [&](const Notification&, Tracee&) {
                        calls.push_back("b");
                        return std::optional<Decision>(Decision::Return(7));
                      })
                  .ok());
  ASSERT_TRUE(reg.Add("c", {__NR_getppid},
                      [&](const Notification&, Tracee&) {
                        calls.push_back("c");
                        return std::optional<Decision>(Decision::Errno(EPERM));
                      })
                  .ok());
  testing::FakeTracee t;
  DispatchResult r = reg.Dispatch(Notif(__NR_getppid), t);
  EXPECT_EQ(r.decision.kind, DecisionKind::kReturn);
  EXPECT_EQ(r.decision.value, 7);
  EXPECT_EQ(reg.set_names()[r.set], "b");
  EXPECT_EQ(calls, (std::vector<std::string>{"a", "b"}));  // c is never asked
}

TEST(HandlerRegistry, NoDecisionMeansContinue) {
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("x", {"getppid"},
                            [](const Notification&, Tracee&) { return std::optional<Decision>(); })
                  .ok());
  testing::FakeTracee t;
  DispatchResult r = reg.Dispatch(Notif(__NR_getppid), t);
  EXPECT_EQ(r.decision.kind, DecisionKind::kContinue);
  EXPECT_EQ(r.set, -1);
  // No handler at all, another arch, a number out of range: CONTINUE too.
  EXPECT_EQ(reg.Dispatch(Notif(__NR_read), t).decision.kind, DecisionKind::kContinue);
  Notification other = Notif(__NR_getppid);
  other.arch = AUDIT_ARCH_I386;
  EXPECT_EQ(reg.Dispatch(other, t).set, -1);
  EXPECT_EQ(reg.Dispatch(Notif(99999), t).set, -1);
}

TEST(HandlerRegistry, NotifySetFollowsRegistrations) {
  HandlerRegistry reg;
  EXPECT_TRUE(reg.NotifySet().empty());
  auto h = [](const Notification&, Tracee&) { return std::optional<Decision>(); };
  ASSERT_TRUE(reg.AddByName("cow", {"openat", "unlinkat"}, h).ok());
  ASSERT_TRUE(reg.AddByName("seed", {"getrandom", "openat"}, h).ok());
  EXPECT_EQ(reg.NotifySet(), (std::vector<int>{__NR_openat, __NR_unlinkat, __NR_getrandom}));
  EXPECT_TRUE(reg.Handles(__NR_openat));
  EXPECT_FALSE(reg.Handles(__NR_read));
  EXPECT_EQ(reg.set_names(), (std::vector<std::string>{"cow", "seed"}));
}

TEST(HandlerRegistry, NotifyRulesAreTheUnionOfTheArgumentTests) {
  HandlerRegistry reg;
  auto h = [](const Notification&, Tracee&) { return std::optional<Decision>(); };
  ASSERT_TRUE(reg.AddByName("a", {"ioctl", "fcntl"}, h, NotifyWhen{{1, 0xff00, 0x6600}}).ok());
  ASSERT_TRUE(reg.AddByName("b", {"ioctl"}, h, NotifyWhen{{1, 0xff00, 0x5800}, {1, 0xff00, 0x6600}})
                  .ok());
  ASSERT_TRUE(reg.AddByName("b", {"fcntl", "openat"}, h).ok());
  std::vector<NotifyRule> rules = reg.NotifyRules();
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0], (NotifyRule{__NR_ioctl, NotifyWhen{{1, 0xff00, 0x6600}, {1, 0xff00, 0x5800}}}));
  // One handler wants every fcntl: every fcntl is notified.
  EXPECT_EQ(rules[1], (NotifyRule{__NR_fcntl, std::nullopt}));
  EXPECT_EQ(rules[2], (NotifyRule{__NR_openat, std::nullopt}));
  EXPECT_EQ(reg.NotifySet(), (std::vector<int>{__NR_ioctl, __NR_fcntl, __NR_openat}));
  // Bad tests are refused.
  EXPECT_EQ(reg.AddByName("c", {"ioctl"}, h, NotifyWhen{}).code(), EINVAL);
  EXPECT_EQ(reg.AddByName("c", {"ioctl"}, h, NotifyWhen{{6, 1, 1}}).code(), EINVAL);
}

TEST(HandlerRegistry, RefusesDeniedUnknownAndEmpty) {
  HandlerRegistry reg;
  auto h = [](const Notification&, Tracee&) { return std::optional<Decision>(); };
  Status denied = reg.AddByName("x", {"openat", "ptrace"}, h);
  EXPECT_EQ(denied.code(), EPERM);
  EXPECT_NE(denied.error().context.find("ptrace"), std::string::npos);
  EXPECT_FALSE(reg.Handles(__NR_openat));  // nothing registered on failure
  EXPECT_EQ(reg.AddByName("x", {"clone3"}, h).code(), EPERM);
  EXPECT_EQ(reg.AddByName("x", {"clone"}, h).code(), EPERM);
  EXPECT_EQ(reg.AddByName("x", {"nope"}, h).code(), EINVAL);
  EXPECT_EQ(reg.Add("x", {400}, h).code(), EINVAL);
  EXPECT_EQ(reg.Add("x", std::span<const int>(), h).code(), EINVAL);
  EXPECT_EQ(reg.Add("x", {__NR_read}, Handler()).code(), EINVAL);
  EXPECT_TRUE(reg.NotifySet().empty());
}

TEST(HandlerRegistry, HandlersSeeTheNotificationAndTracee) {
  HandlerRegistry reg;
  ASSERT_TRUE(reg.AddByName("p", {"chdir"},
                            [](const Notification& n, Tracee& t) {
                              auto path = ReadPathChecked(t, n.args[0]);
                              if (!path.ok())
                                return std::optional<Decision>(Decision::Errno(EFAULT));
                              return std::optional<Decision>(
                                  Decision::Return(static_cast<int64_t>(path->size())));
                            })
                  .ok());
  testing::FakeTracee t;
  t.MapString(0x1000, "/some/dir");
  Notification n = Notif(__NR_chdir);
  n.args[0] = 0x1000;
  EXPECT_EQ(reg.Dispatch(n, t).decision.value, 9);
  EXPECT_EQ(t.id_checks, 1);  // the read was followed by ID_VALID
  n.args[0] = 0x9000;
  EXPECT_EQ(reg.Dispatch(n, t).decision.error, EFAULT);
}

}  // namespace
}  // namespace sandtrace
