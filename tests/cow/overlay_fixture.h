// The fixture shared by the overlay unit tests: a small workdir with files,
// directories, symlinks (inside, dangling, out to /etc and to a sibling
// directory) and a FIFO.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cow/overlay.h"
#include "tests/cow/cow_test_util.h"

namespace sandtrace::cow {

using testing::Exists;
using testing::ReadFd;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

class OverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lower_ = root_ / "work";
    storage_ = root_ / "store";
    outside_ = root_ / "outside";
    ASSERT_EQ(::mkdir(lower_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(storage_.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
    WriteFile(outside_ + "/secret", "outside data");
    WriteFile(lower_ + "/a.txt", "alpha", 0640);
    ASSERT_EQ(::mkdir((lower_ + "/dir").c_str(), 0750), 0);
    WriteFile(lower_ + "/dir/b.txt", "beta");
    ASSERT_EQ(::mkdir((lower_ + "/dir/sub").c_str(), 0755), 0);
    WriteFile(lower_ + "/dir/sub/c.txt", "gamma");
    WriteFile(lower_ + "/exe.sh", "#!/bin/sh\n", 0755);
    ASSERT_EQ(::symlink("a.txt", (lower_ + "/link_a").c_str()), 0);
    ASSERT_EQ(::symlink("dir", (lower_ + "/link_dir").c_str()), 0);
    ASSERT_EQ(::symlink("/etc", (lower_ + "/etc_link").c_str()), 0);
    ASSERT_EQ(::symlink("../outside", (lower_ + "/up_link").c_str()), 0);
    ASSERT_EQ(::symlink("missing", (lower_ + "/dangling").c_str()), 0);
    ASSERT_EQ(::mkfifo((lower_ + "/fifo").c_str(), 0644), 0);
    before_ = testing::SnapshotReal(lower_);
  }

  std::unique_ptr<Overlay> Make(OverlayOptions options = {}) {
    auto ov = Overlay::Create({lower_, storage_}, std::move(options));
    if (!ov) ADD_FAILURE() << ov.error().Message();
    return ov ? std::move(*ov) : nullptr;
  }

  void ExpectLowerUntouched() {
    EXPECT_EQ(testing::DescribeDiff(before_, testing::SnapshotReal(lower_)), "");
  }

  TempDir root_;
  std::string lower_, storage_, outside_;
  testing::Tree before_;
  const Base root = Base::Root();
};

}  // namespace sandtrace::cow
