// Unit tests of the overlay engine: resolution, each operation and its
// errnos, listing, quota, confinement, change list, observer, determinism.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cow/overlay.h"
#include "tests/cow/cow_test_util.h"

namespace sandtrace::cow {
namespace {

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

// ---- resolution --------------------------------------------------------------------------

TEST_F(OverlayTest, ResolvesLowerObjectsAsKernelEquivalent) {
  auto ov = Make();
  auto r = ov->Resolve(root, "dir/sub/c.txt");
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_FALSE(r->outside);
  EXPECT_TRUE(r->exists);
  EXPECT_EQ(r->path, "dir/sub/c.txt");
  EXPECT_EQ(r->type, FileType::kRegular);
  EXPECT_EQ(r->layer, Layer::kLower);
  EXPECT_EQ(r->real_path, ov->lower_root() + "/dir/sub/c.txt");
  EXPECT_TRUE(r->kernel_equivalent);

  auto missing = ov->Resolve(root, "dir/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->exists);
  EXPECT_TRUE(missing->kernel_equivalent);
}

TEST_F(OverlayTest, ResolutionErrors) {
  auto ov = Make();
  EXPECT_EQ(ov->Resolve(root, "nope/x").code(), ENOENT);
  EXPECT_EQ(ov->Resolve(root, "a.txt/x").code(), ENOTDIR);
  EXPECT_EQ(ov->Resolve(root, "a.txt/").code(), ENOTDIR);
  EXPECT_EQ(ov->Resolve(root, "").code(), ENOENT);
  EXPECT_EQ(ov->Resolve(root, std::string(300, 'x')).code(), ENAMETOOLONG);
  ASSERT_EQ(::symlink("loop2", (lower_ + "/loop1").c_str()), 0);
  ASSERT_EQ(::symlink("loop1", (lower_ + "/loop2").c_str()), 0);
  EXPECT_EQ(ov->Resolve(root, "loop1").code(), ELOOP);
  ResolveOptions nosym;
  nosym.no_symlinks = true;
  EXPECT_EQ(ov->Resolve(root, "link_dir/b.txt", nosym).code(), ELOOP);
}

TEST_F(OverlayTest, FollowsSymlinksAndDotDotInsideTheView) {
  auto ov = Make();
  auto r = ov->Resolve(root, "link_dir/sub/../b.txt");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "dir/b.txt");
  EXPECT_TRUE(r->exists);
  auto nf = ov->Resolve(root, "link_a", ResolveOptions{false});
  ASSERT_TRUE(nf.ok());
  EXPECT_EQ(nf->type, FileType::kSymlink);
  auto abs = ov->Resolve(root, ov->lower_root() + "/dir/b.txt");
  ASSERT_TRUE(abs.ok());
  EXPECT_FALSE(abs->outside);
  EXPECT_EQ(abs->path, "dir/b.txt");
  // Leaving and coming back through the workdir's real parent is inside.
  auto back = ov->Resolve(root, "../work/a.txt");
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->outside);
  EXPECT_EQ(back->path, "a.txt");
}

TEST_F(OverlayTest, PathsLeavingTheWorkdirAreOutside) {
  auto ov = Make();
  auto etc = ov->Resolve(root, "etc_link/passwd");
  ASSERT_TRUE(etc.ok());
  EXPECT_TRUE(etc->outside);
  EXPECT_EQ(etc->outside_path, "/etc/passwd");
  auto up = ov->Resolve(root, "up_link/secret");
  ASSERT_TRUE(up.ok());
  EXPECT_TRUE(up->outside);
  EXPECT_EQ(up->outside_path, root_.path() + "/outside/secret");
  auto dotdot = ov->Resolve(Base::View("dir"), "../../outside");
  ASSERT_TRUE(dotdot.ok());
  EXPECT_TRUE(dotdot->outside);
  auto out_base = ov->Resolve(Base::Outside("/usr"), "lib");
  ASSERT_TRUE(out_base.ok());
  EXPECT_TRUE(out_base->outside);
  EXPECT_EQ(out_base->outside_path, "/usr/lib");
  ResolveOptions beneath;
  beneath.beneath = true;
  EXPECT_EQ(ov->Resolve(Base::View("dir"), "../a.txt", beneath).code(), EXDEV);
  ResolveOptions in_root;
  in_root.in_root = true;
  auto ir = ov->Resolve(Base::View("dir"), "/b.txt", in_root);
  ASSERT_TRUE(ir.ok());
  EXPECT_EQ(ir->path, "dir/b.txt");
}

TEST_F(OverlayTest, ViewPathOfMapsBothRoots) {
  auto ov = Make();
  EXPECT_EQ(ov->ViewPathOf(ov->lower_root()), std::optional<std::string>(""));
  EXPECT_EQ(ov->ViewPathOf(ov->lower_root() + "/dir/sub"), std::optional<std::string>("dir/sub"));
  EXPECT_EQ(ov->ViewPathOf(ov->upper_root() + "/dir"), std::optional<std::string>("dir"));
  EXPECT_EQ(ov->ViewPathOf(ov->lower_root() + "x"), std::nullopt);
  EXPECT_EQ(ov->ViewPathOf("/etc"), std::nullopt);
  Base b = ov->BaseOf(ov->upper_root() + "/dir");
  EXPECT_FALSE(b.outside);
  EXPECT_TRUE(b.real_is_upper);
  EXPECT_TRUE(ov->BaseOf("/etc").outside);
}

TEST_F(OverlayTest, KernelEquivalenceIsLostUnderChanges) {
  auto ov = Make();
  ASSERT_TRUE(ov->Unlink(root, "dir/b.txt").ok());
  auto r = ov->Resolve(root, "dir/b.txt");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->exists);
  EXPECT_FALSE(r->kernel_equivalent);  // the kernel would still find it
  auto sub = ov->Resolve(root, "dir/sub/c.txt");
  ASSERT_TRUE(sub.ok());
  EXPECT_TRUE(sub->kernel_equivalent);  // copied-up parent, untouched entry
  ASSERT_TRUE(ov->Rename(root, "dir", root, "moved").ok());
  auto moved = ov->Resolve(root, "moved/sub/c.txt");
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(moved->exists);
  EXPECT_EQ(moved->layer, Layer::kLower);
  EXPECT_EQ(moved->layer_path, "dir/sub/c.txt");
  EXPECT_FALSE(moved->kernel_equivalent);
  // A relative walk from a base whose real directory is the upper copy.
  Base upper_base = ov->BaseOf(ov->upper_root());
  auto ub = ov->Resolve(upper_base, "a.txt");
  ASSERT_TRUE(ub.ok());
  EXPECT_FALSE(ub->kernel_equivalent);
}

