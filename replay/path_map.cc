#include "replay/path_map.h"

#include <algorithm>

#include "cow/fs_util.h"

namespace sandtrace::replay {

bool PathWithin(std::string_view path, std::string_view dir) {
  if (dir.empty()) return false;
  if (dir == "/") return !path.empty() && path[0] == '/';
  if (path.size() < dir.size() || path.compare(0, dir.size(), dir) != 0) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

void PathMap::Add(std::string recorded, std::string replay) {
  while (recorded.size() > 1 && recorded.back() == '/') recorded.pop_back();
  while (replay.size() > 1 && replay.back() == '/') replay.pop_back();
  if (recorded.empty() || recorded[0] != '/' || recorded == "/") return;
  entries_.push_back({std::move(recorded), std::move(replay)});
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.recorded.size() > b.recorded.size();
  });
}

bool PathMap::IsRecorded(std::string_view path) const {
  for (const Entry& e : entries_) {
    if (PathWithin(path, e.recorded)) return true;
  }
  return false;
}

bool PathMap::ToReplay(std::string& path) const {
  for (const Entry& e : entries_) {
    if (PathWithin(path, e.recorded)) {
      path.replace(0, e.recorded.size(), e.replay);
      return true;
    }
  }
  // The kernel reads "//a//b" and "/./a/b" as "/a/b": so does the map, up to
  // the end of the recorded prefix (the rest stays as the child wrote it).
  if (cow::fs::NormalAbsolute(path) == path) return false;
  // The longest leading part of `path`, on a component boundary, that reads
  // as a recorded prefix.
  const Entry* best = nullptr;
  size_t best_end = 0;
  for (size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
    const std::string head = cow::fs::NormalAbsolute(path.substr(0, end));
    for (const Entry& e : entries_) {
      if (head == e.recorded) {
        best = &e;
        best_end = end == std::string::npos ? path.size() : end;
      }
    }
    if (end == std::string::npos) break;
  }
  if (best == nullptr) return false;
  path.replace(0, best_end, best->replay);
  return true;
}

bool PathMap::ToRecorded(std::string& bytes) const {
  bool changed = false;
  // Longest replay prefix first as well, so nested scratch paths map right.
  std::vector<const Entry*> order;
  for (const Entry& e : entries_) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->replay.size() > b->replay.size();
  });
  for (const Entry* e : order) {
    if (e->replay.empty()) continue;
    size_t at = 0;
    while ((at = bytes.find(e->replay, at)) != std::string::npos) {
      // Only whole components: the prefix must end the string or be followed
      // by '/' or a NUL (getcwd writes the terminator).
      size_t end = at + e->replay.size();
      if (end < bytes.size() && bytes[end] != '/' && bytes[end] != '\0') {
        at = end;
        continue;
      }
      bytes.replace(at, e->replay.size(), e->recorded);
      at += e->recorded.size();
      changed = true;
    }
  }
  return changed;
}

bool PathMap::Corresponds(std::string_view recorded, std::string_view replay) const {
  std::string back(replay);
  ToRecorded(back);
  if (back == recorded) return true;
  auto parent = [](std::string_view p) {
    const size_t slash = p.find_last_of('/');
    return slash == 0 || slash == std::string_view::npos ? std::string_view("/")
                                                         : p.substr(0, slash);
  };
  for (const Entry& e : entries_) {
    std::string_view rec_dir = e.recorded, rep_dir = e.replay;
    while (rec_dir != "/" && rep_dir != "/") {
      rec_dir = parent(rec_dir);
      rep_dir = parent(rep_dir);
      if (rec_dir == rep_dir) break;  // the same place from here up
      if (PathWithin(replay, rep_dir) && PathWithin(recorded, rec_dir) &&
          replay.substr(rep_dir.size()) == recorded.substr(rec_dir.size())) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace sandtrace::replay
