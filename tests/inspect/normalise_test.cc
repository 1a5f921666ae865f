// What `trace diff` blanks in stat and getdents64 buffers (normalise.h).
#include "replay/inspect/normalise.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <linux/stat.h>
#include <sys/stat.h>

#include <cstring>

namespace sandtrace::inspect {
namespace {

template <class T>
std::string Bytes(const T& value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof value);
}

TEST(InspectNormalise, StatKeepsSizeAndModeButNotInodeOrTimes) {
  struct stat st {};
  st.st_ino = 1234;
  st.st_size = 42;
  st.st_mode = S_IFREG | 0644;
  st.st_mtim.tv_sec = 1'700'000'000;
  std::string b = Bytes(st);
  BlankRunSpecificFields("newfstatat", b);
  struct stat out {};
  std::memcpy(&out, b.data(), sizeof out);
  EXPECT_EQ(out.st_ino, 0u);
  EXPECT_EQ(out.st_mtim.tv_sec, 0);
  EXPECT_EQ(out.st_size, 42);
  EXPECT_EQ(out.st_mode, S_IFREG | 0644);

  std::string other = Bytes(st);
  BlankRunSpecificFields("read", other);  // not a stat: untouched
  EXPECT_EQ(other, Bytes(st));
  std::string shorter = Bytes(st).substr(0, 20);
  BlankRunSpecificFields("stat", shorter);  // too short: untouched
  EXPECT_EQ(shorter, Bytes(st).substr(0, 20));
}

TEST(InspectNormalise, Statx) {
  struct statx stx {};
  stx.stx_ino = 99;
  stx.stx_size = 7;
  stx.stx_btime.tv_sec = 5;
  std::string b = Bytes(stx);
  BlankRunSpecificFields("statx", b);
  struct statx out {};
  std::memcpy(&out, b.data(), sizeof out);
  EXPECT_EQ(out.stx_ino, 0u);
  EXPECT_EQ(out.stx_btime.tv_sec, 0);
  EXPECT_EQ(out.stx_size, 7u);
}

TEST(InspectNormalise, DirentsLoseInodesOnly) {
  std::string b;
  for (const char* name : {".", "main.c"}) {
    struct dirent64 d {};
    d.d_ino = 777;
    d.d_off = 1;
    d.d_type = DT_REG;
    std::strcpy(d.d_name, name);
    const size_t len = (offsetof(struct dirent64, d_name) + std::strlen(name) + 1 + 7) & ~size_t{7};
    d.d_reclen = static_cast<unsigned short>(len);
    b.append(reinterpret_cast<const char*>(&d), len);
  }
  std::string blanked = b;
  BlankRunSpecificFields("getdents64", blanked);
  ASSERT_EQ(blanked.size(), b.size());
  struct dirent64 first {};
  std::memcpy(&first, blanked.data(), offsetof(struct dirent64, d_name));
  EXPECT_EQ(first.d_ino, 0u);
  EXPECT_EQ(first.d_off, 1);
  EXPECT_NE(blanked.find("main.c"), std::string::npos);
  // A cut record is left alone rather than read past the end.
  std::string cut = b.substr(0, b.size() - 4);
  BlankRunSpecificFields("getdents64", cut);
  EXPECT_EQ(cut.substr(0, 8), std::string(8, '\0'));
}

}  // namespace
}  // namespace sandtrace::inspect
