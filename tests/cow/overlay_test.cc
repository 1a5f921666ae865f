// Unit tests of the overlay engine: resolution, open, and the directory
// operations with their errnos.
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
  struct stat lower_fifo {};
  ASSERT_EQ(::lstat((lower_ + "/fifo").c_str(), &lower_fifo), 0);
  // A lower FIFO opened to wait for its other end (no writer, no reader
  // here) is not opened: the caller gets an O_PATH fd of it and the flags
  // to open it with where it may block.
  for (int acc : {O_RDONLY, O_WRONLY}) {
    auto r = ov->Open(root, "fifo", acc, 0);
    ASSERT_TRUE(r.ok()) << r.error().Message();
    EXPECT_TRUE(r->waits);
    EXPECT_TRUE(r->fifo_path.empty());
    EXPECT_EQ(::fcntl(r->fd.get(), F_GETFL) & O_PATH, O_PATH);
    struct stat st {};
    ASSERT_EQ(::fstat(r->fd.get(), &st), 0);
    EXPECT_EQ(st.st_ino, lower_fifo.st_ino);
    EXPECT_EQ(r->open_flags & (O_ACCMODE | O_NONBLOCK), acc);
    EXPECT_EQ(r->layer, Layer::kLower);
  }
  // Opens that never wait are made here.
  auto reader = ov->Open(root, "fifo", O_RDONLY | O_NONBLOCK, 0);
  ASSERT_TRUE(reader.ok()) << reader.error().Message();
  EXPECT_FALSE(reader->waits);
  EXPECT_NE(::fcntl(reader->fd.get(), F_GETFL) & O_NONBLOCK, 0);
  auto writer = ov->Open(root, "fifo", O_WRONLY | O_NONBLOCK, 0);  // a reader exists now
  ASSERT_TRUE(writer.ok()) << writer.error().Message();
  EXPECT_FALSE(writer->waits);
  auto rw = ov->Open(root, "fifo", O_RDWR, 0);
  ASSERT_TRUE(rw.ok()) << rw.error().Message();
  EXPECT_FALSE(rw->waits);
  EXPECT_EQ(::fcntl(rw->fd.get(), F_GETFL) & O_NONBLOCK, 0);
  // Copy-up (chmod) of a FIFO recreates it without opening it.
  ASSERT_TRUE(ov->Chmod(root, "fifo", 0600).ok());
  struct stat st {};
  ASSERT_EQ(::lstat((ov->upper_root() + "/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // An upper FIFO opened to wait for its other end is not opened: the
  // caller gets a link beneath fifo_dir() for the child to open itself.
  auto b = ov->Open(root, "fifo", O_RDONLY, 0);
  ASSERT_TRUE(b.ok()) << b.error().Message();
  EXPECT_FALSE(b->fd.valid());
  ASSERT_EQ(b->fifo_path.rfind(ov->fifo_dir() + "/", 0), 0u) << b->fifo_path;
  struct stat link {};
  ASSERT_EQ(::lstat(b->fifo_path.c_str(), &link), 0);
  EXPECT_EQ(link.st_ino, st.st_ino);
  EXPECT_EQ(ov->Open(root, "fifo", O_WRONLY, 0)->fifo_path, b->fifo_path);  // one link per FIFO
  EXPECT_EQ(ov->Stat(root, "fifo")->st_nlink, 1u);  // the link is not part of the view
  // Opens that never wait are still made here.
  for (int flags : {O_RDONLY | O_NONBLOCK, O_RDWR}) {
    auto nb = ov->Open(root, "fifo", flags, 0);
    ASSERT_TRUE(nb.ok()) << nb.error().Message();
    EXPECT_TRUE(nb->fd.valid());
    EXPECT_TRUE(nb->fifo_path.empty());
  }
  EXPECT_EQ(ov->Mknod(root, "dev", S_IFCHR | 0600, makedev(1, 3)).code(), EPERM);
  if (::mknod((lower_ + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    EXPECT_EQ(ov->Open(root, "null", O_WRONLY, 0).code(), EPERM);
    EXPECT_EQ(ov->Chmod(root, "null", 0600).code(), EPERM);
  }
}

// ---- directory operations
// ------------------------------------------------------------------------

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

// The engine keeps the directories of recent walks open (the walk cache).
// Every change of what a view path names must reach the next walk: each
// step below fails if the matching invalidation is missing.
TEST_F(OverlayTest, WalksSeeEveryChangeOfTheDirectoriesTheyPassed) {
  ASSERT_EQ(::mkdir((lower_ + "/dir/empty").c_str(), 0755), 0);
  before_ = testing::SnapshotReal(lower_);
  auto ov = Make();
  // A lower directory, walked through, then copied up by a create in it.
  ASSERT_TRUE(ov->Resolve(root, "dir/sub/c.txt").ok());
  ASSERT_TRUE(ov->Open(root, "dir/sub/new", O_CREAT | O_WRONLY, 0644).ok());
  EXPECT_TRUE(ov->Stat(root, "dir/sub/new").ok());
  EXPECT_TRUE(ov->Stat(root, "dir/sub/c.txt").ok());

  // A lower directory removed (its parent already has an upper): a whiteout.
  ASSERT_TRUE(ov->Resolve(root, "dir/empty/x").ok());
  ASSERT_TRUE(ov->Rmdir(root, "dir/empty").ok());
  EXPECT_EQ(ov->Resolve(root, "dir/empty/.").code(), ENOENT);
  EXPECT_EQ(ov->Open(root, "dir/empty/f", O_CREAT | O_WRONLY, 0644).code(), ENOENT);

  // An upper directory removed, then made again: the new one is empty.
  ASSERT_TRUE(ov->Mkdir(root, "u", 0755).ok());
  ASSERT_TRUE(ov->Open(root, "u/f", O_CREAT | O_WRONLY, 0644).ok());
  ASSERT_TRUE(ov->Unlink(root, "u/f").ok());
  ASSERT_TRUE(ov->Rmdir(root, "u").ok());
  EXPECT_EQ(ov->Resolve(root, "u/.").code(), ENOENT);
  ASSERT_TRUE(ov->Mkdir(root, "u", 0700).ok());
  EXPECT_EQ(ov->Stat(root, "u/.")->st_mode & 07777, 0700u);

  // A directory renamed away: its old path is gone, its new one works.
  ASSERT_TRUE(ov->Resolve(root, "dir/sub/c.txt").ok());
  ASSERT_TRUE(ov->Rename(root, "dir", root, "moved").ok());
  EXPECT_EQ(ov->Resolve(root, "dir/sub/c.txt").code(), ENOENT);
  EXPECT_TRUE(ov->Stat(root, "moved/sub/c.txt").ok());

  // Two directories exchanged.
  ASSERT_TRUE(ov->Mkdir(root, "x", 0755).ok());
  ASSERT_TRUE(ov->Mkdir(root, "y", 0755).ok());
  ASSERT_TRUE(ov->Open(root, "x/in_x", O_CREAT | O_WRONLY, 0644).ok());
  ASSERT_TRUE(ov->Open(root, "y/in_y", O_CREAT | O_WRONLY, 0644).ok());
  ASSERT_TRUE(ov->Rename(root, "x", root, "y", RENAME_EXCHANGE).ok());
  EXPECT_TRUE(ov->Stat(root, "x/in_y").ok());
  EXPECT_EQ(ov->Stat(root, "x/in_x").code(), ENOENT);
  EXPECT_TRUE(ov->Stat(root, "y/in_x").ok());

  // A directory renamed onto an empty one it replaces.
  ASSERT_TRUE(ov->Mkdir(root, "target", 0755).ok());
  ASSERT_TRUE(ov->Resolve(root, "target/nothing").ok());
  ASSERT_TRUE(ov->Rename(root, "x", root, "target").ok());
  EXPECT_TRUE(ov->Stat(root, "target/in_y").ok());

  // Walks from a base inside the view (a cwd or dirfd) see the same.
  auto base = ov->BaseOf(ov->lower_root() + "/moved/sub");
  ASSERT_TRUE(ov->Stat(base, "c.txt").ok());
  ASSERT_TRUE(ov->Rename(root, "moved", root, "again").ok());
  EXPECT_EQ(ov->Stat(base, "c.txt").code(), ENOENT);
  EXPECT_TRUE(ov->Stat(ov->BaseOf(ov->lower_root() + "/again/sub"), "c.txt").ok());
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

}  // namespace
}  // namespace sandtrace::cow
