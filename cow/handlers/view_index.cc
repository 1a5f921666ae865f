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

void ViewIndex::SetListing(std::string_view dir, std::vector<std::string> symlinks) {
  if (listings_.size() >= kMaxListings) listings_.clear();
  auto it = listings_.find(dir);
  if (it == listings_.end()) it = listings_.emplace(std::string(dir), PathSet()).first;
  auto& set = it->second;
  set.clear();
  set.insert(std::make_move_iterator(symlinks.begin()), std::make_move_iterator(symlinks.end()));
}

void ViewIndex::AddEntry(std::string_view dir, std::string_view name, bool is_symlink) {
  if (!is_symlink) return;
  auto it = listings_.find(dir);
  if (it != listings_.end()) it->second.emplace(name);
}

void ViewIndex::Forget(std::string_view path) {
  for (auto it = listings_.begin(); it != listings_.end();) {
    it = fs::PathWithin(it->first, path) ? listings_.erase(it) : std::next(it);
  }
  for (auto it = opaque_.begin(); it != opaque_.end();) {
    it = fs::PathWithin(*it, path) ? opaque_.erase(it) : std::next(it);
  }
  if (!path.empty()) {
    if (auto it = listings_.find(ParentOf(path)); it != listings_.end()) listings_.erase(it);
  }
}

}  // namespace sandtrace::cow