// ---- open ----------------------------------------------------------------------------------

TEST_F(OverlayTest, ReadOnlyOpenUsesTheLower) {
  auto ov = Make();
  auto f = ov->Open(root, "link_a", O_RDONLY, 0);
  ASSERT_TRUE(f.ok()) << f.error().Message();
  EXPECT_EQ(f->layer, Layer::kLower);
  EXPECT_EQ(f->layer_path, "a.txt");
  EXPECT_TRUE(f->open_flags & O_CLOEXEC);
  EXPECT_EQ(ReadFd(f->fd.get()), "alpha");
  EXPECT_FALSE(Exists(ov->upper_root() + "/a.txt"));
}

TEST_F(OverlayTest, WriteOpenCopiesUpPreservingMetadata) {
  auto ov = Make();
  struct stat lst {};
  ASSERT_EQ(::stat((lower_ + "/dir/b.txt").c_str(), &lst), 0);
  auto f = ov->Open(root, "dir/b.txt", O_WRONLY | O_APPEND, 0);
  ASSERT_TRUE(f.ok()) << f.error().Message();
  EXPECT_EQ(f->layer, Layer::kUpper);
  EXPECT_EQ(f->layer_path, "dir/b.txt");
  struct stat ust {};
  ASSERT_EQ(::stat((ov->upper_root() + "/dir/b.txt").c_str(), &ust), 0);
  EXPECT_EQ(ust.st_mode, lst.st_mode);
  EXPECT_EQ(ust.st_mtim.tv_sec, lst.st_mtim.tv_sec);
  EXPECT_EQ(ust.st_mtim.tv_nsec, lst.st_mtim.tv_nsec);
  // The copied-up parent keeps the lower's mode.
  struct stat dst {};
  ASSERT_EQ(::stat((ov->upper_root() + "/dir").c_str(), &dst), 0);
  EXPECT_EQ(dst.st_mode & 07777, 0750u);
  ASSERT_EQ(::write(f->fd.get(), "!", 1), 1);
  auto r = ov->Open(root, "dir/b.txt", O_RDONLY, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->layer, Layer::kUpper);
  EXPECT_EQ(ReadFd(r->fd.get()), "beta!");
  ExpectLowerUntouched();
}

