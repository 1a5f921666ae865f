// The snapshot: SHA-256 vectors, size that follows what the command touched
// (not the workdir), listings, deduplicated contents, exclusions, and a
// lower layer rebuilt from the snapshot answering the engine's queries as
// the real one did (what a hermetic replay needs).
#include "tracer/record/snapshot.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>

#include "cow/overlay.h"
#include "tests/record/record_test_util.h"
#include "tracer/base/errors.h"
#include "tracer/record/recorder.h"
#include "tracer/record/sha256.h"

namespace sandtrace::record {
namespace {

using rtest::ReadTrace;
using rtest::TempDir;
using rtest::WriteFile;

std::string HexOf(std::string_view s) { return Sha256::Hex(Sha256::Of(s)); }

TEST(RecordSha256, KnownVectors) {
  EXPECT_EQ(HexOf(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexOf("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(HexOf(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(RecordSha256, PiecewiseUpdatesEqualOneShot) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data.push_back(static_cast<char>(i * 7 + i / 13));
  for (size_t step : {1, 3, 63, 64, 65, 1000}) {
    Sha256 h;
    for (size_t at = 0; at < data.size(); at += step)
      h.Update(std::string_view(data).substr(at, step));
    EXPECT_EQ(Sha256::Hex(h.Finish()), HexOf(data)) << "step " << step;
  }
}

// A workdir, an overlay on it observed by a recorder, and the trace.
class RecordSnapshot : public ::testing::Test {
 protected:
  void Open(trace::SnapshotMode mode, std::vector<std::string> exclude = {},
            std::vector<std::string> placeholders = {}) {
    auto w = trace::TraceWriter::Open(trace_path());
    ASSERT_TRUE(w.ok());
    writer_ = std::move(*w);
    RecorderOptions ro;
    ro.snapshot = mode;
    ro.process_monitor = false;
    ro.snapshot_exclude = std::move(exclude);
    ro.snapshot_placeholders = std::move(placeholders);
    recorder_ = std::make_unique<Recorder>(*writer_, ro);
    ASSERT_TRUE(recorder_->Begin(trace::HeaderRecord{}).ok());
    cow::OverlayOptions oo;
    oo.observer = recorder_.get();
    auto o = cow::Overlay::Create({lower_.path(), storage_.path()}, oo);
    ASSERT_TRUE(o.ok()) << o.error().Message();
    overlay_ = std::move(*o);
  }
  // Ends the run and returns what the trace's snapshot holds.
  rtest::TraceContents Finish() {
    EXPECT_TRUE(recorder_->EndRun().ok());
    auto stats = recorder_->WriteSnapshot(overlay_->lower_root());
    EXPECT_TRUE(stats.ok());
    EXPECT_TRUE(overlay_->Abort().ok());
    EXPECT_TRUE(recorder_->Finish(0, 0, true).ok());
    return ReadTrace(trace_path());
  }
  std::string trace_path() const { return out_.path() + "/t.capnp"; }
  std::string L(const std::string& rel) const { return lower_.path() + "/" + rel; }

  TempDir lower_{"/dev/shm"};
  TempDir storage_{"/dev/shm"};
  TempDir out_{"/dev/shm"};
  std::unique_ptr<trace::TraceWriter> writer_;
  std::unique_ptr<Recorder> recorder_;
  std::unique_ptr<cow::Overlay> overlay_;
};

std::map<std::string, trace::SnapshotEntry> ByPath(const std::vector<trace::SnapshotEntry>& es) {
  std::map<std::string, trace::SnapshotEntry> m;
  for (const auto& e : es) EXPECT_TRUE(m.emplace(e.path, e).second) << "duplicate " << e.path;
  return m;
}

TEST_F(RecordSnapshot, SizeFollowsWhatWasTouchedNotTheWorkdir) {
  // 100 directories x 1,000 files of 100 bytes; the "command" touches 10.
  const std::string body(100, 'x');
  for (int d = 0; d < 100; ++d) {
    std::string dir = L("d" + std::to_string(d));
    ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
    for (int f = 0; f < 1000; ++f) WriteFile(dir + "/f" + std::to_string(f), body);
  }
  Open(trace::SnapshotMode::kMetadata);
  const cow::Base root = cow::Base::Root();
  std::vector<std::string> touched;
  for (int i = 0; i < 4; ++i) {
    touched.push_back("d" + std::to_string(i * 7) + "/f" + std::to_string(i * 3));
    ASSERT_TRUE(overlay_->Stat(root, touched.back()).ok());
  }
  for (int i = 0; i < 3; ++i) {
    touched.push_back("d50/f" + std::to_string(i));
    ASSERT_TRUE(overlay_->Open(root, touched.back(), O_RDONLY, 0).ok());
  }
  for (int i = 0; i < 3; ++i) {
    touched.push_back("d99/f" + std::to_string(i));
    ASSERT_TRUE(overlay_->Open(root, touched.back(), O_WRONLY, 0).ok());  // copy-up
  }
  // Negative lookups need no entry: absent names stay absent when rebuilt
  // (d1 itself was looked up on the way).
  EXPECT_FALSE(overlay_->Stat(root, "d1/nope").ok());
  auto c = Finish();
  auto m = ByPath(c.entries);
  // 10 files, 7 directories and the root; never the 100,000.
  EXPECT_EQ(m.size(), 18u);
  EXPECT_TRUE(m.count("d1"));
  for (const auto& t : touched) {
    ASSERT_TRUE(m.count(t)) << t;
    EXPECT_EQ(m[t].type, trace::FileType::kRegular);
    EXPECT_EQ(m[t].size, 100u);
    EXPECT_EQ(m[t].mode, 0644u);
    EXPECT_TRUE(m[t].content_hash.empty());  // metadata mode
  }
  ASSERT_TRUE(m.count(""));
  EXPECT_EQ(m[""].type, trace::FileType::kDirectory);
  EXPECT_EQ(m["d50"].type, trace::FileType::kDirectory);
  EXPECT_FALSE(m.count("d1/nope"));
  // Parents come before their entries.
  for (size_t i = 1; i < c.entries.size(); ++i) EXPECT_LT(c.entries[i - 1].path, c.entries[i].path);
}

TEST_F(RecordSnapshot, AFullListingRecordsEveryNameOfThatDirectory) {
  ASSERT_EQ(mkdir(L("big").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(L("other").c_str(), 0755), 0);
  for (int f = 0; f < 300; ++f) WriteFile(L("big/n" + std::to_string(f)), "");
  WriteFile(L("other/x"), "");
  ASSERT_EQ(symlink("n1", L("big/link").c_str()), 0);
  Open(trace::SnapshotMode::kMetadata);
  auto listing = overlay_->ListDir(cow::Base::Root(), "big");
  ASSERT_TRUE(listing.ok());
  auto m = ByPath(Finish().entries);
  for (int f = 0; f < 300; ++f) EXPECT_TRUE(m.count("big/n" + std::to_string(f))) << f;
  ASSERT_TRUE(m.count("big/link"));
  EXPECT_EQ(m["big/link"].type, trace::FileType::kSymlink);
  EXPECT_EQ(m["big/link"].symlink_target, "n1");
  EXPECT_FALSE(m.count("other/x"));
  EXPECT_FALSE(m.count("other"));
}

TEST_F(RecordSnapshot, ContentModeStoresEachReadFileOnceByHash) {
  std::string big;
  for (int i = 0; i < (3 << 20) + 123; ++i) big.push_back(static_cast<char>((i * 131) >> 3));
  WriteFile(L("a"), "same bytes");
  WriteFile(L("b"), "same bytes");
  WriteFile(L("c"), "only stat'ed");
  WriteFile(L("big"), big);
  WriteFile(L("empty"), "");
  Open(trace::SnapshotMode::kFull);
  const cow::Base root = cow::Base::Root();
  for (const char* p : {"a", "b", "big", "empty"}) {
    ASSERT_TRUE(overlay_->Open(root, p, O_RDONLY, 0).ok()) << p;
  }
  ASSERT_TRUE(overlay_->Stat(root, "c").ok());
  auto c = Finish();
  ASSERT_TRUE(c.header.has_value());
  EXPECT_EQ(c.header->snapshot_mode, trace::SnapshotMode::kFull);
  EXPECT_EQ(c.header->snapshot_hash, "sha256");
  auto m = ByPath(c.entries);
  EXPECT_EQ(m["a"].content_hash, m["b"].content_hash);
  auto digest = Sha256::Of("same bytes");
  EXPECT_EQ(m["a"].content_hash, std::string(reinterpret_cast<const char*>(digest.data()), 32));
  EXPECT_TRUE(m["c"].content_hash.empty());
  EXPECT_FALSE(m["empty"].content_hash.empty());
  // Reassemble every content from its blobs.
  std::map<std::string, std::string> contents;
  std::map<std::string, int> pieces;
  for (const auto& b : c.blobs) {
    std::string& s = contents[b.hash];
    ASSERT_EQ(b.offset, s.size()) << "blobs of one content come in order";
    EXPECT_LE(b.bytes.size(), 1u << 20);
    s += b.bytes;
    ++pieces[b.hash];
  }
  EXPECT_EQ(contents.size(), 3u);  // "same bytes" once, big, empty
  EXPECT_EQ(contents[m["a"].content_hash], "same bytes");
  EXPECT_EQ(contents[m["big"].content_hash], big);
  EXPECT_GE(pieces[m["big"].content_hash], 4);
  EXPECT_EQ(contents[m["empty"].content_hash], "");
}

TEST_F(RecordSnapshot, APlaceholderKeepsTheNameButNotTheBytes) {
  WriteFile(L("trace.capnp"), "the trace being written", 0640);
  WriteFile(L("kept"), "k");
  Open(trace::SnapshotMode::kFull, {}, {"trace.capnp"});
  ASSERT_TRUE(overlay_->ListDir(cow::Base::Root(), ".").ok());
  ASSERT_TRUE(overlay_->Open(cow::Base::Root(), "trace.capnp", O_RDONLY, 0).ok());
  ASSERT_TRUE(overlay_->Open(cow::Base::Root(), "kept", O_RDONLY, 0).ok());
  auto c = Finish();
  auto m = ByPath(c.entries);
  ASSERT_TRUE(m.count("trace.capnp"));
  EXPECT_EQ(m["trace.capnp"].type, trace::FileType::kRegular);
  EXPECT_EQ(m["trace.capnp"].mode, 0640u);
  EXPECT_EQ(m["trace.capnp"].size, 0u);
  EXPECT_EQ(m["trace.capnp"].mtime_ns, 0);
  EXPECT_TRUE(m["trace.capnp"].content_hash.empty());
  EXPECT_FALSE(m["kept"].content_hash.empty());
  for (const auto& b : c.blobs) EXPECT_EQ(b.bytes.find("the trace"), std::string::npos);
}

TEST_F(RecordSnapshot, ExcludedPathsAreLeftOutEvenFromListings) {
  WriteFile(L("trace.capnp"), "the trace being written");
  WriteFile(L("kept"), "");
  Open(trace::SnapshotMode::kFull, {"trace.capnp"});
  ASSERT_TRUE(overlay_->ListDir(cow::Base::Root(), ".").ok());
  ASSERT_TRUE(overlay_->Open(cow::Base::Root(), "trace.capnp", O_RDONLY, 0).ok());
  auto m = ByPath(Finish().entries);
  EXPECT_TRUE(m.count("kept"));
  EXPECT_FALSE(m.count("trace.capnp"));
}

// Rebuilds a lower layer from snapshot entries and blobs.
void Rebuild(const std::string& root, const rtest::TraceContents& c) {
  std::map<std::string, std::string> contents;
  for (const auto& b : c.blobs) contents[b.hash] += b.bytes;
  for (const auto& e : c.entries) {
    std::string p = e.path.empty() ? root : root + "/" + e.path;
    switch (e.type) {
      case trace::FileType::kDirectory:
        if (!e.path.empty()) {
          ASSERT_EQ(mkdir(p.c_str(), 0700), 0) << p;
        }
        break;
      case trace::FileType::kRegular: {
        std::string data = e.content_hash.empty() ? std::string() : contents[e.content_hash];
        WriteFile(p, data);
        if (e.content_hash.empty()) {
          ASSERT_EQ(truncate(p.c_str(), static_cast<off_t>(e.size)), 0);
        }
        break;
      }
      case trace::FileType::kSymlink:
        ASSERT_EQ(symlink(e.symlink_target.c_str(), p.c_str()), 0);
        break;
      default:
        break;
    }
    if (e.type != trace::FileType::kSymlink) {
      ASSERT_EQ(chmod(p.c_str(), e.mode), 0);
    }
  }
}

// The same queries, on the real lower and on one rebuilt from the snapshot.
std::vector<std::string> Queries(cow::Overlay& o) {
  std::vector<std::string> out;
  const cow::Base root = cow::Base::Root();
  for (const char* p : {"src/main.c", "src/lib/util.c", "src/missing", "link/util.c",
                        "src/lib/../main.c", "README"}) {
    auto st = o.Stat(root, p);
    out.push_back(std::string(p) + ": " +
                  (st.ok() ? std::to_string(st->st_size) + " " + std::to_string(st->st_mode)
                           : "errno " + std::to_string(st.code())));
  }
  auto ls = o.ListDir(root, "src");
  if (ls.ok()) {
    for (const auto& e : *ls) {
      if (e.name != "." && e.name != "..") {
        out.push_back("ls " + e.name + " " + cow::FileTypeName(e.type) + " " +
                      std::to_string(e.off));
      }
    }
  }
  for (const char* p : {"src/main.c", "link/util.c"}) {
    auto f = o.Open(root, p, O_RDONLY, 0);
    std::string data(64, '\0');
    ssize_t n = f.ok() ? pread(f->fd.get(), data.data(), data.size(), 0) : -1;
    out.push_back(std::string("read ") + p + ": " + (n >= 0 ? data.substr(0, n) : "fail"));
  }
  auto link = o.Readlink(root, "link");
  out.push_back("readlink " + (link.ok() ? *link : "fail"));
  auto up = o.Open(root, "src/lib/util.c", O_RDWR, 0);  // copy-up charges its size
  out.push_back("copy-up " + std::to_string(up.ok()) + " used " + std::to_string(o.used_bytes()));
  auto rm = o.Rmdir(root, "src/lib");
  out.push_back("rmdir errno " + std::to_string(rm.code()));
  return out;
}

TEST_F(RecordSnapshot, ALowerRebuiltFromTheSnapshotAnswersTheSameQueries) {
  ASSERT_EQ(mkdir(L("src").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(L("src/lib").c_str(), 0750), 0);
  ASSERT_EQ(mkdir(L("unrelated").c_str(), 0755), 0);
  WriteFile(L("src/main.c"), "int main(void) { return 0; }\n");
  WriteFile(L("src/lib/util.c"), "int util;\n", 0600);
  WriteFile(L("src/Makefile"), "all:\n");
  WriteFile(L("README"), "readme");
  WriteFile(L("unrelated/x"), "x");
  ASSERT_EQ(symlink("src/lib", L("link").c_str()), 0);
  Open(trace::SnapshotMode::kFull);
  std::vector<std::string> live = Queries(*overlay_);
  auto c = Finish();
  EXPECT_LT(c.entries.size(), 12u);

  TempDir rebuilt("/dev/shm"), storage("/dev/shm");
  Rebuild(rebuilt.path(), c);
  auto o = cow::Overlay::Create({rebuilt.path(), storage.path()}, {});
  ASSERT_TRUE(o.ok());
  std::vector<std::string> replayed = Queries(**o);
  EXPECT_EQ(replayed, live);
  EXPECT_TRUE((*o)->Abort().ok());
}

}  // namespace
}  // namespace sandtrace::record
