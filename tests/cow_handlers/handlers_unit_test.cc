// The COW handlers driven through the registry by a FakeChild, on a real
// overlay in scratch directories: the decisions, what they write into the
// child and what they leave in the view. No child process, no filter.
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/audit.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <linux/btrfs.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/fscrypt.h>
#include <linux/fsverity.h>

#include "cow/handlers/cow_session.h"
#include "cow/handlers/disposition.h"
#include "tests/cow_handlers/fake_child.h"
#include "tracer/core/seed_handlers.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace::cow {
namespace {

using testing::FakeChild;

constexpr uint64_t kPath = 0x10000;
constexpr uint64_t kPath2 = 0x20000;
constexpr uint64_t kBuf = 0x30000;
constexpr size_t kBufSize = 8192;

int RemoveEntry(const char* p, const struct stat*, int, FTW*) { return remove(p); }

void WriteFile(const std::string& path, const std::string& data) { std::ofstream(path) << data; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class CowHandlerUnit : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cowh-unit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    lower_ = root_ + "/work";
    storage_ = root_ + "/storage";
    ASSERT_EQ(mkdir(lower_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(storage_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir((lower_ + "/dir").c_str(), 0755), 0);
    WriteFile(lower_ + "/a.txt", "hello\n");
    WriteFile(lower_ + "/dir/b.txt", "bee\n");
    ASSERT_EQ(symlink("dir", (lower_ + "/link").c_str()), 0);
    CowSessionOptions o;
    o.workdir = lower_;
    o.storage = storage_;
    auto s = CowSession::Create(o);
    ASSERT_TRUE(s.ok()) << s.error().Message();
    session_ = std::move(*s);
    ASSERT_TRUE(session_->Register(registry_).ok());
    child_.cwd = session_->workdir();
    child_.Map(kBuf, std::string(kBufSize, '\0'));
  }
  void TearDown() override {
    if (session_ && !finished_) (void)session_->overlay().Abort();
    nftw(root_.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  }

  DispatchResult Call(int nr, std::array<uint64_t, 6> args) {
    Notification n;
    n.arch = AUDIT_ARCH_X86_64;
    n.nr = nr;
    n.tid = 100;
    n.args = args;
    return registry_.Dispatch(n, child_);
  }
  DispatchResult CallPath(int nr, const std::string& path, std::array<uint64_t, 6> args) {
    child_.MapString(kPath, path);
    return Call(nr, args);
  }
  // openat(AT_FDCWD, path, flags, mode)
  DispatchResult OpenAt(const std::string& path, int flags, mode_t mode = 0644) {
    return CallPath(SYS_openat, path,
                    {static_cast<uint64_t>(AT_FDCWD), kPath, static_cast<uint64_t>(flags), mode});
  }
  std::string Real(const std::string& rel) { return session_->workdir() + "/" + rel; }

  std::string root_, lower_, storage_;
  std::unique_ptr<CowSession> session_;
  HandlerRegistry registry_;
  FakeChild child_;
  bool finished_ = false;
};

TEST_F(CowHandlerUnit, ReadsBeforeAnyChangeContinueWithoutReadingChildMemory) {
  auto r = CallPath(SYS_newfstatat, "a.txt", {static_cast<uint64_t>(AT_FDCWD), kPath, kBuf, 0});
  EXPECT_EQ(r.decision.kind, DecisionKind::kContinue);
  r = OpenAt("dir/b.txt", O_RDONLY);
  EXPECT_EQ(r.decision.kind, DecisionKind::kContinue);
  EXPECT_EQ(child_.reads, 0);
  EXPECT_EQ(session_->stats().pristine, 2u);
}

TEST_F(CowHandlerUnit, CreateInjectsAnUpperFileAndLeavesTheWorkdirAlone) {
  auto r = OpenAt("new.txt", O_WRONLY | O_CREAT | O_CLOEXEC);
  ASSERT_EQ(r.decision.kind, DecisionKind::kInjectFd);
  EXPECT_EQ(r.decision.file.root, FileRoot::kUpper);
  EXPECT_EQ(r.decision.file.path, "new.txt");
  EXPECT_EQ(r.decision.file.fd_flags, static_cast<uint32_t>(O_CLOEXEC));
  ASSERT_EQ(write(r.decision.fd.get(), "x", 1), 1);
  EXPECT_NE(access(Real("new.txt").c_str(), F_OK), 0);  // not in the workdir

  // Writing to a lower file copies it up.
  r = OpenAt("a.txt", O_RDWR);
  ASSERT_EQ(r.decision.kind, DecisionKind::kInjectFd);
  EXPECT_EQ(r.decision.file.root, FileRoot::kUpper);
  EXPECT_EQ(ReadFile(Real("a.txt")), "hello\n");
}

TEST_F(CowHandlerUnit, UntouchedFilesStillContinueAfterAChange) {
  ASSERT_EQ(OpenAt("new.txt", O_WRONLY | O_CREAT).decision.kind, DecisionKind::kInjectFd);
  auto r = CallPath(SYS_newfstatat, "dir/b.txt", {static_cast<uint64_t>(AT_FDCWD), kPath, kBuf, 0});
  EXPECT_EQ(r.decision.kind, DecisionKind::kContinue);
  EXPECT_GE(session_->stats().fast, 1u);
  // Through a symlink the cheap walk gives up and the engine answers.
  r = CallPath(SYS_newfstatat, "link/b.txt", {static_cast<uint64_t>(AT_FDCWD), kPath, kBuf, 0});
  ASSERT_EQ(r.decision.kind, DecisionKind::kReturn);
  struct stat st {};
  std::memcpy(&st, child_.Bytes(kBuf, sizeof st).data(), sizeof st);
  EXPECT_EQ(st.st_size, 4);
  EXPECT_GE(session_->stats().engine, 1u);
}

TEST_F(CowHandlerUnit, StatOfAChangedFileIsAnsweredFromTheView) {
  auto w = OpenAt("a.txt", O_WRONLY | O_TRUNC);
  ASSERT_EQ(w.decision.kind, DecisionKind::kInjectFd);
  ASSERT_EQ(write(w.decision.fd.get(), "0123456789", 10), 10);
  auto r = CallPath(SYS_newfstatat, "a.txt", {static_cast<uint64_t>(AT_FDCWD), kPath, kBuf, 0});
  ASSERT_EQ(r.decision.kind, DecisionKind::kReturn);
  EXPECT_EQ(r.decision.value, 0);
  struct stat st {};
  std::memcpy(&st, child_.Bytes(kBuf, sizeof st).data(), sizeof st);
  EXPECT_EQ(st.st_size, 10);
  EXPECT_TRUE(S_ISREG(st.st_mode));

  // statx too, and ENOENT for a deleted file.
  ASSERT_EQ(CallPath(SYS_unlink, "dir/b.txt", {kPath}).decision.value, 0);
  r = CallPath(SYS_statx, "dir/b.txt",
               {static_cast<uint64_t>(AT_FDCWD), kPath, 0, STATX_BASIC_STATS, kBuf});
  ASSERT_EQ(r.decision.kind, DecisionKind::kErrno);
  EXPECT_EQ(r.decision.error, ENOENT);
}

TEST_F(CowHandlerUnit, MergedDirectoryKeepsTheLowerIdentityAndCountsItsLinks) {
  ASSERT_EQ(CallPath(SYS_mkdir, "dir/sub", {kPath, 0755}).decision.value, 0);
  auto r = CallPath(SYS_newfstatat, "dir", {static_cast<uint64_t>(AT_FDCWD), kPath, kBuf, 0});
  ASSERT_EQ(r.decision.kind, DecisionKind::kReturn);
  struct stat st {
  }, lower{};
  std::memcpy(&st, child_.Bytes(kBuf, sizeof st).data(), sizeof st);
  ASSERT_EQ(stat(Real("dir").c_str(), &lower), 0);
  EXPECT_EQ(st.st_ino, lower.st_ino);
  EXPECT_EQ(st.st_dev, lower.st_dev);
  EXPECT_EQ(st.st_nlink, 3u);  // ".", "..", and sub's ".."
  // Opening it gives (or lets the kernel open) the lower directory.
  r = OpenAt("dir", O_RDONLY | O_DIRECTORY);
  if (r.decision.kind == DecisionKind::kInjectFd) {
    struct stat fst {};
    ASSERT_EQ(fstat(r.decision.fd.get(), &fst), 0);
    EXPECT_EQ(fst.st_ino, lower.st_ino);
  } else {
    EXPECT_EQ(r.decision.kind, DecisionKind::kContinue);
  }
}

TEST_F(CowHandlerUnit, GetdentsServesTheMergedListingAndKeepsTheOffsetInTheChild) {
  ASSERT_EQ(OpenAt("dir/c.txt", O_WRONLY | O_CREAT).decision.kind, DecisionKind::kInjectFd);
  ASSERT_EQ(CallPath(SYS_unlink, "dir/b.txt", {kPath}).decision.value, 0);
  child_.fds[5] = Real("dir");  // an fd on the lower directory
  std::vector<std::string> names;
  for (int round = 0; round < 10; ++round) {
    // A buffer for about one entry at a time: offsets must carry on.
    auto r = Call(SYS_getdents64, {5, kBuf, 40});
    ASSERT_EQ(r.decision.kind, DecisionKind::kReturn);
    if (r.decision.value == 0) break;
    std::string bytes = child_.Bytes(kBuf, static_cast<size_t>(r.decision.value));
    for (size_t off = 0; off < bytes.size();) {
      auto* d = reinterpret_cast<const struct dirent64*>(bytes.data() + off);
      names.push_back(d->d_name);
      EXPECT_EQ(child_.positions[5], d->d_off);  // the last one served is the offset
      off += d->d_reclen;
    }
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "c.txt"}));
  // rewinddir: offset 0 lists again from the start.
  child_.positions[5] = 0;
  auto r = Call(SYS_getdents64, {5, kBuf, kBufSize});
  ASSERT_EQ(r.decision.kind, DecisionKind::kReturn);
  EXPECT_GT(r.decision.value, 0);
  // A buffer too small for one entry.
  child_.positions[5] = 0;
  r = Call(SYS_getdents64, {5, kBuf, 8});
  ASSERT_EQ(r.decision.kind, DecisionKind::kErrno);
  EXPECT_EQ(r.decision.error, EINVAL);
  // A directory without changes is the kernel's.
  child_.fds[6] = session_->workdir() + "/dir";
  ASSERT_EQ(CallPath(SYS_mkdir, "other", {kPath, 0755}).decision.value, 0);
  child_.fds[7] = Real("other");  // does not exist in the lower: not a kernel listing
  EXPECT_EQ(Call(SYS_getdents64, {7, kBuf, kBufSize}).decision.kind, DecisionKind::kReturn);
}

TEST_F(CowHandlerUnit, GetdentsLeavesDescriptionsTheKernelStartedToTheKernel) {
  child_.fds[5] = Real("dir");
  child_.positions[5] = 123456;  // a kernel offset, not one of ours
  ASSERT_EQ(OpenAt("dir/c.txt", O_WRONLY | O_CREAT).decision.kind, DecisionKind::kInjectFd);
  EXPECT_EQ(Call(SYS_getdents64, {5, kBuf, kBufSize}).decision.kind, DecisionKind::kContinue);
}

TEST_F(CowHandlerUnit, ChdirIntoAnUpperOnlyDirectoryIsVirtualAndGetcwdHidesTheStorage) {
  ASSERT_EQ(CallPath(SYS_mkdir, "build", {kPath, 0755}).decision.value, 0);
  auto r = CallPath(SYS_chdir, "build", {kPath});
  ASSERT_EQ(r.decision.kind, DecisionKind::kReturn);
  EXPECT_EQ(r.decision.value, 0);
  r = Call(SYS_getcwd, {kBuf, 4096});
  ASSERT_EQ(r.decision.kind, DecisionKind::kReturn);
  EXPECT_EQ(child_.String(kBuf), session_->workdir() + "/build");
  EXPECT_EQ(r.decision.value, static_cast<int64_t>(child_.String(kBuf).size() + 1));
  // Relative paths now start there.
  r = OpenAt("out.o", O_WRONLY | O_CREAT);
  ASSERT_EQ(r.decision.kind, DecisionKind::kInjectFd);
  EXPECT_EQ(r.decision.file.path, "build/out.o");
  // readlink /proc/self/cwd agrees.
  child_.MapString(kPath, "/proc/self/cwd");
  r = Call(SYS_readlink, {kPath, kBuf, 4096});
  ASSERT_EQ(r.decision.kind, DecisionKind::kReturn);
  EXPECT_EQ(child_.Bytes(kBuf, static_cast<size_t>(r.decision.value)),
            session_->workdir() + "/build");
  // ERANGE for a small buffer.
  r = Call(SYS_getcwd, {kBuf, 4});
  EXPECT_EQ(r.decision.error, ERANGE);
  // An absolute chdir to a directory the kernel reaches ends it.
  r = CallPath(SYS_chdir, session_->workdir() + "/dir", {kPath});
  EXPECT_EQ(r.decision.kind, DecisionKind::kContinue);
  child_.cwd = Real("dir");
  r = OpenAt("x", O_WRONLY | O_CREAT);
  ASSERT_EQ(r.decision.kind, DecisionKind::kInjectFd);
  EXPECT_EQ(r.decision.file.path, "dir/x");
}

TEST_F(CowHandlerUnit, AForkedChildInheritsTheVirtualCwd) {
  ASSERT_EQ(CallPath(SYS_mkdir, "build", {kPath, 0755}).decision.value, 0);
  ASSERT_EQ(CallPath(SYS_chdir, "build", {kPath}).decision.value, 0);
  // A new process (tid 200, parent 100) shows up.
  child_.ids = ProcIds{200, 100, 999};
  Notification n;
  n.arch = AUDIT_ARCH_X86_64;
  n.nr = SYS_getcwd;
  n.tid = 200;
  n.args = {kBuf, 4096};
  auto r = registry_.Dispatch(n, child_);
  ASSERT_EQ(r.decision.kind, DecisionKind::kReturn);
  EXPECT_EQ(child_.String(kBuf), session_->workdir() + "/build");
}

TEST_F(CowHandlerUnit, ExecOfAnUpperFileRewritesThePathToTheInstalledFd) {
  auto w = OpenAt("tool", O_WRONLY | O_CREAT, 0755);
  ASSERT_EQ(w.decision.kind, DecisionKind::kInjectFd);
  ASSERT_EQ(write(w.decision.fd.get(),
                  "\x7f"
                  "ELF",
                  4),
            4);
  const std::string abs = session_->workdir() + "/tool";
  child_.MapString(kPath, abs);
  child_.Map(kPath2, std::string(8, '\0'));  // argv = {NULL}
  auto r = Call(SYS_execve, {kPath, kPath2, 0});
  ASSERT_EQ(r.decision.kind, DecisionKind::kContinue);
  ASSERT_EQ(child_.installed.size(), 1u);
  EXPECT_EQ(child_.installed[0].root, FileRoot::kUpper);
  EXPECT_EQ(child_.installed_flags[0], static_cast<uint32_t>(O_CLOEXEC));
  std::string rewritten = child_.String(kPath);
  EXPECT_TRUE(rewritten == "/dev/fd/7" || rewritten == "/proc/self/fd/7") << rewritten;

  // A script keeps its fd across exec (the interpreter opens /dev/fd/N).
  auto s = OpenAt("script.sh", O_WRONLY | O_CREAT, 0755);
  ASSERT_EQ(write(s.decision.fd.get(), "#!/bin/sh\n", 10), 10);
  child_.MapString(kPath, session_->workdir() + "/script.sh");
  ASSERT_EQ(Call(SYS_execve, {kPath, kPath2, 0}).decision.kind, DecisionKind::kContinue);
  EXPECT_EQ(child_.installed_flags.back(), 0u);

  // Too short to rewrite: the syscall is entered again with an equivalent
  // padded copy below the stack pointer (arg 0 pointing at it).
  child_.cwd = session_->workdir();
  constexpr uint64_t kStack = 0x100000;
  constexpr size_t kStackSize = 64 * 1024;
  child_.Map(kStack, std::string(kStackSize, '\0'));
  child_.sp = kStack + kStackSize;
  child_.MapString(kPath, "tool");
  r = Call(SYS_execve, {kPath, kPath2, 0});
  ASSERT_EQ(r.decision.kind, DecisionKind::kRestart);
  EXPECT_EQ(r.decision.arg, 0);
  EXPECT_EQ(r.decision.error, ENOEXEC);  // if the restart cannot be done
  const uint64_t copy = static_cast<uint64_t>(r.decision.value);
  ASSERT_GE(copy, kStack);
  // In the red zone: a signal frame pushed before the restart skips it.
  EXPECT_GE(copy, child_.sp - 128);
  EXPECT_LT(copy, child_.sp);
  std::string padded = child_.Bytes(kStack, kStackSize).substr(copy - kStack);
  padded = padded.substr(0, padded.find('\0'));
  // "./" repeated, long enough for "/proc/self/fd/" or "/dev/fd/" and 10 digits.
  EXPECT_GE(padded.size(), std::string("/dev/fd/").size() + 11) << padded;
  EXPECT_EQ(padded.substr(padded.size() - 4), "tool");
  for (size_t i = 0; i + 4 < padded.size(); i += 2) EXPECT_EQ(padded.substr(i, 2), "./") << padded;
  EXPECT_EQ(child_.String(kPath), "tool");  // the child's own string is left alone
  EXPECT_TRUE(session_->TakeWarnings().empty());
  // A second restart in a row for the same thread is refused: ENOEXEC
  // (shells then run the file with /bin/sh), and a warning.
  r = Call(SYS_execve, {kPath, kPath2, 0});
  ASSERT_EQ(r.decision.kind, DecisionKind::kErrno);
  EXPECT_EQ(r.decision.error, ENOEXEC);
  EXPECT_FALSE(session_->TakeWarnings().empty());
  // A read-only string is restarted the same way; absolute paths are padded
  // with slashes.
  child_.MapString(kPath, abs, /*writable=*/false);
  r = Call(SYS_execve, {kPath, kPath2, 0});
  ASSERT_EQ(r.decision.kind, DecisionKind::kRestart);
  padded =
      child_.Bytes(kStack, kStackSize).substr(static_cast<uint64_t>(r.decision.value) - kStack);
  EXPECT_EQ(padded.substr(0, padded.find('\0')), abs);  // already long enough
  // The restarted call finds its (writable, long) copy and rewrites it.
  const uint64_t again = static_cast<uint64_t>(r.decision.value);
  r = Call(SYS_execve, {again, kPath2, 0});
  ASSERT_EQ(r.decision.kind, DecisionKind::kContinue);
  EXPECT_EQ(child_.String(kPath), abs);
  // Without a stack pointer there is no restart: ENOEXEC.
  child_.sp = 0;
  child_.MapString(kPath, "tool");
  EXPECT_EQ(Call(SYS_execve, {kPath, kPath2, 0}).decision.error, ENOEXEC);
  // A deleted file does not run its old bytes.
  ASSERT_EQ(CallPath(SYS_unlink, "a.txt", {kPath}).decision.value, 0);
  child_.MapString(kPath, session_->workdir() + "/a.txt");
  EXPECT_EQ(Call(SYS_execve, {kPath, kPath2, 0}).decision.error, ENOENT);
}

TEST_F(CowHandlerUnit, MutationsGoToTheUpperAndShowInTheChangeList) {
  ASSERT_EQ(CallPath(SYS_mkdir, "newdir", {kPath, 0700}).decision.value, 0);
  ASSERT_EQ(CallPath(SYS_unlink, "a.txt", {kPath}).decision.value, 0);
  child_.MapString(kPath, "dir/b.txt");
  child_.MapString(kPath2, "newdir/b2.txt");
  ASSERT_EQ(Call(SYS_rename, {kPath, kPath2}).decision.value, 0);
  child_.MapString(kPath, "target");
  child_.MapString(kPath2, "sl");
  ASSERT_EQ(Call(SYS_symlink, {kPath, kPath2}).decision.value, 0);
  EXPECT_EQ(CallPath(SYS_rmdir, "dir", {kPath}).decision.value, 0);
  EXPECT_EQ(CallPath(SYS_rmdir, "dir", {kPath}).decision.error, ENOENT);
  EXPECT_EQ(CallPath(SYS_mkdir, "newdir", {kPath, 0700}).decision.error, EEXIST);
  auto changes = session_->overlay().Changes();
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(FormatChangeList(*changes),
            "D  a.txt\nD  dir\nD  dir/b.txt\nA  newdir\nA  newdir/b2.txt\nA  sl\n");
  // The workdir itself is untouched.
  EXPECT_EQ(ReadFile(Real("a.txt")), "hello\n");
  EXPECT_EQ(ReadFile(Real("dir/b.txt")), "bee\n");
}

TEST_F(CowHandlerUnit, RenameAcrossTheWorkdirEdgeIsExdev) {
  child_.MapString(kPath, "a.txt");
  child_.MapString(kPath2, "/tmp/elsewhere-" + std::to_string(getpid()));
  EXPECT_EQ(Call(SYS_rename, {kPath, kPath2}).decision.error, EXDEV);
  // Both outside: the kernel's.
  child_.MapString(kPath, "/tmp/x1");
  EXPECT_EQ(Call(SYS_rename, {kPath, kPath2}).decision.kind, DecisionKind::kContinue);
}

TEST_F(CowHandlerUnit, FdBasedChangesOnLowerFilesNeverTouchTheLower) {
  child_.fds[9] = Real("a.txt");
  struct stat before {};
  ASSERT_EQ(stat(Real("a.txt").c_str(), &before), 0);
  EXPECT_EQ(Call(SYS_fchmod, {9, 0600}).decision.value, 0);
  EXPECT_EQ(Call(SYS_utimensat, {9, 0, 0, 0}).decision.value, 0);  // futimens(fd, NULL)
  struct stat after {};
  ASSERT_EQ(stat(Real("a.txt").c_str(), &after), 0);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  // The view has the change.
  auto st = session_->overlay().Stat(Base::Root(), "a.txt");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode & 07777, 0600u);
}