TEST_F(OverlayTest, OpenFlagsErrnos) {
  auto ov = Make();
  EXPECT_EQ(ov->Open(root, "nope", O_RDONLY, 0).code(), ENOENT);
  EXPECT_EQ(ov->Open(root, "a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644).code(), EEXIST);
  EXPECT_EQ(ov->Open(root, "link_a", O_RDONLY | O_NOFOLLOW, 0).code(), ELOOP);
  EXPECT_EQ(ov->Open(root, "a.txt", O_RDONLY | O_DIRECTORY, 0).code(), ENOTDIR);
  EXPECT_EQ(ov->Open(root, "dir", O_WRONLY, 0).code(), EISDIR);
  EXPECT_EQ(ov->Open(root, "dir", O_RDONLY | O_CREAT, 0644).code(), EISDIR);
  EXPECT_EQ(ov->Open(root, "nodir/x", O_CREAT | O_WRONLY, 0644).code(), ENOENT);
  EXPECT_EQ(ov->Open(root, "a.txt/x", O_CREAT | O_WRONLY, 0644).code(), ENOTDIR);
  EXPECT_EQ(ov->Open(root, "newdir/", O_CREAT | O_WRONLY, 0644).code(), EISDIR);
  EXPECT_EQ(ov->Open(root, "etc_link/passwd", O_RDONLY, 0).code(), EXDEV);
  auto d = ov->Open(root, "dir", O_RDONLY | O_DIRECTORY, 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->layer, Layer::kLower);
  auto p = ov->Open(root, "link_a", O_PATH | O_NOFOLLOW, 0);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->open_flags & O_PATH);
}

TEST_F(OverlayTest, CreateTruncateAndDanglingSymlink) {
  auto ov = Make();
  auto c = ov->Open(root, "dir/new.txt", O_CREAT | O_WRONLY, 0600);
  ASSERT_TRUE(c.ok()) << c.error().Message();
  ASSERT_EQ(::write(c->fd.get(), "xyz", 3), 3);
  auto st = ov->Stat(root, "dir/new.txt");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode & 07777, 0600u);  // the process umask does not interfere
  EXPECT_EQ(st->st_size, 3);
  auto t = ov->Open(root, "a.txt", O_WRONLY | O_TRUNC, 0);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(ov->Stat(root, "a.txt")->st_size, 0);
  // O_CREAT through a dangling symlink creates its target.
  auto d = ov->Open(root, "dangling", O_CREAT | O_WRONLY, 0644);
  ASSERT_TRUE(d.ok()) << d.error().Message();
  EXPECT_TRUE(ov->Stat(root, "missing").ok());
  EXPECT_EQ(ov->Open(root, "dangling", O_CREAT | O_EXCL | O_WRONLY, 0644).code(), EEXIST);
  ExpectLowerUntouched();
}

TEST_F(OverlayTest, TmpfileThenLink) {
  auto ov = Make();
  auto f = ov->Open(root, "dir", O_TMPFILE | O_RDWR, 0644);
  ASSERT_TRUE(f.ok()) << f.error().Message();
  ASSERT_EQ(::write(f->fd.get(), "tmp", 3), 3);
  EXPECT_EQ(ov->Open(root, "dir", O_TMPFILE | O_RDONLY, 0644).code(), EINVAL);
  EXPECT_EQ(ov->Open(root, "a.txt", O_TMPFILE | O_RDWR, 0644).code(), ENOTDIR);
  ASSERT_TRUE(ov->LinkTmpfile(f->fd.get(), root, "dir/named").ok());
  auto r = ov->Open(root, "dir/named", O_RDONLY, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadFd(r->fd.get()), "tmp");
  EXPECT_EQ(ov->LinkTmpfile(f->fd.get(), root, "dir/named").code(), EEXIST);
}

