// The change list and the commit plan: a diff of the merged view against
// the lower that only descends where the upper holds something (or where a
// renamed directory brings a lower subtree to a new place).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "cow/fs_util.h"
#include "cow/overlay_impl.h"
#include "cow/plan.h"

namespace sandtrace::cow {

namespace {

bool SameData(int a_dir, const std::string& a_name, int b_dir, const std::string& b_name,
              uint64_t size) {
  auto a = fs::OpenAt(a_dir, a_name, O_RDONLY | O_NONBLOCK);
  auto b = fs::OpenAt(b_dir, b_name, O_RDONLY | O_NONBLOCK);
  if (!a || !b) return false;
  static constexpr size_t kChunk = 1 << 16;
  std::string ba(kChunk, '\0');
  std::string bb(kChunk, '\0');
  uint64_t off = 0;
  while (off < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, size - off));
    ssize_t na = ::pread(a->get(), ba.data(), want, static_cast<off_t>(off));
    ssize_t nb = ::pread(b->get(), bb.data(), want, static_cast<off_t>(off));
    if (na != static_cast<ssize_t>(want) || nb != na) return false;
    if (std::memcmp(ba.data(), bb.data(), want) != 0) return false;
    off += want;
  }
  return true;
}

class Differ {
 public:
  Differ(const Overlay::Impl& im, ChangeList& out, CommitPlan* plan)
      : im_(im), out_(out), plan_(plan) {}

  Status Run() {
    const DirNode root = im_.RootNode();
    auto rf = im_.FoundOfNode(root);
    if (!rf) return rf.error();
    struct stat lst {};
    if (::fstat(root.lower.get(), &lst) != 0) return ErrnoError("stat workdir");
    uint32_t what = MetaDiff(rf->st, lst);
    if (what) {
      Report(ChangeKind::kModified, ".", FileType::kDirectory, FileType::kDirectory, what);
      AddMeta("", rf->st);
    }
    if (auto s = DiffDir(root, root.lower.get(), ""); !s) return s;
    Finish();
    return OkStatus();
  }

 private:
  static uint32_t MetaDiff(const struct stat& v, const struct stat& l) {
    uint32_t what = 0;
    if ((v.st_mode & 07777) != (l.st_mode & 07777)) what |= kChangedMode;
    if (v.st_uid != l.st_uid || v.st_gid != l.st_gid) what |= kChangedOwner;
    return what;
  }

  void Report(ChangeKind kind, const std::string& path, FileType type, FileType old_type,
              uint32_t what) {
    out_.push_back(Change{kind, path, type, old_type, what});
  }

  void AddMeta(const std::string& path, const struct stat& st) {
    if (!plan_) return;
    plan_->metas.push_back(PlanMeta{path, static_cast<mode_t>(st.st_mode & 07777), st.st_uid,
                                    st.st_gid, st.st_atim, st.st_mtim});
  }

  void AddPlace(const std::string& path, const Found& f) {
    if (!plan_) return;
    PlanPlace p;
    p.path = path;
    p.type = f.type;
    p.src_layer = f.layer;
    p.src_path = f.layer_path;
    p.st = f.st;
    plan_->places.push_back(std::move(p));
  }

