// Commit, abort, keep, crash safety of commit and recovery, and the storage
// area.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cow/commit.h"
#include "cow/overlay.h"
#include "cow/storage.h"
#include "tests/cow/cow_test_util.h"

namespace sandtrace::cow {
namespace {

using testing::Exists;
using testing::ReadFd;
using testing::ReadFile;
using testing::SnapshotReal;
using testing::SnapshotView;
using testing::TempDir;
using testing::Tree;
using testing::WriteFile;

struct SimulatedCrash {};

class CowCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lower_ = root_ / "work";
    ASSERT_EQ(::mkdir(lower_.c_str(), 0755), 0);
    WriteFile(lower_ + "/keep.txt", "keep");
    WriteFile(lower_ + "/mod.txt", "old content");
    WriteFile(lower_ + "/gone.txt", "bye");
    WriteFile(lower_ + "/mode.txt", "m", 0644);
    ASSERT_EQ(::mkdir((lower_ + "/tree").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((lower_ + "/tree/deep").c_str(), 0755), 0);
    WriteFile(lower_ + "/tree/deep/x", "x");
    WriteFile(lower_ + "/tree/y", "y");
    ASSERT_EQ(::mkdir((lower_ + "/big").c_str(), 0755), 0);
    WriteFile(lower_ + "/big/f1", "1");
    WriteFile(lower_ + "/big/f2", "2");
    ASSERT_EQ(::symlink("keep.txt", (lower_ + "/sym").c_str()), 0);
    ASSERT_EQ(::mkdir((lower_ + "/retype").c_str(), 0755), 0);
    WriteFile(lower_ + "/retype/inner", "i");
    original_ = SnapshotReal(lower_);
  }

  std::string NewStorage() {
    std::string s = root_ / ("store" + std::to_string(counter_++));
    EXPECT_EQ(::mkdir(s.c_str(), 0700), 0);
    return s;
  }

  // A fixed set of changes touching every kind of commit step.
  void Mutate(Overlay& ov) {
    const Base r = Base::Root();
    auto f = ov.Open(r, "mod.txt", O_WRONLY | O_TRUNC, 0);
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(::write(f->fd.get(), "new", 3), 3);
    ASSERT_TRUE(ov.Unlink(r, "gone.txt").ok());
    ASSERT_TRUE(ov.Chmod(r, "mode.txt", 0600).ok());
    ASSERT_TRUE(ov.Rename(r, "tree", r, "tree2").ok());
    ASSERT_TRUE(ov.Mkdir(r, "new", 0700).ok());
    auto n = ov.Open(r, "new/file", O_CREAT | O_WRONLY, 0640);
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(::write(n->fd.get(), "hello", 5), 5);
    ASSERT_TRUE(ov.Link(r, "new/file", r, "new/hard").ok());
    ASSERT_TRUE(ov.Symlink("new/file", r, "newsym").ok());
    ASSERT_TRUE(ov.Unlink(r, "big/f1").ok());
    ASSERT_TRUE(ov.Unlink(r, "retype/inner").ok());
    ASSERT_TRUE(ov.Rmdir(r, "retype").ok());
    auto rt = ov.Open(r, "retype", O_CREAT | O_WRONLY, 0644);
    ASSERT_TRUE(rt.ok());
    ASSERT_TRUE(ov.Mknod(r, "pipe", S_IFIFO | 0600).ok());
  }

