#include "cow/handlers/view_index.h"
#include "cow/fs_util.h"

#include <iterator>

namespace sandtrace::cow {

bool ViewWithin(std::string_view path, std::string_view dir) { return fs::PathWithin(path, dir); }

std::string_view ParentOf(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view BaseNameOf(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string JoinView(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && !name.empty()) out += '/';
  out += name;
  return out;
}

void ViewIndex::MarkSubtree(std::string_view path) {
  pristine_ = false;
  if (!subtree_.contains(path)) subtree_.emplace(path);
}

void ViewIndex::MarkObject(std::string_view path) {
  pristine_ = false;
  if (!object_.contains(path)) object_.emplace(path);
}

void ViewIndex::MarkAncestors(std::string_view path) {
  pristine_ = false;
  while (!path.empty()) {
    path = ParentOf(path);
    // Stop early: an ancestor already marked has its own ancestors marked.
    if (object_.contains(path)) break;
    object_.emplace(path);
  }
}

bool ViewIndex::SubtreeDirty(std::string_view path) const {
  if (subtree_.empty()) return false;
  size_t pos = 0;
  while (pos <= path.size() && !path.empty()) {
    size_t slash = path.find('/', pos);
    size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (subtree_.contains(path.substr(0, end))) return true;
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return subtree_.contains(std::string_view());
}

bool ViewIndex::ObjectDirty(std::string_view path) const {
  return !object_.empty() && object_.contains(path);
}

ViewIndex::Entry ViewIndex::Lookup(std::string_view dir, std::string_view name) const {
  auto it = listings_.find(dir);
  if (it == listings_.end()) return Entry::kUnknown;
  return it->second.contains(name) ? Entry::kSymlink : Entry::kOther;
}

void ViewIndex::MarkOpaque(std::string_view path) {
  if (opaque_.contains(path)) return;
  opaque_.emplace(path);
  opaque_sorted_.emplace(path);
}

void ViewIndex::SetListing(std::string_view dir, std::vector<std::string> symlinks) {
  if (listings_.size() >= kMaxListings) {
    listings_.clear();
    listing_keys_.clear();
  }
  auto it = listings_.find(dir);
  if (it == listings_.end()) {
    it = listings_.emplace(std::string(dir), PathSet()).first;
    listing_keys_.emplace(dir);
  }
  auto& set = it->second;
  set.clear();
  set.insert(std::make_move_iterator(symlinks.begin()), std::make_move_iterator(symlinks.end()));
}

void ViewIndex::AddEntry(std::string_view dir, std::string_view name, bool is_symlink) {
  if (!is_symlink) return;
  auto it = listings_.find(dir);
  if (it != listings_.end()) it->second.emplace(name);
}

template <class Drop>
void ViewIndex::EraseSubtree(SortedPaths& sorted, std::string_view path, Drop drop) {
  if (path.empty()) {  // the root: everything
    for (const std::string& k : sorted) drop(k);
    sorted.clear();
    return;
  }
  if (auto it = sorted.find(path); it != sorted.end()) {
    drop(*it);
    sorted.erase(it);
  }
  // Beneath "a/b": the keys from "a/b/" up to "a/b0" ('0' follows '/').
  std::string from(path), to(path);
  from += '/';
  to += static_cast<char>('/' + 1);
  auto first = sorted.lower_bound(from);
  auto last = sorted.lower_bound(to);
  for (auto it = first; it != last; ++it) drop(*it);
  sorted.erase(first, last);
}

void ViewIndex::Forget(std::string_view path) {
  EraseSubtree(listing_keys_, path, [this](const std::string& k) { listings_.erase(k); });
  EraseSubtree(opaque_sorted_, path, [this](const std::string& k) { opaque_.erase(k); });
  if (!path.empty()) {
    const std::string_view parent = ParentOf(path);
    if (auto it = listings_.find(parent); it != listings_.end()) {
      listings_.erase(it);
      if (auto k = listing_keys_.find(parent); k != listing_keys_.end()) listing_keys_.erase(k);
    }
  }
}

}  // namespace sandtrace::cow
