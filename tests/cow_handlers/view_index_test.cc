// ViewIndex and ProcessTable: the bookkeeping behind the cheap decisions.
#include <gtest/gtest.h>

#include "cow/handlers/process_table.h"
#include "cow/handlers/view_index.h"
#include "tests/cow_handlers/fake_child.h"

namespace sandtrace::cow {
namespace {

TEST(CowHandlerIndex, PristineUntilTheFirstMark) {
  ViewIndex ix;
  EXPECT_TRUE(ix.pristine());
  EXPECT_TRUE(ix.Clean("a/b"));
  ix.MarkChanged("a/b/c");
  EXPECT_FALSE(ix.pristine());
}

TEST(CowHandlerIndex, SubtreeMarksCoverDescendantsObjectMarksDoNot) {
  ViewIndex ix;
  ix.MarkChanged("a/b");
  EXPECT_TRUE(ix.SubtreeDirty("a/b"));
  EXPECT_TRUE(ix.SubtreeDirty("a/b/c/d"));
  EXPECT_FALSE(ix.SubtreeDirty("a/bc"));
  EXPECT_FALSE(ix.SubtreeDirty("a"));
  EXPECT_TRUE(ix.ObjectDirty("a"));
  EXPECT_TRUE(ix.ObjectDirty(""));
  EXPECT_FALSE(ix.Clean("a"));
  EXPECT_TRUE(ix.Clean("a/x"));
  EXPECT_TRUE(ix.Clean("z"));
}

TEST(CowHandlerIndex, SymlinkListings) {
  ViewIndex ix;
  EXPECT_EQ(ix.Lookup("d", "x"), ViewIndex::Entry::kUnknown);
  ix.SetListing("d", {"l1"});
  EXPECT_EQ(ix.Lookup("d", "l1"), ViewIndex::Entry::kSymlink);
  EXPECT_EQ(ix.Lookup("d", "f"), ViewIndex::Entry::kOther);
  ix.AddEntry("d", "l2", true);
  ix.AddEntry("d", "f2", false);
  EXPECT_EQ(ix.Lookup("d", "l2"), ViewIndex::Entry::kSymlink);
  EXPECT_EQ(ix.Lookup("d", "f2"), ViewIndex::Entry::kOther);
  ix.SetEmptyListing("d/sub");
  ix.MarkOpaque("d/sub");
  ix.Forget("d/sub");
  EXPECT_EQ(ix.Lookup("d/sub", "x"), ViewIndex::Entry::kUnknown);
  EXPECT_EQ(ix.Lookup("d", "l1"), ViewIndex::Entry::kUnknown);  // the parent is relisted
  EXPECT_FALSE(ix.IsOpaque("d/sub"));
}

TEST(CowHandlerIndex, ForgetDropsExactlyTheSubtree) {
  // Names that sort between "a/b" and "a/b/..." ("a/b-x", "a/b.x") and
  // just after them ("a/b0", "a/bc") are not beneath "a/b".
  ViewIndex ix;
  const char* const paths[] = {"a",     "a/b",  "a/b/c", "a/b/c/d", "a/b-x",
                               "a/b.x", "a/b0", "a/bc",  "b",       "a/b/c0"};
  for (const char* p : paths) {
    ix.SetListing(p, {});
    ix.MarkOpaque(p);
  }
  ix.Forget("a/b");
  for (const char* gone : {"a/b", "a/b/c", "a/b/c/d", "a/b/c0"}) {
    EXPECT_FALSE(ix.Listed(gone)) << gone;
    EXPECT_FALSE(ix.IsOpaque(gone)) << gone;
  }
  EXPECT_FALSE(ix.Listed("a"));  // the parent's listing changed
  EXPECT_TRUE(ix.IsOpaque("a"));
  for (const char* kept : {"a/b-x", "a/b.x", "a/b0", "a/bc", "b"}) {
    EXPECT_TRUE(ix.Listed(kept)) << kept;
    EXPECT_TRUE(ix.IsOpaque(kept)) << kept;
  }
  // Again after the forgotten ones are back, and for the root: everything.
  ix.SetListing("a/b", {});
  ix.MarkOpaque("a/b/c");
  ix.Forget("");
  for (const char* p : paths) {
    EXPECT_FALSE(ix.Listed(p)) << p;
    EXPECT_FALSE(ix.IsOpaque(p)) << p;
  }
  EXPECT_EQ(ix.listings(), 0u);
}

TEST(CowHandlerIndex, PathHelpers) {
  EXPECT_EQ(ParentOf("a/b/c"), "a/b");
  EXPECT_EQ(ParentOf("a"), "");
  EXPECT_EQ(BaseNameOf("a/b"), "b");
  EXPECT_EQ(JoinView("", "a"), "a");
  EXPECT_EQ(JoinView("a", "b"), "a/b");
  EXPECT_TRUE(ViewWithin("a/b", "a"));
  EXPECT_TRUE(ViewWithin("a", ""));
  EXPECT_FALSE(ViewWithin("ab", "a"));
}

TEST(CowHandlerProcesses, VirtualCwdIsSharedByThreadsAndInheritedByChildren) {
  testing::FakeChild t;
  ProcessTable p;
  t.ids = ProcIds{10, 1, 100};
  EXPECT_EQ(p.Observe(10, t), 10);
  t.ids = ProcIds{10, 1, 100};
  EXPECT_EQ(p.Observe(11, t), 10);  // a thread of 10
  p.SetVirtualCwd(10, "build");
  ASSERT_NE(p.VirtualCwd(10), nullptr);
  EXPECT_EQ(*p.VirtualCwd(10), "build");
  // A child of 10 seen for the first time inherits it.
  t.ids = ProcIds{20, 10, 200};
  EXPECT_EQ(p.Observe(20, t), 20);
  ASSERT_NE(p.VirtualCwd(20), nullptr);
  EXPECT_EQ(*p.VirtualCwd(20), "build");
  // A reused pid (another start time) is a new process: the parent's again.
  p.ClearVirtualCwd(20);
  t.ids = ProcIds{10, 1, 555};
  EXPECT_EQ(p.Observe(10, t), 10);
  EXPECT_EQ(p.VirtualCwd(10), nullptr);
  EXPECT_FALSE(p.any_virtual_cwd());
}

TEST(CowHandlerProcesses, WithoutProcessIdsNothingIsVirtual) {
  testing::FakeChild t;
  t.has_ids = false;
  ProcessTable p;
  EXPECT_EQ(p.Observe(10, t), 0);
  EXPECT_EQ(p.VirtualCwd(0), nullptr);
}

}  // namespace
}  // namespace sandtrace::cow