  Status DiffDir(const DirNode& v, int lfd, const std::string& path) {
    std::set<std::string> names;
    auto listing = im_.ListNode(v);
    if (!listing) return listing.error();
    for (const auto& e : *listing) {
      if (e.name != "." && e.name != "..") names.insert(e.name);
    }
    if (lfd >= 0) {
      auto s = fs::ReadDir(lfd, [&](std::string n, uint8_t, ino_t) { names.insert(std::move(n)); });
      if (!s) return s;
    }
    for (const auto& name : names) {
      const std::string cpath = fs::Join(path, name);
      auto vf = im_.Lookup(v, name);
      if (!vf) return vf.error();
      struct stat lst {};
      const bool in_lower =
          lfd >= 0 && ::fstatat(lfd, name.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0;
      const bool in_view = vf->type != FileType::kNone;
      if (in_view && !in_lower) {
        if (auto s = AddTree(v, name, *vf, cpath); !s) return s;
        continue;
      }
      if (!in_view && in_lower) {
        if (auto s = DelTree(lfd, name, lst, cpath, true); !s) return s;
        continue;
      }
      if (!in_view) continue;
      const FileType lt = FileTypeFromMode(lst.st_mode);
      const bool untouched = vf->layer == Layer::kLower && vf->layer_path == cpath;
      if (vf->type != lt) {
        Report(ChangeKind::kModified, cpath, vf->type, lt, kChangedType);
        if (plan_) plan_->deletes.push_back(cpath);
        if (lt == FileType::kDirectory) {
          if (auto s = DelChildren(lfd, name, cpath); !s) return s;
        }
        if (auto s = PlaceTree(v, name, *vf, cpath, false); !s) return s;
        continue;
      }
      if (untouched) continue;
      if (lt == FileType::kDirectory) {
        uint32_t what = MetaDiff(vf->st, lst);
        if (what) {
          Report(ChangeKind::kModified, cpath, lt, lt, what);
          AddMeta(cpath, vf->st);
        }
        auto node = im_.Descend(v, name, *vf);
        if (!node) return node.error();
        auto sub = fs::OpenAt(lfd, name, O_PATH | O_DIRECTORY);
        if (!sub) return sub.error();
        if (auto s = DiffDir(*node, sub->get(), cpath); !s) return s;
        continue;
      }
      uint32_t what = MetaDiff(vf->st, lst);
      if (vf->st.st_mtim.tv_sec != lst.st_mtim.tv_sec ||
          vf->st.st_mtim.tv_nsec != lst.st_mtim.tv_nsec) {
        what |= kChangedTimes;
      }
      int vdir = vf->layer == Layer::kUpper ? v.upper.get() : v.lower.get();
      if (lt == FileType::kRegular) {
        if (vf->st.st_size != lst.st_size ||
            !SameData(vdir, name, lfd, name, static_cast<uint64_t>(lst.st_size))) {
          what |= kChangedContent;
        }
      } else if (lt == FileType::kSymlink) {
        auto a = fs::ReadlinkAt(vdir, name);
        auto b = fs::ReadlinkAt(lfd, name);
        if (!a || !b || *a != *b) what |= kChangedContent;
      }
      if (what) {
        Report(ChangeKind::kModified, cpath, lt, lt, what);
        AddPlace(cpath, *vf);
      } else if (vf->layer == Layer::kUpper && lt == FileType::kRegular && vf->st.st_nlink > 1) {
        unchanged_links_[vf->st.st_ino].push_back({cpath, *vf});
      }
    }
    return OkStatus();
  }

  // An added object: reported A, placed, and so is everything below it.
  Status AddTree(const DirNode& v, const std::string& name, const Found& f,
                 const std::string& cpath) {
    Report(ChangeKind::kAdded, cpath, f.type, FileType::kNone, 0);
    return PlaceTree(v, name, f, cpath, true);
  }

  // Places `f` (already reported) and adds its children.
  Status PlaceTree(const DirNode& v, const std::string& name, const Found& f,
                   const std::string& cpath, bool /*reported*/) {
    AddPlace(cpath, f);
    if (f.type != FileType::kDirectory) return OkStatus();
    AddMeta(cpath, f.st);
    auto node = im_.Descend(v, name, f);
    if (!node) return node.error();
    auto listing = im_.ListNode(*node);
    if (!listing) return listing.error();
    std::vector<std::string> names;
    for (const auto& e : *listing) {
      if (e.name != "." && e.name != "..") names.push_back(e.name);
    }
    std::sort(names.begin(), names.end());
    for (const auto& child : names) {
      auto cf = im_.Lookup(*node, child);
      if (!cf) return cf.error();
      if (cf->type == FileType::kNone) continue;
      if (auto s = AddTree(*node, child, *cf, fs::Join(cpath, child)); !s) return s;
    }
    return OkStatus();
  }

  Status DelTree(int lfd, const std::string& name, const struct stat& lst, const std::string& cpath,
                 bool top) {
    Report(ChangeKind::kDeleted, cpath, FileType::kNone, FileTypeFromMode(lst.st_mode), 0);
    if (top && plan_) plan_->deletes.push_back(cpath);
    if (!S_ISDIR(lst.st_mode)) return OkStatus();
    return DelChildren(lfd, name, cpath);
  }

  Status DelChildren(int lfd, const std::string& name, const std::string& cpath) {
    auto sub = fs::OpenAt(lfd, name, O_PATH | O_DIRECTORY);
    if (!sub) return sub.error();
    std::vector<std::string> names;
    auto s = fs::ReadDir(sub->get(),
                         [&](std::string n, uint8_t, ino_t) { names.push_back(std::move(n)); });
    if (!s) return s;
    std::sort(names.begin(), names.end());
    for (const auto& child : names) {
      struct stat cst {};
      if (::fstatat(sub->get(), child.c_str(), &cst, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (auto r = DelTree(sub->get(), child, cst, fs::Join(cpath, child), false); !r) return r;
    }
    return OkStatus();
  }

  void Finish() {
    std::sort(out_.begin(), out_.end(),
              [](const Change& a, const Change& b) { return a.path < b.path; });
    if (!plan_) return;
    // Hard links: once one name of an upper file is placed, every name of it
    // in the view is placed too, as links of one staged file.
    std::set<ino_t> placed;
    for (const auto& p : plan_->places) {
      if (p.src_layer == Layer::kUpper && p.type == FileType::kRegular) placed.insert(p.st.st_ino);
    }
    for (const auto& [ino, members] : unchanged_links_) {
      if (!placed.count(ino)) continue;
      for (const auto& [path, f] : members) AddPlace(path, f);
    }
    std::sort(plan_->places.begin(), plan_->places.end(),
              [](const PlanPlace& a, const PlanPlace& b) { return a.path < b.path; });
    std::map<ino_t, int> first;
    for (size_t i = 0; i < plan_->places.size(); ++i) {
      PlanPlace& p = plan_->places[i];
      if (p.src_layer != Layer::kUpper || p.type != FileType::kRegular || p.st.st_nlink < 2) {
        continue;
      }
      auto [it, fresh] = first.emplace(p.st.st_ino, static_cast<int>(i));
      if (!fresh) p.link_to = it->second;
    }
    std::sort(plan_->deletes.begin(), plan_->deletes.end());
    std::sort(plan_->metas.begin(), plan_->metas.end(),
              [](const PlanMeta& a, const PlanMeta& b) { return a.path > b.path; });
  }

  const Overlay::Impl& im_;
  ChangeList& out_;
  CommitPlan* plan_;
  std::map<ino_t, std::vector<std::pair<std::string, Found>>> unchanged_links_;
};

}  // namespace

Status Overlay::Impl::Diff(ChangeList& changes, CommitPlan* plan) const {
  return Differ(*this, changes, plan).Run();
}

Result<ChangeList> Overlay::Changes() {
  impl_->CheckLive();
  (void)RemeasureAll();
  ChangeList out;
  if (auto s = impl_->Diff(out, nullptr); !s) return s.error();
  return out;
}

}  // namespace sandtrace::cow
