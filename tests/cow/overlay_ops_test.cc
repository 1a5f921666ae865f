// Unit tests of the overlay engine: metadata operations, listing,
// confinement, quota, change list, observer, determinism, unprivileged use.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cow/overlay.h"
#include "tests/cow/overlay_fixture.h"

namespace sandtrace::cow {
namespace {

// ---- metadata ---------------------------------------------------------------------------------

TEST_F(OverlayTest, ChmodTruncateUtimens) {
  auto ov = Make();
  ASSERT_TRUE(ov->Chmod(root, "link_a", 0600).ok());  // follows to a.txt
  EXPECT_EQ(ov->Stat(root, "a.txt")->st_mode & 07777, 0600u);
  EXPECT_EQ(ov->Chmod(root, "link_a", 0600, false).code(), EOPNOTSUPP);
  EXPECT_EQ(ov->Chmod(root, "nope", 0600).code(), ENOENT);
  ASSERT_TRUE(ov->Chmod(root, "dir", 0700).ok());
  EXPECT_EQ(ov->Stat(root, "dir")->st_mode & 07777, 0700u);
  EXPECT_TRUE(ov->Stat(root, "dir/b.txt").ok());  // still merged

  ASSERT_TRUE(ov->Truncate(root, "dir/b.txt", 2).ok());
  auto f = ov->Open(root, "dir/b.txt", O_RDONLY, 0);
  EXPECT_EQ(ReadFd(f->fd.get()), "be");
  ASSERT_TRUE(ov->Truncate(root, "dir/b.txt", 4).ok());
  EXPECT_EQ(ov->Stat(root, "dir/b.txt")->st_size, 4);
  EXPECT_EQ(ov->Truncate(root, "dir", 0).code(), EISDIR);
  EXPECT_EQ(ov->Truncate(root, "a.txt", -1).code(), EINVAL);
  EXPECT_EQ(ov->Truncate(root, "nope", 0).code(), ENOENT);

  struct timespec ts[2] = {{1000, 5}, {2000, 7}};
  ASSERT_TRUE(ov->Utimens(root, "exe.sh", ts).ok());
  auto st = ov->Stat(root, "exe.sh");
  EXPECT_EQ(st->st_mtim.tv_sec, 2000);
  EXPECT_EQ(st->st_mtim.tv_nsec, 7);
  EXPECT_EQ(st->st_atim.tv_sec, 1000);
  ASSERT_TRUE(ov->Utimens(root, "link_dir", ts, false).ok());
  EXPECT_EQ(ov->Stat(root, "link_dir", false)->st_mtim.tv_sec, 2000);
  EXPECT_EQ(ov->Utimens(root, "nope", ts).code(), ENOENT);
  ExpectLowerUntouched();
}

TEST_F(OverlayTest, ChownIsVirtualWithoutPrivilege) {
  OverlayOptions o;
  o.force_virtual_chown = true;
  auto ov = Make(o);
  ASSERT_TRUE(ov->Chown(root, "a.txt", 4242, 4343).ok());
  auto st = ov->Stat(root, "a.txt");
  EXPECT_EQ(st->st_uid, 4242u);
  EXPECT_EQ(st->st_gid, 4343u);
  struct stat real {};
  ASSERT_EQ(::stat((ov->upper_root() + "/a.txt").c_str(), &real), 0);
  EXPECT_EQ(real.st_uid, ::geteuid());
  ASSERT_TRUE(ov->Chown(root, "a.txt", -1, 77).ok());
  EXPECT_EQ(ov->Stat(root, "a.txt")->st_uid, 4242u);
  EXPECT_EQ(ov->Stat(root, "a.txt")->st_gid, 77u);
  auto stx = ov->Statx(root, "a.txt");
  EXPECT_EQ(stx->stx_uid, 4242u);
  // Removing the file forgets its virtual owner.
  ASSERT_TRUE(ov->Unlink(root, "a.txt").ok());
  auto c = ov->Open(root, "a.txt", O_CREAT | O_WRONLY, 0644);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ov->Stat(root, "a.txt")->st_uid, ::geteuid());
}

TEST_F(OverlayTest, ChownRealWhenPrivileged) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto ov = Make();
  ASSERT_TRUE(ov->Chown(root, "a.txt", 123, 456).ok());
  struct stat real {};
  ASSERT_EQ(::stat((ov->upper_root() + "/a.txt").c_str(), &real), 0);
  EXPECT_EQ(real.st_uid, 123u);
  EXPECT_EQ(ov->Stat(root, "a.txt")->st_uid, 123u);
}