TEST_F(CowHandlerUnit, MetadataOutsideTheWorkdirOnlyWhereTheChildMayWrite) {
  const std::string outside = root_ + "/outside";
  WriteFile(outside, "o");
  ASSERT_EQ(chmod(outside.c_str(), 0644), 0);
  auto r = CallPath(SYS_chmod, outside, {kPath, 0777});
  EXPECT_EQ(r.decision.error, EACCES);
  struct stat st {};
  ASSERT_EQ(stat(outside.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  // An outside symlink pointing in changes the view, not the workdir.
  const std::string in_link = root_ + "/in-link";
  ASSERT_EQ(symlink(Real("a.txt").c_str(), in_link.c_str()), 0);
  r = CallPath(SYS_chmod, in_link, {kPath, 0600});
  EXPECT_EQ(r.decision.value, 0);
  ASSERT_EQ(stat(Real("a.txt").c_str(), &st), 0);
  EXPECT_NE(st.st_mode & 0777, 0600u);
  EXPECT_EQ(session_->overlay().Stat(Base::Root(), "a.txt")->st_mode & 0777, 0600u);
}

TEST_F(CowHandlerUnit, ReadlinkOfMagicLinksShowsTheWorkdirNotTheStorage) {
  auto w = OpenAt("new.txt", O_WRONLY | O_CREAT);
  ASSERT_EQ(w.decision.kind, DecisionKind::kInjectFd);
  child_.fds[4] = session_->overlay().upper_root() + "/new.txt";
  child_.MapString(kPath, "/proc/self/fd/4");
  auto r = Call(SYS_readlink, {kPath, kBuf, 4096});
  ASSERT_EQ(r.decision.kind, DecisionKind::kReturn);
  EXPECT_EQ(child_.Bytes(kBuf, static_cast<size_t>(r.decision.value)), Real("new.txt"));
  // Reopening it for reading reaches the upper file through the view.
  child_.MapString(kPath, "/dev/fd/4");
  r = Call(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), kPath, O_RDONLY, 0});
  EXPECT_TRUE(r.decision.kind == DecisionKind::kContinue ||
              r.decision.kind == DecisionKind::kInjectFd);
}