  TempDir root_;
  std::string lower_;
  Tree original_;
  int counter_ = 0;
};

TEST_F(CowCommitTest, CommitMakesTheWorkdirEqualTheView) {
  std::string storage = NewStorage();
  auto ov = Overlay::Create({lower_, storage}, {});
  ASSERT_TRUE(ov.ok());
  Mutate(**ov);
  Tree view = SnapshotView(**ov);
  auto report = (*ov)->Commit();
  ASSERT_TRUE(report.ok()) << report.error().Message();
  EXPECT_EQ(testing::DescribeDiff(view, SnapshotReal(lower_)), "");
  EXPECT_GT(report->added, 0u);
  EXPECT_GT(report->deleted, 0u);
  EXPECT_GT(report->modified, 0u);
  EXPECT_FALSE(Exists(storage));
  struct stat a {
  }, b{};
  ASSERT_EQ(::stat((lower_ + "/new/file").c_str(), &a), 0);
  ASSERT_EQ(::stat((lower_ + "/new/hard").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);  // hard-link identity kept
  EXPECT_EQ(a.st_mode & 07777, 0640u);
  struct stat d {};
  ASSERT_EQ(::stat((lower_ + "/new").c_str(), &d), 0);
  EXPECT_EQ(d.st_mode & 07777, 0700u);
  // Nothing of the commit machinery is left in the workdir.
  for (const auto& [path, node] : SnapshotReal(lower_)) {
    EXPECT_EQ(path.find(".sandtrace"), std::string::npos) << path;
  }
}

TEST_F(CowCommitTest, AbortLeavesTheWorkdirByteIdentical) {
  std::string storage = NewStorage();
  auto ov = Overlay::Create({lower_, storage}, {});
  ASSERT_TRUE(ov.ok());
  Mutate(**ov);
  ASSERT_TRUE((*ov)->Abort().ok());
  EXPECT_EQ(testing::DescribeDiff(original_, SnapshotReal(lower_)), "");
  EXPECT_FALSE(Exists(storage));
}

TEST_F(CowCommitTest, KeepLeavesTheUpperAndItsState) {
  std::string storage = NewStorage();
  auto ov = Overlay::Create({lower_, storage}, {});
  ASSERT_TRUE(ov.ok());
  Mutate(**ov);
  ASSERT_TRUE((*ov)->Keep().ok());
  EXPECT_EQ(ReadFile(storage + "/upper/mod.txt"), "new");
  std::string state = ReadFile(storage + "/state");
  EXPECT_NE(state.find("whiteout gone.txt"), std::string::npos) << state;
  EXPECT_NE(state.find("dir tree2 tree"), std::string::npos) << state;
  EXPECT_EQ(testing::DescribeDiff(original_, SnapshotReal(lower_)), "");
}

TEST_F(CowCommitTest, ConcurrentCommitIsRefusedByTheLock) {
  std::string storage = NewStorage();
  auto ov = Overlay::Create({lower_, storage}, {});
  ASSERT_TRUE(ov.ok());
  Mutate(**ov);
  int fd = ::open(lower_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  // flock locks belong to the open file description: a second open of the
  // directory conflicts even within this process.
  auto r = (*ov)->Commit();
  EXPECT_EQ(r.code(), EWOULDBLOCK);
  ::close(fd);
  EXPECT_EQ(testing::DescribeDiff(original_, SnapshotReal(lower_)), "");
  ASSERT_TRUE((*ov)->Commit().ok());
}

// Crash at every step of commit, recover, and check the workdir is either
// exactly the view (rolled forward) or exactly the original (rolled back).
TEST_F(CowCommitTest, CrashAtEveryStepThenRecover) {
  // The reference: a full commit on a copy, to learn the step count and the
  // committed result.
  Tree committed;
  int steps = 0;
  {
    TempDir copy;
    ASSERT_EQ(::system(("cp -a " + lower_ + "/. " + copy.path() + "/").c_str()), 0);
    std::string storage = NewStorage();
    auto ov = Overlay::Create({copy.path(), storage}, {});
    ASSERT_TRUE(ov.ok());
    Mutate(**ov);
    committed = SnapshotView(**ov);
    auto report = (*ov)->Commit();
    ASSERT_TRUE(report.ok());
    steps = report->steps;
    ASSERT_EQ(testing::DescribeDiff(committed, SnapshotReal(copy.path())), "");
  }
  ASSERT_GT(steps, 10);
  int forward = 0;
  int back = 0;
  for (int crash_at = 0; crash_at < steps; ++crash_at) {
    SCOPED_TRACE("crash at step " + std::to_string(crash_at));
    TempDir work;
    ASSERT_EQ(::system(("cp -a " + lower_ + "/. " + work.path() + "/").c_str()), 0);
    std::string storage = NewStorage();
    {
      auto ov = Overlay::Create({work.path(), storage}, {});
      ASSERT_TRUE(ov.ok());
      Mutate(**ov);
      CommitOptions o;
      o.step_hook = [crash_at](int step) {
        if (step == crash_at) throw SimulatedCrash{};
      };
      EXPECT_THROW((void)(*ov)->Commit(o), SimulatedCrash);
    }
    // A later run finds the staging directory and recovers.
    auto rec = RecoverWorkdir(work.path());
    ASSERT_TRUE(rec.ok()) << rec.error().Message();
    Tree now = SnapshotReal(work.path());
    bool is_committed = testing::DescribeDiff(committed, now).empty();
    bool is_original = testing::DescribeDiff(original_, now).empty();
    EXPECT_TRUE(is_committed || is_original)
        << "in between:\n vs committed:\n"
        << testing::DescribeDiff(committed, now) << " vs original:\n"
        << testing::DescribeDiff(original_, now);
    if (is_committed && !is_original) ++forward;
    if (is_original) ++back;
    // A second recovery finds nothing left to do.
    auto again = RecoverWorkdir(work.path());
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->empty());
  }
  EXPECT_GT(forward, 0);
  EXPECT_GT(back, 0);
}

TEST_F(CowCommitTest, CommitRefusesWhileAnInterruptedCommitAwaitsRecovery) {
  std::string s1 = NewStorage();
  {
    auto ov = Overlay::Create({lower_, s1}, {});
    ASSERT_TRUE(ov.ok());
    Mutate(**ov);
    CommitOptions o;
    o.step_hook = [](int step) {
      if (step == 3) throw SimulatedCrash{};
    };
    EXPECT_THROW((void)(*ov)->Commit(o), SimulatedCrash);
  }
  std::string s2 = NewStorage();
  OverlayOptions no_recovery;
  no_recovery.recover_interrupted_commit = false;
  auto ov = Overlay::Create({lower_, s2}, no_recovery);
  ASSERT_TRUE(ov.ok());
  auto r = (*ov)->Commit();
  EXPECT_EQ(r.code(), EBUSY);
  auto rec = RecoverWorkdir(lower_);
  ASSERT_TRUE(rec.ok());
  ASSERT_EQ(rec->size(), 1u);
  EXPECT_EQ((*rec)[0].outcome, RecoveryReport::Outcome::kRolledBack);
  EXPECT_TRUE((*ov)->Commit().ok());
}

TEST_F(CowCommitTest, TheNextOverlayOfTheWorkdirRecoversFirst) {
  std::string s1 = NewStorage();
  Tree committed;
  {
    auto ov = Overlay::Create({lower_, s1}, {});
    ASSERT_TRUE(ov.ok());
    Mutate(**ov);
    committed = SnapshotView(**ov);
    // Crash in the apply phase: the journal is complete, so recovery
    // rolls forward.
    CommitOptions o;
    o.step_hook = [](int step) {
      if (step == 20) throw SimulatedCrash{};
    };
    EXPECT_THROW((void)(*ov)->Commit(o), SimulatedCrash);
  }
  std::string s2 = NewStorage();
  auto ov = Overlay::Create({lower_, s2}, {});
  ASSERT_TRUE(ov.ok()) << ov.error().Message();
  ASSERT_EQ((*ov)->recovery_messages().size(), 1u);
  EXPECT_NE((*ov)->recovery_messages()[0].find("finished an interrupted commit"),
            std::string::npos);
  EXPECT_EQ(testing::DescribeDiff(committed, SnapshotReal(lower_)), "");
  EXPECT_EQ(testing::DescribeDiff(committed, SnapshotView(**ov)), "");
}

TEST_F(CowCommitTest, AFailureBeforeTheCommitPointLeavesTheOverlayUsable) {
  std::string storage = NewStorage();
  auto ov = Overlay::Create({lower_, storage}, {});
  ASSERT_TRUE(ov.ok());
  // A name the commit itself needs: refused, nothing touched.
  std::string staging = std::string(kStagingPrefix) + storage.substr(storage.rfind('/') + 1);
  ASSERT_TRUE((*ov)->Mkdir(Base::Root(), staging, 0755).ok());
  EXPECT_EQ((*ov)->Commit().code(), EINVAL);
  EXPECT_EQ(testing::DescribeDiff(original_, SnapshotReal(lower_)), "");
  ASSERT_TRUE((*ov)->Rmdir(Base::Root(), staging).ok());
  ASSERT_TRUE((*ov)->Unlink(Base::Root(), "gone.txt").ok());
  ASSERT_TRUE((*ov)->Commit().ok());
  EXPECT_FALSE(Exists(lower_ + "/gone.txt"));
}

TEST_F(CowCommitTest, RecoverWithAMissingJournalIsAClearError) {
  // A staging directory pointing at a storage area that no longer exists.
  std::string staging = lower_ + "/" + std::string(kStagingPrefix) + "lost";
  ASSERT_EQ(::mkdir(staging.c_str(), 0700), 0);
  WriteFile(staging + "/origin", root_ / "no-such-storage\n");
  auto rec = RecoverWorkdir(lower_);
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.error().Message().find("cannot recover"), std::string::npos);
  EXPECT_TRUE(Exists(staging));  // nothing touched
}

TEST(CowStorage, CreatesPrivateAreasAndRefusesUnsafeParents) {
  TempDir tmp;
  std::string saved_tmp = ::getenv("TMPDIR") ? ::getenv("TMPDIR") : "";
  std::string saved_xdg = ::getenv("XDG_RUNTIME_DIR") ? ::getenv("XDG_RUNTIME_DIR") : "";
  ::unsetenv("XDG_RUNTIME_DIR");
  ::setenv("TMPDIR", tmp.path().c_str(), 1);
  auto area = CreateStorageArea();
  ASSERT_TRUE(area.ok()) << area.error().Message();
  struct stat st {};
  ASSERT_EQ(::lstat(area->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::string parent = tmp.path() + "/sandtrace-" + std::to_string(::geteuid());
  EXPECT_EQ(area->compare(0, parent.size(), parent), 0);
  ASSERT_EQ(::lstat(parent.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // A parent opened to others, or a symlink planted in its place, is refused.
  ASSERT_EQ(::chmod(parent.c_str(), 0777), 0);
  EXPECT_EQ(CreateStorageArea().code(), EPERM);
  ASSERT_EQ(::chmod(parent.c_str(), 0700), 0);
  ASSERT_TRUE(RemoveTree(parent).ok());
  TempDir elsewhere;
  ASSERT_EQ(::symlink(elsewhere.path().c_str(), parent.c_str()), 0);
  EXPECT_EQ(CreateStorageArea().code(), ENOTDIR);
  // XDG_RUNTIME_DIR is used when it is private.
  TempDir xdg;
  ASSERT_EQ(::chmod(xdg.path().c_str(), 0700), 0);
  ::setenv("XDG_RUNTIME_DIR", xdg.path().c_str(), 1);
  auto in_xdg = CreateStorageArea();
  ASSERT_TRUE(in_xdg.ok());
  EXPECT_EQ(in_xdg->compare(0, xdg.path().size() + 10, xdg.path() + "/sandtrace"), 0);
  if (saved_tmp.empty())
    ::unsetenv("TMPDIR");
  else
    ::setenv("TMPDIR", saved_tmp.c_str(), 1);
  if (saved_xdg.empty())
    ::unsetenv("XDG_RUNTIME_DIR");
  else
    ::setenv("XDG_RUNTIME_DIR", saved_xdg.c_str(), 1);
}

}  // namespace
}  // namespace sandtrace::cow