TEST_F(OverlayTest, Xattrs) {
  auto ov = Make();
  auto s = ov->SetXattr(root, "a.txt", "user.test", "value", 0);
  if (s.code() == ENOTSUP) GTEST_SKIP() << "no user xattrs here";
  ASSERT_TRUE(s.ok()) << s.error().Message();
  EXPECT_EQ(ov->GetXattr(root, "a.txt", "user.test").value_or(""), "value");
  auto names = ov->ListXattr(root, "a.txt");
  ASSERT_TRUE(names.ok());
  EXPECT_NE(std::find(names->begin(), names->end(), "user.test"), names->end());
  EXPECT_EQ(ov->SetXattr(root, "a.txt", "user.test", "v", XATTR_CREATE).code(), EEXIST);
  ASSERT_TRUE(ov->RemoveXattr(root, "a.txt", "user.test").ok());
  EXPECT_EQ(ov->GetXattr(root, "a.txt", "user.test").code(), ENODATA);
  EXPECT_EQ(ov->RemoveXattr(root, "exe.sh", "user.none").code(), ENODATA);
  EXPECT_FALSE(Exists(ov->upper_root() + "/exe.sh"));  // no copy-up for nothing
  // Copy-up carries xattrs along.
  ASSERT_EQ(::setxattr((lower_ + "/dir/b.txt").c_str(), "user.k", "v1", 2, 0), 0);
  ASSERT_TRUE(ov->Chmod(root, "dir/b.txt", 0600).ok());
  EXPECT_EQ(ov->GetXattr(root, "dir/b.txt", "user.k").value_or(""), "v1");
}

TEST_F(OverlayTest, AccessAndStatView) {
  auto ov = Make();
  EXPECT_TRUE(ov->Access(root, "a.txt", F_OK).ok());
  EXPECT_EQ(ov->Access(root, "nope", F_OK).code(), ENOENT);
  EXPECT_EQ(ov->Access(root, "a.txt", X_OK).code(), EACCES);
  EXPECT_TRUE(ov->Access(root, "exe.sh", X_OK).ok());
  EXPECT_EQ(ov->Access(root, "a.txt", 0100).code(), EINVAL);
  OverlayOptions o;
  o.creds = Credentials{4242, 4242, {}};
  TempDir other;
  auto ov2 = Overlay::Create({lower_, other.path()}, o);
  ASSERT_TRUE(ov2.ok());
  EXPECT_EQ((*ov2)->Access(root, "a.txt", R_OK).code(), EACCES);  // 0640, owner root
  EXPECT_TRUE((*ov2)->Access(root, "exe.sh", R_OK | X_OK).ok());
  EXPECT_EQ((*ov2)->Access(root, "exe.sh", W_OK).code(), EACCES);
  EXPECT_EQ((*ov2)->Open(root, "a.txt", O_RDONLY, 0).code(), EACCES);
  EXPECT_EQ((*ov2)->Unlink(root, "a.txt").code(), EACCES);  // workdir 0755, not ours
  EXPECT_EQ((*ov2)->Chmod(root, "exe.sh", 0777).code(), EPERM);
  (void)(*ov2)->Abort();
  auto stx = ov->Statx(root, "dir");
  ASSERT_TRUE(stx.ok());
  EXPECT_TRUE(S_ISDIR(stx->stx_mode));
}

// ---- listing ----------------------------------------------------------------------------------