TEST_F(CowHandlerUnit, FilesystemIoctlsThatChangeThingsAreRefused) {
  ASSERT_EQ(OpenAt("new.txt", O_WRONLY | O_CREAT).decision.kind, DecisionKind::kInjectFd);
  for (uint64_t cmd :
       {uint64_t{FS_IOC_SETFLAGS}, uint64_t{FS_IOC_FSSETXATTR}, uint64_t{FS_IOC_ENABLE_VERITY},
        uint64_t{FS_IOC_SET_ENCRYPTION_POLICY}, uint64_t{FS_IOC_SETVERSION}, uint64_t{FIFREEZE},
        uint64_t{BTRFS_IOC_SNAP_DESTROY}, uint64_t{BTRFS_IOC_SUBVOL_CREATE}}) {
    EXPECT_EQ(Call(SYS_ioctl, {3, cmd, kBuf}).decision.error, EOPNOTSUPP) << std::hex << cmd;
  }
  // Their read-only queries and everything else are the kernel's.
  for (uint64_t cmd : {uint64_t{FS_IOC_GETFLAGS}, uint64_t{FS_IOC_FSGETXATTR},
                       uint64_t{FS_IOC_FIEMAP}, uint64_t{FICLONE}, uint64_t{TCGETS}}) {
    EXPECT_EQ(Call(SYS_ioctl, {3, cmd, kBuf}).decision.kind, DecisionKind::kContinue)
        << std::hex << cmd;
  }
}

