#include "tests/cow/cow_test_util.h"

#include <dirent.h>

#include <functional>

namespace sandtrace::cow::testing {

namespace {

char TypeChar(mode_t m) {
  if (S_ISREG(m)) return 'f';
  if (S_ISDIR(m)) return 'd';
  if (S_ISLNK(m)) return 'l';
  if (S_ISFIFO(m)) return 'p';
  if (S_ISSOCK(m)) return 's';
  return '?';
}

}  // namespace

Tree SnapshotReal(const std::string& root, bool with_mode) {
  Tree t;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    std::string dir = rel.empty() ? root : root + "/" + rel;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    for (const auto& n : names) {
      std::string r = rel.empty() ? n : rel + "/" + n;
      std::string full = root + "/" + r;
      struct stat st {};
      if (::lstat(full.c_str(), &st) != 0) continue;
      Node node;
      node.type = TypeChar(st.st_mode);
      node.mode = with_mode ? (st.st_mode & 07777) : 0;
      if (S_ISREG(st.st_mode)) node.content = ReadFile(full);
      if (S_ISLNK(st.st_mode)) {
        char buf[4096];
        ssize_t k = ::readlink(full.c_str(), buf, sizeof(buf));
        node.content.assign(buf, k > 0 ? static_cast<size_t>(k) : 0);
        node.mode = 0;
      }
      t[r] = node;
      if (S_ISDIR(st.st_mode)) walk(r);
    }
  };
  walk("");
  return t;
}

Tree SnapshotView(Overlay& ov, bool with_mode) {
  Tree t;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    auto entries = ov.ListDir(Base::Root(), rel.empty() ? "." : rel);
    if (!entries) return;
    for (const auto& e : *entries) {
      if (e.name == "." || e.name == "..") continue;
      std::string r = rel.empty() ? e.name : rel + "/" + e.name;
      auto st = ov.Stat(Base::Root(), r, false);
      if (!st) {
        t[r] = Node{'!', 0, st.error().Message()};
        continue;
      }
      Node node;
      node.type = TypeChar(st->st_mode);
      node.mode = with_mode ? (st->st_mode & 07777) : 0;
      if (S_ISREG(st->st_mode)) {
        auto f = ov.Open(Base::Root(), r, O_RDONLY, 0);
        node.content = f ? ReadFd(f->fd.get()) : "<open failed>";
      }
      if (S_ISLNK(st->st_mode)) {
        node.content = ov.Readlink(Base::Root(), r).value_or("<readlink failed>");
        node.mode = 0;
      }
      t[r] = node;
      if (S_ISDIR(st->st_mode)) walk(r);
    }
  };
  walk("");
  return t;
}

std::string DescribeDiff(const Tree& want, const Tree& got) {
  std::string out;
  auto show = [](const Node& n) {
    std::string c = n.content.size() > 40 ? n.content.substr(0, 40) + "..." : n.content;
    char mode[16];
    snprintf(mode, sizeof(mode), "%o", n.mode);
    return std::string(1, n.type) + " " + mode + " '" + c + "'";
  };
  for (const auto& [p, n] : want) {
    auto it = got.find(p);
    if (it == got.end()) {
      out += "  missing " + p + " (" + show(n) + ")\n";
    } else if (!(it->second == n)) {
      out += "  differs " + p + ": want " + show(n) + ", got " + show(it->second) + "\n";
    }
  }
  for (const auto& [p, n] : got) {
    if (!want.count(p)) out += "  extra " + p + " (" + show(n) + ")\n";
  }
  return out;
}

}  // namespace sandtrace::cow::testing
