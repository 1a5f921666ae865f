#include "tracer/landlock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/tracer/test_util.h"
#include "tracer/kernel_features.h"

namespace sandtrace {
namespace {

TEST(Landlock, RefusesWritePathsOverlappingTheWorkdir) {
  testing::TempDir root;
  std::string work = root.path() + "/work", other = root.path() + "/other";
  ASSERT_EQ(mkdir(work.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(other.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((work + "/sub").c_str(), 0755), 0);
  EXPECT_TRUE(CheckWritePaths({other}, work).ok());
  Status contains = CheckWritePaths({other, root.path()}, work);
  ASSERT_FALSE(contains.ok());
  EXPECT_NE(contains.error().context.find("contains the workdir"), std::string::npos);
  EXPECT_FALSE(CheckWritePaths({work}, work).ok());
  EXPECT_FALSE(CheckWritePaths({work + "/sub"}, work).ok());
  EXPECT_FALSE(CheckWritePaths({"/"}, work).ok());
  EXPECT_FALSE(CheckWritePaths({work + "/../work/"}, work).ok());  // canonicalised
  EXPECT_EQ(CheckWritePaths({root.path() + "/missing"}, work).code(), ENOENT);
  // A sibling whose name starts with the workdir's is not inside it.
  ASSERT_EQ(mkdir((work + "2").c_str(), 0755), 0);
  EXPECT_TRUE(CheckWritePaths({work + "2"}, work).ok());
}

TEST(Landlock, EnforcesReadEverywhereWriteOnlyWhereAllowed) {
  KernelFeatures f = ProbeKernelFeatures();
  if (f.landlock_abi <= 0) GTEST_SKIP() << "no Landlock on this kernel";
  testing::TempDir root;
  std::string work = root.path() + "/work", w = root.path() + "/w", tmp = root.path() + "/tmp";
  for (const auto& d : {work, w, tmp}) ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  auto rs = BuildLandlockRuleset({{}, {w}, work, tmp, {}}, f.landlock_abi);
  ASSERT_TRUE(rs.ok()) << rs.error().Message();
  EXPECT_EQ(rs->abi, f.landlock_abi);
  EXPECT_NE(rs->description.find("landlock write: " + w), std::string::npos);

  pid_t pid = fork();
  if (pid == 0) {
    // Child only: the ruleset never applies to the test process.
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || LandlockRestrictSelf(rs->fd.get()) != 0) {
      _exit(10);
    }
    auto can_create = [](const std::string& p) {
      int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0) close(fd);
      return fd >= 0 ? 0 : errno;
    };
    if (can_create(w + "/f") != 0) _exit(11);
    if (can_create(tmp + "/f") != 0) _exit(12);
    if (can_create(work + "/f") != EACCES) _exit(13);
    if (can_create(root.path() + "/f") != EACCES) _exit(14);
    if (open("/etc/passwd", O_RDONLY | O_CLOEXEC) < 0) _exit(15);
    int null = open("/dev/null", O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (null < 0 || write(null, "x", 1) != 1) _exit(16);
    if (mkdir((work + "/d").c_str(), 0755) == 0 || errno != EACCES) _exit(17);
    _exit(0);
  }
  int st;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "failed check " << WEXITSTATUS(st);
}

TEST(Landlock, NarrowedReadPaths) {
  KernelFeatures f = ProbeKernelFeatures();
  if (f.landlock_abi <= 0) GTEST_SKIP() << "no Landlock on this kernel";
  testing::TempDir root;
  std::string work = root.path() + "/work", r = root.path() + "/r";
  for (const auto& d : {work, r}) ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  auto rs = BuildLandlockRuleset({{r}, {}, work, "", {}}, f.landlock_abi);
  ASSERT_TRUE(rs.ok()) << rs.error().Message();
  pid_t pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || LandlockRestrictSelf(rs->fd.get()) != 0) {
      _exit(10);
    }
    if (open(r.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC) < 0) _exit(11);
    if (open(work.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC) < 0) _exit(12);
    if (open("/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES) _exit(13);
    _exit(0);
  }
  int st;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  EXPECT_EQ(WEXITSTATUS(st), 0) << "failed check " << WEXITSTATUS(st);
}

TEST(Landlock, RightsGrowWithTheAbi) {
  EXPECT_EQ(LandlockFsRights(0), 0u);
  EXPECT_EQ(LandlockFsRights(1), 0x1fffu);
  EXPECT_EQ(LandlockFsRights(2), 0x3fffu);
  EXPECT_EQ(LandlockFsRights(3), 0x7fffu);
  EXPECT_EQ(LandlockFsRights(5), 0xffffu);
  EXPECT_EQ(LandlockFsRights(7), 0xffffu);
}

}  // namespace
}  // namespace sandtrace