TEST_F(CowHandlerUnit, TheFilterNotifiesOnlyTheIoctlsTheHandlerMayRefuse) {
  std::vector<NotifyRule> rules = registry_.NotifyRules();
  auto it = std::find_if(rules.begin(), rules.end(),
                         [](const NotifyRule& r) { return r.nr == SYS_ioctl; });
  ASSERT_NE(it, rules.end());
  ASSERT_TRUE(it->when.has_value());
  auto notified = [&](uint64_t cmd) {
    return std::any_of(it->when->begin(), it->when->end(),
                       [&](const ArgMatch& m) { return (cmd & m.mask) == m.value; });
  };
  // Every command the handler refuses is notified...
  for (uint64_t cmd :
       {uint64_t{FS_IOC_SETFLAGS}, uint64_t{FS_IOC32_SETFLAGS}, uint64_t{FS_IOC_FSSETXATTR},
        uint64_t{FS_IOC_ENABLE_VERITY}, uint64_t{FIFREEZE}, uint64_t{BTRFS_IOC_SNAP_DESTROY_V2}}) {
    EXPECT_TRUE(notified(cmd)) << std::hex << cmd;
    EXPECT_EQ(Call(SYS_ioctl, {3, cmd, kBuf}).decision.error, EOPNOTSUPP) << std::hex << cmd;
  }
  // ...and what cp and terminals use is not.
  for (uint64_t cmd : {uint64_t{FICLONE}, uint64_t{FICLONERANGE}, uint64_t{FIDEDUPERANGE},
                       uint64_t{TCGETS}, uint64_t{TIOCGWINSZ}, uint64_t{FIONREAD}}) {
    EXPECT_FALSE(notified(cmd)) << std::hex << cmd;
  }
}

