#include "tests/record/record_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "formats/core_enums.h"

namespace sandtrace::rtest {

namespace {

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int RemoveOne(const char* p, const struct stat*, int, FTW*) { return remove(p), 0; }

std::string Hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

TempDir::TempDir(const std::string& base) {
  std::string tmpl = base + "/record-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp under " + base);
  path_ = tmpl;
}

TempDir::~TempDir() { RemoveTree(path_); }

void RemoveTree(const std::string& path) {
  if (!path.empty()) nftw(path.c_str(), RemoveOne, 32, FTW_DEPTH | FTW_PHYS);
}

void WriteFile(const std::string& path, const std::string& contents, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("create " + path + ": " + strerror(errno));
  size_t off = 0;
  while (off < contents.size()) {
    ssize_t n = write(fd, contents.data() + off, contents.size() - off);
    if (n <= 0) {
      close(fd);
      throw std::runtime_error("write " + path);
    }
    off += static_cast<size_t>(n);
  }
  close(fd);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TraceContents ReadTrace(const std::string& path) {
  TraceContents c;
  auto reader = trace::TraceReader::Open(path);
  if (!reader.ok()) {
    c.open_error = reader.error().Message();
    return c;
  }
  trace::Record r;
  for (;;) {
    auto more = (*reader)->Next(r);
    if (!more.ok()) {
      c.read_error = more.error().Message();
      break;
    }
    if (!*more) break;
    c.records.push_back(r);
    if (auto* h = std::get_if<trace::HeaderRecord>(&r)) c.header = *h;
    if (auto* e = std::get_if<trace::EventRecord>(&r)) c.events.push_back(*e);
    if (auto* p = std::get_if<trace::ProcessRecord>(&r)) c.processes.push_back(*p);
    if (auto* w = std::get_if<trace::CowRecord>(&r)) c.cows.push_back(*w);
    if (auto* s = std::get_if<trace::SnapshotChunk>(&r)) {
      c.entries.insert(c.entries.end(), s->entries.begin(), s->entries.end());
      c.blobs.insert(c.blobs.end(), s->blobs.begin(), s->blobs.end());
    }
    if (auto* f = std::get_if<trace::FooterRecord>(&r)) c.footer = *f;
  }
  c.warning = (*reader)->warning();
  c.last_good_seq = (*reader)->last_good_seq();
  return c;
}

int ProcResult::code() const {
  if (timed_out) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

Subprocess::Subprocess(const std::vector<std::string>& argv, const std::string& cwd) {
  int o[2], e[2];
  if (pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0) abort();
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(o[1], 1);
    dup2(e[1], 2);
    execv(args[0], args.data());
    _exit(126);
  }
  setpgid(pid_, pid_);
  close(o[1]);
  close(e[1]);
  out_ = o[0];
  err_ = e[0];
}

Subprocess::~Subprocess() {
  if (!waited_) {
    kill(-pid_, SIGKILL);
    Wait(5);
  }
}

ProcResult Subprocess::Wait(int timeout_s) {
  ProcResult r;
  waited_ = true;
  const double deadline = Now() + timeout_s;
  bool exited = false;
  while (out_ >= 0 || err_ >= 0 || !exited) {
    if (!exited && waitpid(pid_, &r.status, WNOHANG) == pid_) exited = true;
    if (Now() > deadline && !r.timed_out) {
      r.timed_out = true;
      kill(-pid_, SIGKILL);
    }
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    poll(fds, 2, 20);
    for (int i = 0; i < 2; ++i) {
      int& fd = i == 0 ? out_ : err_;
      if (fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fd);
        fd = -1;
      }
    }
    if (r.timed_out && Now() > deadline + 5) break;
  }
  if (!exited) waitpid(pid_, &r.status, 0);
  return r;
}

ProcResult RunProcess(const std::vector<std::string>& argv, int timeout_s, const std::string& cwd) {
  Subprocess p(argv, cwd);
  return p.Wait(timeout_s);
}

std::vector<pid_t> ProcessesWithArg(const std::string& needle) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* de = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(de->d_name, &end, 10);
    if (*end != 0 || pid <= 0) continue;
    std::string cmd = ReadFile("/proc/" + std::string(de->d_name) + "/cmdline");
    if (cmd.find(needle) != std::string::npos) {
      // A zombie still has no cmdline; anything listed is alive.
      out.push_back(static_cast<pid_t>(pid));
    }
  }
  closedir(d);
  return out;
}

