#include "tracer/core/seed_handlers.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/random.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tracer/base/errors.h"

namespace sandtrace {

namespace {

uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct SeedState {
  uint64_t seed;
  SeedStream getrandom;
  uint64_t opens = 0;
};

// Removes "." components and duplicate slashes; keeps "..", which only a
// real resolution could interpret.
std::string Lexical(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string_view comp(path.data() + i, j - i);
    if (!comp.empty() && comp != ".") {
      out += '/';
      out += comp;
    }
    i = j + 1;
  }
  return out.empty() ? "/" : out;
}

std::optional<Decision> OnGetrandom(SeedState& st, const Notification& n, Tracee& tracee) {
  const uint64_t buf = n.args[0];
  const size_t count = n.args[1];
  const auto flags = static_cast<unsigned>(n.args[2]);
  constexpr unsigned kKnown = GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE;
  if ((flags & ~kKnown) != 0 ||
      (flags & (GRND_RANDOM | GRND_INSECURE)) == (GRND_RANDOM | GRND_INSECURE)) {
    return Decision::Errno(EINVAL);
  }
  if (count == 0) return Decision::Return(0);
  std::vector<std::byte> bytes(std::min(count, kMaxGetrandomBytes));
  st.getrandom.Fill(bytes);
  auto written = tracee.WriteMemory(buf, bytes);
  if (!written.ok()) return Decision::Errno(written.code() == ESRCH ? ESRCH : EFAULT);
  if (*written == 0) return Decision::Errno(EFAULT);
  return Decision::Return(static_cast<int64_t>(*written));
}

std::optional<Decision> OnOpen(SeedState& st, const Notification& n, Tracee& tracee) {
  const SyscallDef* def = NativeSyscalls().FindByNr(n.nr);
  if (def == nullptr) return std::nullopt;
  int path_arg = -1, dirfd_arg = -1;
  for (int i = 0; i < def->nargs(); ++i) {
    if (def->args[i] == ArgRole::kPath) path_arg = i;
    if (def->args[i] == ArgRole::kDirFd) dirfd_arg = i;
  }
  if (path_arg < 0) return std::nullopt;
  uint64_t flags = 0;
  if (def->name == "openat2") {
    open_how how{};
    if (n.args[3] < sizeof(how.flags)) return std::nullopt;  // the kernel will say EINVAL
    auto st_read =
        ReadExactChecked(tracee, n.args[2], std::as_writable_bytes(std::span(&how.flags, 1)));
    if (!st_read.ok()) return std::nullopt;
    flags = how.flags;
  } else {
    flags = n.args[path_arg + 1];
  }
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_PATH | O_DIRECTORY | O_CREAT)) != 0) {
    return std::nullopt;
  }
  auto path = ReadPathChecked(tracee, n.args[path_arg]);
  if (!path.ok() || path->empty()) return std::nullopt;
  std::string full = *path;
  if (full[0] != '/') {
    int dirfd = dirfd_arg >= 0 ? static_cast<int>(n.args[dirfd_arg]) : AT_FDCWD;
    auto base = dirfd == AT_FDCWD ? tracee.ReadProcLink(ProcLink::kCwd, 0)
                                  : tracee.ReadProcLink(ProcLink::kFd, dirfd);
    if (!base.ok() || base->empty() || (*base)[0] != '/') return std::nullopt;
    full = *base + "/" + full;
  }
  full = Lexical(full);
  if (full != "/dev/urandom" && full != "/dev/random") return std::nullopt;

  UniqueFd memfd(memfd_create("sandtrace-random", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd.valid()) return Decision::Errno(errno == EMFILE ? EMFILE : ENOMEM);
  std::vector<std::byte> bytes(kRandomFileBytes);
  SeedStream(st.seed, ++st.opens).Fill(bytes);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w =
        pwrite(memfd.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (w <= 0) return Decision::Errno(ENOMEM);
    done += static_cast<size_t>(w);
  }
  // Sealed so the shared contents cannot change under other readers.
  fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  InjectedFile file;
  file.root = FileRoot::kOutside;
  file.path = "memfd:sandtrace-random/" + std::to_string(st.opens);
  file.open_flags = O_RDWR;
  file.fd_flags = (flags & O_CLOEXEC) ? O_CLOEXEC : 0;
  return Decision::Inject(std::move(memfd), std::move(file));
}

}  // namespace

SeedStream::SeedStream(uint64_t seed, uint64_t stream)
    : state_(Mix(seed ^ 0x5eed5eed5eed5eedULL) ^ Mix(stream + 0x9e3779b97f4a7c15ULL)) {}

void SeedStream::Fill(std::span<std::byte> out) {
  for (std::byte& b : out) {
    if (buffered_bytes_ == 0) {
      state_ += 0x9e3779b97f4a7c15ULL;
      buffered_ = Mix(state_);
      buffered_bytes_ = 8;
    }
    b = static_cast<std::byte>(buffered_ & 0xff);
    buffered_ >>= 8;
    --buffered_bytes_;
  }
}

Status AddSeedHandlers(HandlerRegistry& registry, uint64_t seed, bool files) {
  auto state = std::make_shared<SeedState>(SeedState{seed, SeedStream(seed, 0)});
  Status s = registry.AddByName(
      kSeedSetName, {"getrandom"},
      [state](const Notification& n, Tracee& t) { return OnGetrandom(*state, n, t); });
  if (!s.ok() || !files) return s;
  // aarch64 has no open(2): only the names the registry's table knows.
  std::vector<std::string_view> opens;
  for (std::string_view name : {"open", "openat", "openat2"}) {
    if (registry.table().FindByName(name) != nullptr) opens.push_back(name);
  }
  return registry.AddByName(
      kSeedSetName, opens,
      [state](const Notification& n, Tracee& t) { return OnOpen(*state, n, t); });
}

}  // namespace sandtrace
