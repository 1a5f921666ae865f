#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFd, ClosesOnDestructionAndMoves) {
  int raw = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd a(raw);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(b.get(), raw);
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFd, ReleaseKeepsFdOpen) {
  int raw = open("/dev/null", O_RDONLY | O_CLOEXEC);
  {
    UniqueFd a(raw);
    EXPECT_EQ(a.release(), raw);
  }
  EXPECT_TRUE(IsOpen(raw));
  close(raw);
}

TEST(Result, ValueAndError) {
  Result<int> v = 4;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 4);
  Result<int> e = Err(ENOENT, "lookup a/b");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.code(), ENOENT);
  EXPECT_EQ(e.error().Message(), "lookup a/b: No such file or directory");
  EXPECT_THROW((void)e.value(), std::logic_error);
  EXPECT_EQ(e.value_or(7), 7);
}

}  // namespace
}  // namespace sandtrace
