// ViewIndex: what the COW handlers know, without asking the engine, about
// where the merged view differs from the lower layer.
//
// Why: the engine resolves a path component by component through both
// layers (several syscalls per component). Most notified syscalls are reads
// of files nobody touched, which the kernel can serve itself (CONTINUE) if
// the handler can tell cheaply that the kernel would reach the same object.
// Every change to the view goes through the handlers, so they record here
// which view paths they changed:
//
//   subtree-dirty  the object at this path, and everything beneath it, may
//                  differ from the lower (created, deleted, renamed from or
//                  to, a file copied up or modified, a directory made opaque);
//   object-dirty   the directory itself differs (it has an upper copy, e.g.
//                  because an entry was created in it) but names beneath it
//                  that are not dirty themselves still equal the lower.
//
// A path is clean when neither it nor any ancestor is subtree-dirty and it
// is not object-dirty. Marks are conservative: a handler marks before it
// knows whether the engine succeeded, and nothing is ever unmarked.
//
// Symlinks: the kernel follows symlinks that a lexical walk cannot see, so
// the index also caches, per view directory, the names of the symlinks in
// it (filled from the engine's merged listing, kept up to date by the
// handlers when they create, rename or delete). A walk that meets a symlink,
// "..", or a directory whose listing is unknown and cannot be listed falls
// back to the engine.
//
// Opaque directories: a directory created by mkdir holds exactly its upper
// entries, so the kernel lists it correctly; those are remembered so that
// getdents64 on them can CONTINUE.
//
// Memory: bounded by the number of view paths changed plus kMaxListings
// cached listings (dropped wholesale beyond that; they are refilled on
// demand). Cost: lookups hash; Forget takes time in the size of the
// subtree it drops, not of the index. Thread-safety: none (the supervisor
// loop or replay).
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sandtrace::cow {

class ViewIndex {
 public:
  static constexpr size_t kMaxListings = 1 << 16;

  // True until the first Mark*: the view equals the lower everywhere.
  bool pristine() const { return pristine_; }

  // ---- Changes --------------------------------------------------------------
  // `path` is a normalised view path ("" = the workdir root, "a/b").
  void MarkSubtree(std::string_view path);
  void MarkObject(std::string_view path);
  // MarkObject on every proper ancestor of `path` (the engine copies the
  // parent chain up before it changes an entry).
  void MarkAncestors(std::string_view path);
  // A change of `path`'s own entry (create, delete, copy-up, metadata):
  // MarkSubtree(path) + MarkAncestors(path).
  void MarkChanged(std::string_view path) {
    MarkSubtree(path);
    MarkAncestors(path);
  }

  // `path` or one of its ancestors is subtree-dirty.
  bool SubtreeDirty(std::string_view path) const;
  bool ObjectDirty(std::string_view path) const;
  bool Clean(std::string_view path) const { return !SubtreeDirty(path) && !ObjectDirty(path); }

  // ---- Opaque directories -------------------------------------------------------
  void MarkOpaque(std::string_view path);
  bool IsOpaque(std::string_view path) const { return opaque_.contains(path); }

  // ---- Symlink knowledge ----------------------------------------------------------
  enum class Entry : uint8_t { kUnknown, kSymlink, kOther };
  // What `name` in view directory `dir` is, as far as the cached listing of
  // `dir` says (kOther also for a name the listing does not have).
  Entry Lookup(std::string_view dir, std::string_view name) const;
  bool Listed(std::string_view dir) const { return listings_.contains(dir); }
  // Records the listing of `dir`: the names in it that are symlinks.
  void SetListing(std::string_view dir, std::vector<std::string> symlinks);
  // `dir` was just created empty.
  void SetEmptyListing(std::string_view dir) { SetListing(dir, {}); }
  // A new entry `name` of `dir`; only symlinks need recording.
  void AddEntry(std::string_view dir, std::string_view name, bool is_symlink);
  // Something at or beneath `path` moved or vanished (rename, rmdir, a
  // directory replaced): forgets the cached listings and opaque marks of
  // `path` and its subtree, and the listing of its parent.
  void Forget(std::string_view path);

  size_t dirty_paths() const { return subtree_.size() + object_.size(); }
  size_t listings() const { return listings_.size(); }

 private:
  // Lookups by string_view, without building a std::string for each.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using PathSet = std::unordered_set<std::string, Hash, std::equal_to<>>;
  bool pristine_ = true;
  PathSet subtree_;
  PathSet object_;
  PathSet opaque_;
  // dir -> its symlink names (usually empty).
  std::unordered_map<std::string, PathSet, Hash, std::equal_to<>> listings_;
  // The keys of opaque_ and listings_ again, in order: Forget drops a
  // subtree as one range instead of scanning every entry (a run making
  // 20,000 directories forgot at each mkdir: quadratic).
  using SortedPaths = std::set<std::string, std::less<>>;
  SortedPaths opaque_sorted_;
  SortedPaths listing_keys_;
  // Removes `path` and everything beneath it from `sorted`, calling
  // `drop(key)` for each.
  template <class Drop>
  static void EraseSubtree(SortedPaths& sorted, std::string_view path, Drop drop);
};

// Path helpers on normalised view paths.
std::string_view ParentOf(std::string_view path);    // "a/b" -> "a", "a" -> ""
std::string_view BaseNameOf(std::string_view path);  // "a/b" -> "b"
std::string JoinView(std::string_view dir, std::string_view name);
// True if `path` is `dir` or lies beneath it.
bool ViewWithin(std::string_view path, std::string_view dir);

}  // namespace sandtrace::cow