TEST_F(OverlayTest, MergedListingHasTypesAndStableOffsets) {
  auto ov = Make();
  ASSERT_TRUE(ov->Unlink(root, "a.txt").ok());
  ASSERT_TRUE(ov->Mkdir(root, "newdir", 0755).ok());
  ASSERT_TRUE(ov->Symlink("x", root, "newlink").ok());
  auto l = ov->ListDir(root, ".");
  ASSERT_TRUE(l.ok());
  std::map<std::string, DirEntry> by_name;
  uint64_t prev = 0;
  for (const auto& e : *l) {
    EXPECT_GT(e.off, prev);
    prev = e.off;
    by_name[e.name] = e;
  }
  EXPECT_EQ((*l)[0].name, ".");
  EXPECT_EQ((*l)[1].name, "..");
  EXPECT_FALSE(by_name.count("a.txt"));
  EXPECT_EQ(by_name["newdir"].type, FileType::kDirectory);
  EXPECT_EQ(by_name["newlink"].type, FileType::kSymlink);
  EXPECT_EQ(by_name["dir"].type, FileType::kDirectory);
  EXPECT_EQ(by_name["fifo"].type, FileType::kFifo);
  EXPECT_EQ(DirentType(by_name["exe.sh"].type), DT_REG);
  // Offsets survive changes to the directory: a reader that stopped after
  // some entry resumes at the same place.
  uint64_t off_dir = by_name["dir"].off;
  ASSERT_TRUE(ov->Mknod(root, "zzz_new", S_IFIFO | 0600).ok());
  ASSERT_TRUE(ov->Unlink(root, "exe.sh").ok());
  auto l2 = ov->ListDir(root, ".");
  ASSERT_TRUE(l2.ok());
  for (const auto& e : *l2) {
    if (e.name == "dir") {
      EXPECT_EQ(e.off, off_dir);
    }
    if (e.name == "newlink") {
      EXPECT_EQ(e.off, by_name["newlink"].off);
    }
  }
  EXPECT_EQ(ov->ListDir(root, "a.txt").code(), ENOENT);
  EXPECT_EQ(ov->ListDir(root, "exe.sh").code(), ENOENT);
  EXPECT_EQ(ov->ListDir(root, "link_a").code(), ENOENT);  // dangling now
  EXPECT_EQ(ov->ListDir(root, "dir/b.txt").code(), ENOTDIR);
  auto through = ov->ListDir(root, "link_dir");
  ASSERT_TRUE(through.ok());
  EXPECT_EQ(through->size(), 4u);
}

// ---- confinement
// ------------------------------------------------------------------------------------

TEST_F(OverlayTest, NeverTouchesWhatASymlinkPointsOutsideAt) {
  auto ov = Make();
  auto before_outside = testing::SnapshotReal(outside_);
  EXPECT_EQ(ov->Open(root, "up_link/secret", O_WRONLY | O_TRUNC, 0).code(), EXDEV);
  EXPECT_EQ(ov->Open(root, "up_link/new", O_CREAT | O_WRONLY, 0644).code(), EXDEV);
  EXPECT_EQ(ov->Unlink(root, "up_link/secret").code(), EXDEV);
  EXPECT_EQ(ov->Mkdir(root, "up_link/d", 0755).code(), EXDEV);
  EXPECT_EQ(ov->Chmod(root, "up_link/secret", 0777).code(), EXDEV);
  EXPECT_EQ(ov->Truncate(root, "etc_link/passwd", 0).code(), EXDEV);
  EXPECT_EQ(ov->Rename(root, "up_link/secret", root, "stolen").code(), EXDEV);
  EXPECT_EQ(ov->Link(root, "up_link/secret", root, "stolen").code(), EXDEV);
  EXPECT_EQ(ov->Stat(root, "etc_link/passwd").code(), EXDEV);
  EXPECT_EQ(ov->ListDir(root, "etc_link").code(), EXDEV);
  // Operating on the symlinks themselves stays inside.
  ASSERT_TRUE(ov->Unlink(root, "etc_link").ok());
  ASSERT_TRUE(ov->Rename(root, "up_link", root, "renamed_link").ok());
  EXPECT_EQ(ov->Readlink(root, "renamed_link").value_or(""), "../outside");
  EXPECT_EQ(testing::DescribeDiff(before_outside, testing::SnapshotReal(outside_)), "");
  ExpectLowerUntouched();
}