TEST_F(CowHandlerUnit, BadArgumentsGetTheKernelsErrors) {
  EXPECT_EQ(
      Call(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 0, O_RDONLY | O_CREAT, 0}).decision.error,
      EFAULT);
  EXPECT_EQ(CallPath(SYS_readlink, "link", {kPath, kBuf, 0}).decision.error, EINVAL);
  EXPECT_EQ(CallPath(SYS_unlinkat, "a.txt", {static_cast<uint64_t>(AT_FDCWD), kPath, 0x1234})
                .decision.error,
            EINVAL);
  child_.Map(kPath2, std::string(8, '\0'));
  EXPECT_EQ(Call(SYS_openat2, {static_cast<uint64_t>(AT_FDCWD), kPath, kPath2, 8}).decision.error,
            EINVAL);  // open_how too small
  EXPECT_EQ(CallPath(SYS_mkdirat, "x", {77, kPath, 0755}).decision.error, EBADF);
}

TEST_F(CowHandlerUnit, DryRunListsTheChangesAndDiscards) {
  ASSERT_EQ(CallPath(SYS_mkdir, "n", {kPath, 0755}).decision.value, 0);
  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  auto done = FinishSession(*session_, Disposition::kDryRun, true, out);
  fclose(out);
  finished_ = true;
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(std::string(buf, len), "A  n\n");
  free(buf);
  EXPECT_NE(access(Real("n").c_str(), F_OK), 0);
}