// ---- RecordedTracee ------------------------------------------------------------

const trace::TraceeCall* RecordedTracee::Next(trace::TraceeCallKind kind, const std::string& what) {
  if (next_ >= calls_.size()) {
    mismatches_.push_back("extra call " + what);
    return nullptr;
  }
  const trace::TraceeCall& c = calls_[next_];
  if (c.kind != kind) {
    mismatches_.push_back("call " + std::to_string(next_) + ": expected " +
                          std::string(trace::Name(c.kind)) + ", got " + what);
    return nullptr;
  }
  ++next_;
  return &c;
}

Result<size_t> RecordedTracee::ReadMemory(uint64_t addr, std::span<std::byte> out) {
  const auto* c = Next(trace::TraceeCallKind::kReadMemory, "read_memory " + Hex(addr));
  if (c == nullptr) return Err(EIO, "replay mismatch");
  if (c->addr != addr || c->length != out.size()) {
    mismatches_.push_back("read_memory inputs differ at " + Hex(addr));
    return Err(EIO, "replay mismatch");
  }
  if (c->error != 0) return Err(c->error);
  std::memcpy(out.data(), c->bytes.data(), std::min(out.size(), c->bytes.size()));
  return c->bytes.size();
}

Result<std::string> RecordedTracee::ReadString(uint64_t addr, size_t max_len) {
  const auto* c = Next(trace::TraceeCallKind::kReadString, "read_string " + Hex(addr));
  if (c == nullptr) return Err(EIO, "replay mismatch");
  if (c->addr != addr || c->length != max_len) {
    mismatches_.push_back("read_string inputs differ at " + Hex(addr));
    return Err(EIO, "replay mismatch");
  }
  if (c->error != 0) return Err(c->error);
  return c->bytes;
}

Result<std::string> RecordedTracee::ReadProcLink(ProcLink which, int fd) {
  const auto* c = Next(trace::TraceeCallKind::kReadProcLink, "read_proc_link");
  if (c == nullptr) return Err(EIO, "replay mismatch");
  trace::ProcLink want = static_cast<trace::ProcLink>(static_cast<int>(which) + 1);
  if (c->link != want || (which == ProcLink::kFd && c->fd != fd)) {
    mismatches_.push_back("read_proc_link inputs differ");
    return Err(EIO, "replay mismatch");
  }
  if (c->error != 0) return Err(c->error);
  return c->bytes;
}

Result<mode_t> RecordedTracee::ReadUmask() {
  const auto* c = Next(trace::TraceeCallKind::kReadUmask, "read_umask");
  if (c == nullptr) return Err(EIO, "replay mismatch");
  if (c->error != 0) return Err(c->error);
  return static_cast<mode_t>(c->result);
}

bool RecordedTracee::IdValid() {
  const auto* c = Next(trace::TraceeCallKind::kIdValid, "id_valid");
  return c != nullptr && c->result != 0;
}

Result<size_t> RecordedTracee::WriteMemory(uint64_t addr, std::span<const std::byte> data) {
  const auto* c = Next(trace::TraceeCallKind::kWriteMemory, "write_memory " + Hex(addr));
  if (c == nullptr) return Err(EIO, "replay mismatch");
  if (c->addr != addr ||
      c->bytes != std::string(reinterpret_cast<const char*>(data.data()), data.size())) {
    mismatches_.push_back("write_memory payload differs at " + Hex(addr));
    return Err(EIO, "replay mismatch");
  }
  if (c->error != 0) return Err(c->error);
  return static_cast<size_t>(c->result);
}

Result<ProcIds> RecordedTracee::ReadProcIds() {
  const auto* c = Next(trace::TraceeCallKind::kReadProcIds, "read_proc_ids");
  if (c == nullptr) return Err(EIO, "replay mismatch");
  if (c->error != 0) return Err(c->error);
  return ProcIds{c->tgid, c->ppid, c->start_time};
}

