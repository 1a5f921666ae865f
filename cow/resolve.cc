// Path resolution through the merged view (see the design note in overlay.h).
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>

#include "cow/fs_util.h"
#include "cow/overlay_impl.h"

namespace sandtrace::cow {

namespace {

constexpr int kMaxSymlinks = 40;  // the kernel's MAXSYMLINKS
constexpr size_t kNameMax = 255;

bool IsPrefix(const std::vector<std::string>& prefix, const std::vector<std::string>& of) {
  return prefix.size() <= of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

std::string JoinAbs(const std::vector<std::string>& comps) {
  std::string out;
  for (const auto& c : comps) out += "/" + c;
  return out.empty() ? "/" : out;
}

}  // namespace

DirNode Overlay::Impl::RootNode() const {
  DirNode root;
  // The roots' own O_PATH fds, borrowed: every walk starts here, and a dup
  // and close of each would cost more than the lookups of a short path.
  root.upper = DirFd::Borrow(upper_fd_);
  root.lower = DirFd::Borrow(lower_fd_);
  root.kernel_path = true;
  return root;
}

const DirNode* Overlay::Impl::CachedDir(const std::string& path) const {
  auto it = dir_cache_.find(path);
  return it == dir_cache_.end() ? nullptr : &it->second;
}

void Overlay::Impl::CacheDir(const DirNode& node) const {
  if (node.path.empty()) return;
  if (dir_cache_.size() >= kDirCacheSize) dir_cache_.clear();
  dir_cache_.insert_or_assign(node.path, node);
}

Result<Found> Overlay::Impl::Lookup(const DirNode& dir, const std::string& name) const {
  Found f;
  if (dir.upper) {
    auto st = fs::StatAt(dir.upper.get(), name);
    if (st) {
      f.st = *st;
      f.type = FileTypeFromMode(st->st_mode);
      f.layer = Layer::kUpper;
      f.layer_path = fs::Join(dir.path, name);
      ApplyVirtualOwner(Layer::kUpper, f.st);
      return f;
    }
    if (st.code() != ENOENT) return st.error();
    auto meta = dirs_.find(dir.path);
    if (meta != dirs_.end() && meta->second.whiteouts.count(name)) {
      f.hidden = true;
      return f;
    }
  }
  if (dir.lower) {
    auto st = fs::StatAt(dir.lower.get(), name);
    if (st) {
      f.st = *st;
      f.type = FileTypeFromMode(st->st_mode);
      f.layer = Layer::kLower;
      f.layer_path = fs::Join(dir.lower_path, name);
      NotifyLowerAccess(f.layer_path, LowerAccess::kLookup);
      return f;
    }
    if (st.code() != ENOENT) return st.error();
  }
  return f;
}

bool Overlay::Impl::HasLowerEntry(const DirNode& dir, const std::string& name) const {
  if (!dir.lower) return false;
  struct stat st {};
  if (::fstatat(dir.lower.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  NotifyLowerAccess(fs::Join(dir.lower_path, name), LowerAccess::kLookup);
  return true;
}

Result<DirNode> Overlay::Impl::Descend(const DirNode& parent, const std::string& name,
                                       const Found& found) const {
  DirNode c;
  c.path = fs::Join(parent.path, name);
  if (found.layer == Layer::kUpper) {
    auto fd = fs::OpenAt(parent.upper.get(), name, O_PATH | O_DIRECTORY);
    if (!fd) return Err(fd.code() == ELOOP ? ENOTDIR : fd.code(), "descend " + c.path);
    c.upper = std::move(*fd);
    auto meta = dirs_.find(c.path);
    if (meta == dirs_.end()) throw Fatal("cow: upper directory without a record: " + c.path);
    if (meta->second.origin) {
      auto low = fs::OpenDirIn(lower_fd_.get(), *meta->second.origin);
      if (low) {
        c.lower = std::move(*low);
        c.lower_path = *meta->second.origin;
      } else if (low.code() != ENOENT && low.code() != ENOTDIR) {
        return low.error();
      }
    }
  } else {
    auto fd = fs::OpenAt(parent.lower.get(), name, O_PATH | O_DIRECTORY);
    if (!fd) return Err(fd.code() == ELOOP ? ENOTDIR : fd.code(), "descend " + c.path);
    c.lower = std::move(*fd);
    c.lower_path = found.layer_path;
  }
  c.kernel_path = parent.kernel_path && c.lower.valid() && c.lower_path == c.path;
  return c;
}

Result<Found> Overlay::Impl::FoundOfNode(const DirNode& node) const {
  Found f;
  const DirFd& fd = node.upper ? node.upper : node.lower;
  auto st = fs::StatFd(fd.get());
  if (!st) return st.error();
  f.st = *st;
  f.type = FileType::kDirectory;
  f.layer = node.upper ? Layer::kUpper : Layer::kLower;
  f.layer_path = node.upper ? node.path : node.lower_path;
  ApplyVirtualOwner(f.layer, f.st);
  return f;
}

Result<Walk> Overlay::Impl::DoWalk(const Base& base, std::string_view path, const ResolveOptions& o,
                                   bool create_last) const {
  if (path.empty()) return Err(ENOENT, "empty path");
  if (path.size() >= PATH_MAX) return Err(ENAMETOOLONG, "path");
  Walk w;
  const bool must_dir = path.back() == '/' && !create_last;
  w.res.trailing_slash = path.back() == '/';

  // Components still to process, last one first (so pop_back takes the next).
  std::vector<std::string> todo;
  auto push_front = [&todo](std::string_view p) {
    auto comps = fs::SplitComponents(p);
    for (auto it = comps.rbegin(); it != comps.rend(); ++it) todo.push_back(*it);
  };
  push_front(path);

  bool outside = false;
  bool out_known = true;
  std::vector<std::string> out_comps;
  std::vector<DirNode>& stack = w.stack;
  bool eq = true;  // the kernel, on the same components, is at the same place
  size_t base_depth = 0;
  int symlinks = 0;

  // Positions the walk at the base directory (a view directory, or outside).
  auto go_base = [&]() -> Status {
    stack.clear();
    outside = false;
    if (base.outside) {
      outside = true;
      out_comps = fs::SplitComponents(base.outside_path);
      out_known = IsPrefix(out_comps, lower_comps_) || IsPrefix(out_comps, upper_comps_);
      eq = true;
      return OkStatus();
    }
    stack.push_back(RootNode());
    for (const auto& comp : fs::SplitComponents(base.view)) {
      if (const DirNode* hit = CachedDir(fs::Join(stack.back().path, comp))) {
        stack.push_back(*hit);
        continue;
      }
      auto f = Lookup(stack.back(), comp);
      if (!f) return f.error();
      if (f->type != FileType::kDirectory) {
        return Err(f->type == FileType::kNone ? ENOENT : ENOTDIR, "base " + base.view);
      }
      auto next = Descend(stack.back(), comp, *f);
      if (!next) return next.error();
      CacheDir(*next);
      stack.push_back(std::move(*next));
    }
    base_depth = stack.size() - 1;
    eq = stack.back().kernel_path && !base.real_is_upper;
    return OkStatus();
  };
  auto go_view_root = [&](bool equivalent) -> Status {
    stack.clear();
    outside = false;
    stack.push_back(RootNode());
    eq = eq && equivalent;
    return OkStatus();
  };
  // After a push while outside: have we come back into the workdir?
  auto check_reenter = [&]() -> Status {
    if (out_comps == lower_comps_) return go_view_root(true);
    if (out_comps == upper_comps_) return go_view_root(false);
    if (!IsPrefix(out_comps, lower_comps_) && !IsPrefix(out_comps, upper_comps_)) {
      out_known = false;
    }
    return OkStatus();
  };
  auto go_absolute = [&]() -> Status {
    if (o.beneath) return Err(EXDEV, "absolute path with beneath");
    if (o.in_root) return go_base();
    outside = true;
    out_known = true;
    out_comps.clear();
    return check_reenter();
  };

  if (path.front() == '/') {
    if (auto s = go_absolute(); !s) return s.error();
  } else {
    if (auto s = go_base(); !s) return s.error();
  }

  Last last = Last::kRoot;
  while (!todo.empty()) {
    if (outside && !out_known) break;
    std::string comp = std::move(todo.back());
    todo.pop_back();
    const bool final = todo.empty();
    if (comp == ".") {
      last = Last::kDot;
      continue;
    }
    if (comp == "..") {
      last = Last::kDotDot;
      if (outside) {
        if (!out_comps.empty()) out_comps.pop_back();
        if (auto s = check_reenter(); !s) return s.error();
        continue;
      }
      if (stack.size() - 1 == base_depth && (o.in_root || o.beneath)) {
        if (o.beneath) return Err(EXDEV, "\"..\" leaves the base");
        continue;  // in_root: ".." of the root is the root
      }
      if (stack.size() == 1) {
        outside = true;
        out_known = true;
        out_comps.assign(lower_comps_.begin(), lower_comps_.end());
        if (!out_comps.empty()) out_comps.pop_back();
        stack.clear();
        if (auto s = check_reenter(); !s) return s.error();
        continue;
      }
      stack.pop_back();
      eq = eq && stack.back().kernel_path;
      continue;
    }
    last = Last::kName;
    if (comp.size() > kNameMax) return Err(ENAMETOOLONG, comp);
    if (outside) {
      out_comps.push_back(comp);
      if (auto s = check_reenter(); !s) return s.error();
      if (!outside && final) last = Last::kRoot;  // ended exactly on the workdir root
      continue;
    }
    DirNode& dir = stack.back();
    // Root may search every directory (CheckPermission): no stat needed.
    if (options_.creds && options_.creds->uid != 0) {
      if (auto s = CheckPermission(DirStat(dir), X_OK); !s) return s.error();
    }
    if (!final) {
      if (const DirNode* hit = CachedDir(fs::Join(dir.path, comp))) {
        eq = eq && hit->kernel_path;
        stack.push_back(*hit);
        continue;
      }
    }
    auto found = Lookup(dir, comp);
    if (!found) return found.error();
    const bool lower_here = dir.kernel_path && found->layer == Layer::kLower &&
                            found->layer_path == fs::Join(dir.path, comp);
    if (found->type == FileType::kNone) {
      if (!final) return Err(ENOENT, fs::Join(dir.path, comp));
      w.name = comp;
      w.found = *found;
      // Lookup consulted the lower unless a whiteout hid the name.
      eq = eq && dir.kernel_path && !(found->hidden && HasLowerEntry(dir, comp));
      break;
    }
    if (found->type == FileType::kSymlink && (!final || o.follow_final || must_dir)) {
      if (o.no_symlinks) return Err(ELOOP, "symlink with no_symlinks");
      if (++symlinks > kMaxSymlinks) return Err(ELOOP, "too many symlinks");
      const DirFd& layer_dir = found->layer == Layer::kUpper ? dir.upper : dir.lower;
      auto target = fs::ReadlinkAt(layer_dir.get(), comp);
      if (!target) return target.error();
      if (target->empty()) return Err(ENOENT, "empty symlink");
      eq = eq && lower_here;
      push_front(*target);
      if (target->front() == '/') {
        if (auto s = go_absolute(); !s) return s.error();
      }
      last = Last::kRoot;  // until a component of the target says otherwise
      continue;
    }
    if (final) {
      w.name = comp;
      w.found = *found;
      eq = eq && lower_here;
      break;
    }
    if (found->type != FileType::kDirectory) return Err(ENOTDIR, fs::Join(dir.path, comp));
    auto next = Descend(dir, comp, *found);
    if (!next) return next.error();
    eq = eq && next->kernel_path;
    CacheDir(*next);
    stack.push_back(std::move(*next));
  }

  if (outside) {
    w.res.outside = true;
    // What is left unresolved goes verbatim to the kernel.
    std::vector<std::string> all = out_comps;
    for (auto it = todo.rbegin(); it != todo.rend(); ++it) all.push_back(*it);
    std::string p = JoinAbs(all);
    if (must_dir && p != "/") p += "/";
    w.res.outside_path = std::move(p);
    w.res.kernel_equivalent = eq;
    return w;
  }

  w.last = last;
  if (last != Last::kName) {
    // The object is the directory on top of the stack.
    auto f = FoundOfNode(stack.back());
    if (!f) return f.error();
    w.found = *f;
    w.name.clear();
    eq = eq && stack.back().kernel_path && !stack.back().upper;
    w.res.path = stack.back().path;
  } else {
    w.res.path = fs::Join(stack.back().path, w.name);
  }
  if (must_dir && w.found.type != FileType::kNone && w.found.type != FileType::kDirectory) {
    return Err(ENOTDIR, w.res.path);
  }
  w.res.exists = w.found.type != FileType::kNone;
  w.res.type = w.found.type;
  w.res.layer = w.found.layer;
  w.res.layer_path = w.found.layer_path;
  if (w.res.exists) {
    const std::string& root = w.found.layer == Layer::kUpper ? upper_abs_ : lower_abs_;
    w.res.real_path = w.found.layer_path.empty() ? root : root + "/" + w.found.layer_path;
  }
  w.res.kernel_equivalent = eq;
  return w;
}

Result<Walk> Overlay::Impl::WalkInside(const Base& base, std::string_view path,
                                       const ResolveOptions& options, bool create_last) const {
  auto w = DoWalk(base, path, options, create_last);
  if (!w) return w;
  if (w->res.outside) return Err(EXDEV, "outside the workdir: " + w->res.outside_path);
  return w;
}

std::optional<std::string> Overlay::Impl::ViewPathOf(std::string_view real) const {
  // The upper first: it is the more specific one if the storage area sits
  // under the workdir's parent chain.
  for (const std::string* root : {&upper_abs_, &lower_abs_}) {
    if (fs::PathWithin(real, *root)) {
      if (real.size() == root->size()) return std::string();
      std::string rest(real.substr(root->size() + (*root == "/" ? 0 : 1)));
      return rest;
    }
  }
  return std::nullopt;
}

}  // namespace sandtrace::cow