TEST_F(CowHandlerUnit, CommitWhenTheCommandSucceeded) {
  ASSERT_EQ(CallPath(SYS_mkdir, "n", {kPath, 0755}).decision.value, 0);
  auto done = FinishSession(*session_, Disposition::kAuto, true, stderr);
  finished_ = true;
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->committed);
  EXPECT_EQ(access(Real("n").c_str(), F_OK), 0);
}

TEST_F(CowHandlerUnit, SetsRegisterOnAnArchWithoutTheLegacyCalls) {
  // aarch64 has openat and renameat2 but no open, stat or rename.
  HandlerRegistry a64(Aarch64Syscalls());
  ASSERT_TRUE(session_->Register(a64, "cow").ok());
  ASSERT_TRUE(AddPassthroughSet(a64).ok());
  ASSERT_TRUE(AddSeedHandlers(a64, 1, true).ok());
  const ArchTable& t = Aarch64Syscalls();
  for (std::string_view name : {"openat", "renameat2", "newfstatat", "execve", "unlinkat"}) {
    EXPECT_TRUE(a64.Handles(t.FindByName(name)->nr)) << name;
  }
  EXPECT_EQ(t.FindByName("open"), nullptr);
  EXPECT_EQ(a64.NotifySet().size() + 0u, a64.NotifyRules().size());
  EXPECT_LT(a64.NotifySet().size(), registry_.NotifySet().size());
}