Result<int64_t> RecordedTracee::SeekFd(int fd, int64_t offset, int whence) {
  const auto* c = Next(trace::TraceeCallKind::kSeekFd, "seek_fd");
  if (c == nullptr) return Err(EIO, "replay mismatch");
  if (c->fd != fd || c->offset != offset || c->whence != whence) {
    mismatches_.push_back("seek_fd inputs differ");
    return Err(EIO, "replay mismatch");
  }
  if (c->error != 0) return Err(c->error);
  return static_cast<int64_t>(c->result);
}

Result<int> RecordedTracee::InstallFd(int, uint32_t fd_flags, const InjectedFile& what) {
  const auto* c = Next(trace::TraceeCallKind::kInstallFd, "install_fd");
  if (c == nullptr) return Err(EIO, "replay mismatch");
  if (c->file.path != what.path || c->file.fd_flags != fd_flags ||
      static_cast<int>(c->file.root) != static_cast<int>(what.root)) {
    mismatches_.push_back("install_fd of a different file: " + what.path);
    return Err(EIO, "replay mismatch");
  }
  if (c->error != 0) return Err(c->error);
  return c->file.fd;
}

Result<uint64_t> RecordedTracee::ReadStackPointer() {
  const auto* c = Next(trace::TraceeCallKind::kReadStackPointer, "read_stack_pointer");
  if (c == nullptr) return Err(EIO, "replay mismatch");
  if (c->error != 0) return Err(c->error);
  return c->result;
}

Result<std::string> RecordedTracee::ReadFileHead(int, size_t max) {
  const auto* c = Next(trace::TraceeCallKind::kReadFileHead, "read_file_head");
  if (c == nullptr || c->length != max) return Err(EIO, "replay mismatch");
  if (c->error != 0) return Err(c->error);
  return c->bytes;
}

Result<int> RecordedTracee::AddWatch(int fd, const std::string& path, uint32_t mask) {
  const auto* c = Next(trace::TraceeCallKind::kAddWatch, "add_watch");
  if (c == nullptr || c->fd != fd || c->address != path || c->offset != mask) {
    return Err(EIO, "replay mismatch");
  }
  if (c->error != 0) return Err(c->error);
  return static_cast<int>(static_cast<int64_t>(c->result));
}

Result<std::string> RecordedTracee::HostCall(HostOp op, const std::string& path, int64_t arg,
                                             const std::function<Result<std::string>()>&) {
  const auto* c = Next(trace::TraceeCallKind::kHostCall, "host_call");
  if (c == nullptr || c->host_op != ToTrace(op) || c->address != path || c->offset != arg) {
    return Err(EIO, "replay mismatch");
  }
  if (c->error != 0) return Err(c->error);
  return c->bytes;
}

// ---- TeeObserver -------------------------------------------------------------------