TEST_F(OverlayTest, FifoOpenNeverBlocksAndDevicesAreRefused) {
  auto ov = Make();
  auto r = ov->Open(root, "fifo", O_RDONLY, 0);  // no writer: must not block
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(ov->Open(root, "fifo", O_WRONLY | O_NONBLOCK, 0).ok(), true);  // reader exists now
  // Copy-up (chmod) of a FIFO recreates it without opening it.
  ASSERT_TRUE(ov->Chmod(root, "fifo", 0600).ok());
  struct stat st {};
  ASSERT_EQ(::lstat((ov->upper_root() + "/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(ov->Mknod(root, "dev", S_IFCHR | 0600, makedev(1, 3)).code(), EPERM);
  if (::mknod((lower_ + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    EXPECT_EQ(ov->Open(root, "null", O_WRONLY, 0).code(), EPERM);
    EXPECT_EQ(ov->Chmod(root, "null", 0600).code(), EPERM);
  }
}

// ---- directory operations ------------------------------------------------------------------------

TEST_F(OverlayTest, MkdirErrnosAndRecreationIsOpaque) {
  auto ov = Make();
  EXPECT_EQ(ov->Mkdir(root, "dir", 0755).code(), EEXIST);
  EXPECT_EQ(ov->Mkdir(root, "dangling", 0755).code(), EEXIST);
  EXPECT_EQ(ov->Mkdir(root, "nope/x", 0755).code(), ENOENT);
  EXPECT_EQ(ov->Mkdir(root, "a.txt/x", 0755).code(), ENOTDIR);
  EXPECT_EQ(ov->Mkdir(root, ".", 0755).code(), EEXIST);
  ASSERT_TRUE(ov->Mkdir(root, "fresh/", 0711).ok());
  EXPECT_EQ(ov->Stat(root, "fresh")->st_mode & 07777, 0711u);
  // rm -rf dir && mkdir dir gives an empty dir.
  ASSERT_TRUE(ov->Unlink(root, "dir/sub/c.txt").ok());
  ASSERT_TRUE(ov->Rmdir(root, "dir/sub").ok());
  ASSERT_TRUE(ov->Unlink(root, "dir/b.txt").ok());
  ASSERT_TRUE(ov->Rmdir(root, "dir").ok());
  ASSERT_TRUE(ov->Mkdir(root, "dir", 0755).ok());
  auto list = ov->ListDir(root, "dir");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
  EXPECT_EQ(ov->Stat(root, "dir/b.txt").code(), ENOENT);
  ExpectLowerUntouched();
}

TEST_F(OverlayTest, RmdirErrnos) {
  auto ov = Make();
  EXPECT_EQ(ov->Rmdir(root, "dir").code(), ENOTEMPTY);
  EXPECT_EQ(ov->Rmdir(root, "a.txt").code(), ENOTDIR);
  EXPECT_EQ(ov->Rmdir(root, "nope").code(), ENOENT);
  EXPECT_EQ(ov->Rmdir(root, "dir/.").code(), EINVAL);
  EXPECT_EQ(ov->Rmdir(root, "dir/..").code(), ENOTEMPTY);
  EXPECT_EQ(ov->Rmdir(root, "/").code(), EXDEV);  // "/" is outside the workdir
  EXPECT_EQ(ov->Rmdir(root, ".").code(), EINVAL);
  // Emptied in the view (whiteouts only): now removable.
  ASSERT_TRUE(ov->Unlink(root, "dir/sub/c.txt").ok());
  EXPECT_TRUE(ov->Rmdir(root, "dir/sub").ok());
  EXPECT_EQ(ov->Stat(root, "dir/sub").code(), ENOENT);
}

TEST_F(OverlayTest, UnlinkWhiteoutsAndRecreationStartsEmpty) {
  auto ov = Make();
  EXPECT_EQ(ov->Unlink(root, "dir").code(), EISDIR);
  EXPECT_EQ(ov->Unlink(root, "nope").code(), ENOENT);
  EXPECT_EQ(ov->Unlink(root, "a.txt/").code(), ENOTDIR);
  ASSERT_TRUE(ov->Unlink(root, "a.txt").ok());
  EXPECT_EQ(ov->Stat(root, "a.txt").code(), ENOENT);
  EXPECT_EQ(ov->Stat(root, "link_a").code(), ENOENT);  // dangling now
  EXPECT_TRUE(ov->Stat(root, "link_a", false).ok());
  auto f = ov->Open(root, "a.txt", O_CREAT | O_RDWR, 0644);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ReadFd(f->fd.get()), "");
  ASSERT_TRUE(ov->Unlink(root, "link_a").ok());  // the symlink itself
  EXPECT_TRUE(ov->Stat(root, "a.txt").ok());
  ExpectLowerUntouched();
}

TEST_F(OverlayTest, RenameFilesAndErrnos) {
  auto ov = Make();
  ASSERT_TRUE(ov->Rename(root, "a.txt", root, "dir/a2.txt").ok());
  EXPECT_EQ(ov->Stat(root, "a.txt").code(), ENOENT);
  auto f = ov->Open(root, "dir/a2.txt", O_RDONLY, 0);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ReadFd(f->fd.get()), "alpha");
  EXPECT_EQ(ov->Rename(root, "nope", root, "x").code(), ENOENT);
  EXPECT_EQ(ov->Rename(root, "exe.sh", root, "dir", RENAME_NOREPLACE).code(), EEXIST);
  EXPECT_EQ(ov->Rename(root, "exe.sh", root, "dir").code(), EISDIR);
  EXPECT_EQ(ov->Rename(root, "dir", root, "exe.sh").code(), ENOTDIR);
  EXPECT_EQ(ov->Rename(root, "dir", root, "dir/sub/inside").code(), EINVAL);
  EXPECT_EQ(ov->Rename(root, "dir/sub", root, "dir").code(), ENOTEMPTY);
  EXPECT_EQ(ov->Rename(root, "exe.sh", root, "x", RENAME_EXCHANGE).code(), ENOENT);
  EXPECT_EQ(ov->Rename(root, "exe.sh", root, "x", RENAME_EXCHANGE | RENAME_NOREPLACE).code(),
            EINVAL);
  EXPECT_EQ(ov->Rename(root, "exe.sh", root, "etc_link/x").code(), EXDEV);
  EXPECT_EQ(ov->Rename(root, "exe.sh", root, "exe.sh").code(), 0);
  EXPECT_EQ(ov->Rename(root, "dir/.", root, "x").code(), EBUSY);
  ExpectLowerUntouched();
}

TEST_F(OverlayTest, RenameWholeDirectoryKeepsContentsWithoutCopyingData) {
  auto ov = Make();
  uint64_t before = ov->used_bytes();
  ASSERT_TRUE(ov->Rename(root, "dir", root, "renamed").ok());
  // Only directory entries were charged: no file data moved.
  EXPECT_LT(ov->used_bytes() - before, 4 * kEntryCost);
  EXPECT_EQ(ov->Stat(root, "dir").code(), ENOENT);
  auto f = ov->Open(root, "renamed/sub/c.txt", O_RDONLY, 0);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ReadFd(f->fd.get()), "gamma");
  // And again, with a modification inside, then onto an empty directory.
  ASSERT_TRUE(ov->Mkdir(root, "empty", 0755).ok());
  auto w = ov->Open(root, "renamed/b.txt", O_WRONLY | O_TRUNC, 0);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(ov->Rename(root, "renamed", root, "empty").ok());
  EXPECT_EQ(ov->Stat(root, "empty/b.txt")->st_size, 0);
  EXPECT_EQ(ov->Stat(root, "empty/sub/c.txt")->st_size, 5);
  // A directory re-created at the old name is empty.
  ASSERT_TRUE(ov->Mkdir(root, "dir", 0755).ok());
  EXPECT_EQ(ov->ListDir(root, "dir")->size(), 2u);
  ExpectLowerUntouched();
}

TEST_F(OverlayTest, RenameExchange) {
  auto ov = Make();
  ASSERT_TRUE(ov->Rename(root, "a.txt", root, "dir", RENAME_EXCHANGE).ok());
  EXPECT_EQ(ov->Stat(root, "a.txt")->st_mode & S_IFMT, static_cast<mode_t>(S_IFDIR));
  EXPECT_TRUE(ov->Stat(root, "a.txt/sub/c.txt").ok());
  auto f = ov->Open(root, "dir", O_RDONLY, 0);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ReadFd(f->fd.get()), "alpha");
  ASSERT_TRUE(ov->Rename(root, "a.txt/sub", root, "exe.sh", RENAME_EXCHANGE).ok());
  EXPECT_TRUE(ov->Stat(root, "exe.sh/c.txt").ok());
  ExpectLowerUntouched();
}

TEST_F(OverlayTest, HardLinksShareAnInodeInTheUpper) {
  auto ov = Make();
  ASSERT_TRUE(ov->Link(root, "a.txt", root, "dir/hard").ok());
  auto s1 = ov->Stat(root, "a.txt");
  auto s2 = ov->Stat(root, "dir/hard");
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(s1->st_ino, s2->st_ino);
  EXPECT_EQ(s1->st_nlink, 2u);
  auto w = ov->Open(root, "dir/hard", O_WRONLY | O_APPEND, 0);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(::write(w->fd.get(), "+", 1), 1);
  auto r = ov->Open(root, "a.txt", O_RDONLY, 0);
  EXPECT_EQ(ReadFd(r->fd.get()), "alpha+");
  EXPECT_EQ(ov->Link(root, "dir", root, "d2").code(), EPERM);
  EXPECT_EQ(ov->Link(root, "a.txt", root, "exe.sh").code(), EEXIST);
  EXPECT_EQ(ov->Link(root, "nope", root, "x").code(), ENOENT);
  // Renaming one link onto the other is a no-op.
  EXPECT_TRUE(ov->Rename(root, "a.txt", root, "dir/hard").ok());
  EXPECT_TRUE(ov->Stat(root, "a.txt").ok());
}

TEST_F(OverlayTest, SymlinkAndReadlink) {
  auto ov = Make();
  ASSERT_TRUE(ov->Symlink("../weird target\n", root, "dir/s").ok());
  EXPECT_EQ(ov->Readlink(root, "dir/s").value_or(""), "../weird target\n");
  EXPECT_EQ(ov->Symlink("x", root, "a.txt").code(), EEXIST);
  EXPECT_EQ(ov->Symlink("", root, "e").code(), ENOENT);
  EXPECT_EQ(ov->Readlink(root, "a.txt").code(), EINVAL);
  EXPECT_EQ(ov->Readlink(root, "nope").code(), ENOENT);
  EXPECT_EQ(ov->Readlink(root, "link_a").value_or(""), "a.txt");
  // Copy-up of a symlink keeps the target verbatim.
  ASSERT_TRUE(ov->Chown(root, "up_link", 0, 0, false).ok());
  char buf[64] = {};
  ASSERT_GT(::readlink((ov->upper_root() + "/up_link").c_str(), buf, sizeof(buf)), 0);
  EXPECT_STREQ(buf, "../outside");
}

TEST_F(OverlayTest, MknodFifoAndSocket) {
  auto ov = Make();
  ASSERT_TRUE(ov->Mknod(root, "p", S_IFIFO | 0640).ok());
  ASSERT_TRUE(ov->Mknod(root, "s", S_IFSOCK | 0600).ok());
  ASSERT_TRUE(ov->Mknod(root, "r", 0600).ok());
  EXPECT_EQ(ov->Stat(root, "p")->st_mode, static_cast<mode_t>(S_IFIFO | 0640));
  EXPECT_TRUE(S_ISSOCK(ov->Stat(root, "s")->st_mode));
  EXPECT_TRUE(S_ISREG(ov->Stat(root, "r")->st_mode));
  EXPECT_EQ(ov->Mknod(root, "p", S_IFIFO | 0640).code(), EEXIST);
  EXPECT_EQ(ov->Mknod(root, "d", S_IFDIR | 0640).code(), EPERM);
  EXPECT_EQ(ov->Mknod(root, "q/", S_IFIFO | 0640).code(), ENOENT);
}

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

// ---- confinement ------------------------------------------------------------------------------------

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

// ---- quota ------------------------------------------------------------------------------------------

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

// ---- determinism ------------------------------------------------------------------------------------

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