TEST_F(OverlayTest, ASymlinkSwappedIntoTheLowerIsNotFollowedByTheEngine) {
  auto ov = Make();
  // The walk saw a directory; then someone replaces it with a symlink out.
  ASSERT_TRUE(ov->Stat(root, "dir/sub/c.txt").ok());
  ASSERT_EQ(::rename((lower_ + "/dir/sub").c_str(), (root_ / "moved_sub").c_str()), 0);
  ASSERT_EQ(::symlink(outside_.c_str(), (lower_ + "/dir/sub").c_str()), 0);
  auto w = ov->Open(root, "dir/sub/secret", O_WRONLY, 0);
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(ReadFile(outside_ + "/secret"), "outside data");
}

// ---- quota
// ------------------------------------------------------------------------------------------

TEST_F(OverlayTest, QuotaChargesCopyUpsGrowthAndEntriesAndCreditsRemovals) {
  OverlayOptions o;
  o.quota_bytes = 3 * kEntryCost + 100;
  auto ov = Make(o);
  WriteFile(lower_ + "/big", std::string(5000, 'x'));
  EXPECT_EQ(ov->Open(root, "big", O_WRONLY, 0).code(), ENOSPC);
  EXPECT_FALSE(Exists(ov->upper_root() + "/big"));
  auto c = ov->Open(root, "small", O_CREAT | O_WRONLY, 0644);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ov->used_bytes(), kEntryCost);
  EXPECT_EQ(ov->Truncate(root, "small", 5000).code(), ENOSPC);
  ASSERT_TRUE(ov->Truncate(root, "small", 50).ok());
  EXPECT_EQ(ov->used_bytes(), kEntryCost + 50);
  ASSERT_EQ(::pwrite(c->fd.get(), std::string(4000, 'y').data(), 4000, 0), 4000);
  EXPECT_EQ(ov->Remeasure(root, "small").code(), ENOSPC);
  EXPECT_EQ(ov->used_bytes(), kEntryCost + 4000);
  EXPECT_EQ(ov->Mkdir(root, "d", 0755).code(), ENOSPC);
  ASSERT_TRUE(ov->Unlink(root, "small").ok());
  EXPECT_EQ(ov->used_bytes(), 0u);
  EXPECT_TRUE(ov->Mkdir(root, "d", 0755).ok());
}

// ---- change list and observer -----------------------------------------------------------------

class Recorder : public OverlayObserver {
 public:
  void OnCopyUp(std::string_view path, FileType, uint64_t) override {
    log.push_back("copyup " + std::string(path));
  }
  void OnCreate(std::string_view path, FileType) override {
    log.push_back("create " + std::string(path));
  }
  void OnWhiteout(std::string_view path) override {
    log.push_back("whiteout " + std::string(path));
  }
  void OnCommit(const Status& s, size_t n) override {
    log.push_back("commit " + std::to_string(s.ok()) + " " + std::to_string(n));
  }
  void OnDiscard(const Status& s) override { log.push_back("discard " + std::to_string(s.ok())); }
  std::vector<std::string> log;
};