TEST_F(CowHandlerUnit, PassthroughSetNotifiesTheSameSyscalls) {
  HandlerRegistry pass;
  ASSERT_TRUE(AddPassthroughSet(pass).ok());
  EXPECT_EQ(pass.NotifySet(), registry_.NotifySet());
  Notification n;
  n.arch = AUDIT_ARCH_X86_64;
  n.nr = SYS_unlink;
  EXPECT_EQ(pass.Dispatch(n, child_).decision.kind, DecisionKind::kContinue);
  // Every handled syscall is one the table knows and may notify.
  for (std::string_view name : CowSyscallNames()) {
    const SyscallDef* d = NativeSyscalls().FindByName(name);
    ASSERT_NE(d, nullptr) << name;
    EXPECT_FALSE(d->denied()) << name;
  }
}

TEST(CowHandlerSession, RefusesTheRootAndAStorageInsideTheWorkdir) {
  CowSessionOptions o;
  o.workdir = "/";
  auto s = CowSession::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), EINVAL);

  char tmpl[] = "/tmp/cowh-sess-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string w = tmpl;
  o.workdir = w;
  o.storage = w + "/inside";
  s = CowSession::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), EINVAL);
  EXPECT_NE(s.error().context.find("inside the workdir"), std::string::npos);
  rmdir((w + "/inside").c_str());
  rmdir(w.c_str());
}

}  // namespace
}  // namespace sandtrace::cow