// A plain logger of the calls that reach the live Tracee.
class TeeObserver::Logger final : public Tracee {
 public:
  void Reset(Tracee& live) {
    live_ = &live;
    calls.clear();
  }
  Result<size_t> ReadMemory(uint64_t addr, std::span<std::byte> out) override {
    auto r = live_->ReadMemory(addr, out);
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kReadMemory;
    c.addr = addr;
    c.length = out.size();
    if (r.ok()) c.bytes.assign(reinterpret_cast<const char*>(out.data()), *r);
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  Result<std::string> ReadString(uint64_t addr, size_t max_len) override {
    auto r = live_->ReadString(addr, max_len);
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kReadString;
    c.addr = addr;
    c.length = max_len;
    if (r.ok()) c.bytes = *r;
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  Result<std::string> ReadProcLink(ProcLink which, int fd) override {
    auto r = live_->ReadProcLink(which, fd);
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kReadProcLink;
    c.link = static_cast<trace::ProcLink>(static_cast<int>(which) + 1);
    c.fd = which == ProcLink::kFd ? fd : 0;
    if (r.ok()) c.bytes = *r;
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  Result<mode_t> ReadUmask() override {
    auto r = live_->ReadUmask();
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kReadUmask;
    if (r.ok()) c.result = *r;
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  bool IdValid() override {
    bool v = live_->IdValid();
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kIdValid;
    c.result = v;
    calls.push_back(c);
    return v;
  }
  Result<size_t> WriteMemory(uint64_t addr, std::span<const std::byte> data) override {
    auto r = live_->WriteMemory(addr, data);
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kWriteMemory;
    c.addr = addr;
    c.bytes.assign(reinterpret_cast<const char*>(data.data()), data.size());
    if (r.ok()) c.result = *r;
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  Result<ProcIds> ReadProcIds() override {
    auto r = live_->ReadProcIds();
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kReadProcIds;
    if (r.ok()) {
      c.tgid = r->tgid;
      c.ppid = r->ppid;
      c.start_time = r->start_time;
    }
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  Result<int64_t> SeekFd(int fd, int64_t offset, int whence) override {
    auto r = live_->SeekFd(fd, offset, whence);
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kSeekFd;
    c.fd = fd;
    c.offset = offset;
    c.whence = whence;
    if (r.ok()) c.result = static_cast<uint64_t>(*r);
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  Result<int> InstallFd(int srcfd, uint32_t fd_flags, const InjectedFile& what) override {
    auto r = live_->InstallFd(srcfd, fd_flags, what);
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kInstallFd;
    c.file.root = static_cast<trace::FileRoot>(static_cast<int>(what.root));
    c.file.path = what.path;
    c.file.open_flags = what.open_flags;
    c.file.fd_flags = fd_flags;
    c.file.fd = r.ok() ? *r : -1;
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  Result<uint64_t> ReadStackPointer() override {
    auto r = live_->ReadStackPointer();
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kReadStackPointer;
    if (r.ok()) c.result = *r;
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  Result<std::string> ReadFileHead(int fd, size_t max) override {
    auto r = live_->ReadFileHead(fd, max);
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kReadFileHead;
    c.length = max;
    if (r.ok()) c.bytes = *r;
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  Result<int> AddWatch(int fd, const std::string& path, uint32_t mask) override {
    auto r = live_->AddWatch(fd, path, mask);
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kAddWatch;
    c.fd = fd;
    c.address = path;
    c.offset = mask;
    if (r.ok()) c.result = static_cast<uint64_t>(static_cast<int64_t>(*r));
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  Result<std::string> HostCall(HostOp op, const std::string& path, int64_t arg,
                               const std::function<Result<std::string>()>& perform) override {
    auto r = live_->HostCall(op, path, arg, perform);
    trace::TraceeCall c;
    c.kind = trace::TraceeCallKind::kHostCall;
    c.host_op = ToTrace(op);
    c.address = path;
    c.offset = arg;
    if (r.ok()) c.bytes = *r;
    c.error = r.code();
    calls.push_back(c);
    return r;
  }
  std::vector<trace::TraceeCall> calls;

 private:
  Tracee* live_ = nullptr;
};

TeeObserver::TeeObserver(SupervisorObserver& inner)
    : inner_(inner), logger_(std::make_unique<Logger>()) {}
TeeObserver::~TeeObserver() = default;

Tracee& TeeObserver::WrapTracee(const Notification& n, Tracee& live) {
  logger_->Reset(live);
  return inner_.WrapTracee(n, *logger_);
}

void TeeObserver::OnNotification(const Notification& n, const DispatchResult& result,
                                 const Response& response, const NotificationTimes& times) {
  LiveEvent e;
  e.n = n;
  e.kind = result.decision.kind;
  e.value = result.decision.value;
  e.error = result.decision.error;
  e.file = result.decision.file;
  e.response = response;
  e.calls = std::move(logger_->calls);
  events.push_back(std::move(e));
  inner_.OnNotification(n, result, response, times);
}

void TeeObserver::OnProcessEvent(const ProcessEvent& event) {
  processes.push_back(event);
  inner_.OnProcessEvent(event);
}

}  // namespace sandtrace::rtest