TEST_F(OverlayTest, ChangeListAndObserver) {
  Recorder rec;
  OverlayOptions o;
  o.observer = &rec;
  auto ov = Make(o);
  auto f = ov->Open(root, "dir/b.txt", O_WRONLY | O_APPEND, 0);
  ASSERT_EQ(::write(f->fd.get(), "!", 1), 1);
  ASSERT_TRUE(ov->Unlink(root, "a.txt").ok());
  ASSERT_TRUE(ov->Mkdir(root, "n", 0755).ok());
  ASSERT_TRUE(ov->Chmod(root, "exe.sh", 0700).ok());
  ASSERT_TRUE(ov->Unlink(root, "link_a").ok());
  ASSERT_TRUE(ov->Mkdir(root, "link_a", 0755).ok());  // type change
  (void)ov->Open(root, "dir/sub/c.txt", O_RDWR, 0);   // copied up, unchanged
  auto ch = ov->Changes();
  ASSERT_TRUE(ch.ok());
  std::vector<std::string> got;
  for (const auto& c : *ch) {
    got.push_back(std::string(1, ChangeKindLetter(c.kind)) + " " + c.path + " " +
                  std::to_string(c.what));
  }
  std::vector<std::string> want = {
      "D a.txt 0",
      "M dir/b.txt " + std::to_string(kChangedContent | kChangedTimes),
      "M exe.sh " + std::to_string(kChangedMode),
      "M link_a " + std::to_string(kChangedType),
      "A n 0",
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(rec.log[0], "copyup dir");
  EXPECT_EQ(rec.log[1], "copyup dir/b.txt");
  EXPECT_EQ(rec.log[2], "whiteout a.txt");
  EXPECT_EQ(rec.log[3], "create n");
  ASSERT_TRUE(ov->Abort().ok());
  EXPECT_EQ(rec.log.back(), "discard 1");
  EXPECT_FALSE(Exists(storage_));
  ExpectLowerUntouched();
  EXPECT_THROW((void)ov->Stat(root, "a.txt"), Fatal);
}

// ---- determinism
// ------------------------------------------------------------------------------------

TEST_F(OverlayTest, SameCallsOnACopyGiveTheSameResults) {
  TempDir other;
  ASSERT_EQ(::system(("cp -a " + lower_ + "/. " + other.path() + "/").c_str()), 0);
  TempDir store2;
  auto a = Make();
  auto b = Overlay::Create({other.path(), store2.path()}, {});
  ASSERT_TRUE(b.ok());
  auto run = [&](Overlay& ov) {
    std::vector<std::string> out;
    out.push_back(std::to_string(ov.Rename(root, "dir", root, "d2").code()));
    out.push_back(std::to_string(ov.Unlink(root, "nope").code()));
    out.push_back(std::to_string(ov.Mkdir(root, "dir", 0755).code()));
    out.push_back(std::to_string(ov.Symlink("d2/sub", root, "dir/s").code()));
    out.push_back(std::to_string(ov.Rmdir(root, "dir/s/").code()));
    auto r = ov.Resolve(root, "dir/s/c.txt");
    out.push_back(r ? r->path + " " + r->layer_path : std::to_string(r.code()));
    auto listing = ov.ListDir(root, ".");
    for (const auto& e : *listing) {
      out.push_back(e.name + " " + std::to_string(e.off) + " " + FileTypeName(e.type));
    }
    auto changes = ov.Changes();
    for (const auto& c : *changes) out.push_back(c.path);
    return out;
  };
  EXPECT_EQ(run(*a), run(**b));
}

}  // namespace
}  // namespace sandtrace::cow

namespace sandtrace::cow {
namespace {

// The unprivileged path for real: a forked child drops to another uid, runs
// the engine, and chown to someone else must be kept virtual (and reported
// done) because the kernel refuses it.
TEST(OverlayUnprivileged, ChownIsKeptVirtualWhenTheKernelRefuses) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to an unprivileged uid";
  TempDir root;
  const uid_t nobody = 65534;
  const std::string lower = root / "work";
  const std::string storage = root / "store";
  ASSERT_EQ(::mkdir(lower.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(storage.c_str(), 0700), 0);
  WriteFile(lower + "/f", "data");
  ASSERT_EQ(::chown(lower.c_str(), nobody, nobody), 0);
  ASSERT_EQ(::chown((lower + "/f").c_str(), nobody, nobody), 0);
  ASSERT_EQ(::chown(storage.c_str(), nobody, nobody), 0);
  ASSERT_EQ(::chmod(root.path().c_str(), 0755), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(nobody, nobody, nobody) != 0 ||
        ::setresuid(nobody, nobody, nobody) != 0) {
      ::_exit(10);
    }
    auto ov = Overlay::Create({lower, storage}, {});
    if (!ov) ::_exit(11);
    if (!(*ov)->Chown(Base::Root(), "f", 1234, 1234).ok()) ::_exit(12);
    auto st = (*ov)->Stat(Base::Root(), "f");
    if (!st || st->st_uid != 1234 || st->st_gid != 1234) ::_exit(13);
    struct stat real {};
    if (::stat(((*ov)->upper_root() + "/f").c_str(), &real) != 0 || real.st_uid != nobody) {
      ::_exit(14);
    }
    (void)(*ov)->Abort();
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace sandtrace::cow
