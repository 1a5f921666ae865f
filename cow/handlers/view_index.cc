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
  subtree_.emplace(path);
}

void ViewIndex::MarkObject(std::string_view path) {
  pristine_ = false;
  object_.emplace(path);
}

void ViewIndex::MarkAncestors(std::string_view path) {
  pristine_ = false;
  while (!path.empty()) {
    path = ParentOf(path);
    // Stop early: an ancestor already marked has its own ancestors marked.
    if (!object_.emplace(path).second) break;
  }
}

bool ViewIndex::SubtreeDirty(std::string_view path) const {
  if (subtree_.empty()) return false;
  std::string prefix;
  prefix.reserve(path.size());
  size_t pos = 0;
  while (pos <= path.size() && !path.empty()) {
    size_t slash = path.find('/', pos);
    size_t end = slash == std::string_view::npos ? path.size() : slash;
    prefix.assign(path.substr(0, end));
    if (subtree_.count(prefix)) return true;
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return subtree_.count(std::string()) != 0;
}

bool ViewIndex::ObjectDirty(std::string_view path) const {
  return !object_.empty() && object_.count(std::string(path)) != 0;
}

ViewIndex::Entry ViewIndex::Lookup(std::string_view dir, std::string_view name) const {
  auto it = listings_.find(std::string(dir));
  if (it == listings_.end()) return Entry::kUnknown;
  return it->second.count(std::string(name)) ? Entry::kSymlink : Entry::kOther;
}

void ViewIndex::SetListing(std::string_view dir, std::vector<std::string> symlinks) {
  if (listings_.size() >= kMaxListings) listings_.clear();
  auto& set = listings_[std::string(dir)];
  set.clear();
  set.insert(std::make_move_iterator(symlinks.begin()), std::make_move_iterator(symlinks.end()));
}

void ViewIndex::AddEntry(std::string_view dir, std::string_view name, bool is_symlink) {
  if (!is_symlink) return;
  auto it = listings_.find(std::string(dir));
  if (it != listings_.end()) it->second.emplace(name);
}

void ViewIndex::Forget(std::string_view path) {
  for (auto it = listings_.begin(); it != listings_.end();) {
    it = fs::PathWithin(it->first, path) ? listings_.erase(it) : std::next(it);
  }
  for (auto it = opaque_.begin(); it != opaque_.end();) {
    it = fs::PathWithin(*it, path) ? opaque_.erase(it) : std::next(it);
  }
  if (!path.empty()) listings_.erase(std::string(ParentOf(path)));
}

}  // namespace sandtrace::cow
