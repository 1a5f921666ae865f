#include "tracer/waiting_opens.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "tracer/base/errors.h"
#include "tracer/core/kernel_abi.h"
#include "tracer/unotify.h"

namespace sandtrace {

struct WaitingOpens::Waiter {
  uint64_t id = 0;
  pid_t tid = 0;
  UniqueFd path_fd;
  int open_flags = 0;
  uint32_t fd_flags = 0;
  std::atomic<bool> answered{false};  // whoever sets it first answers
  std::atomic<bool> stop{false};      // the thread is to end without answering
  std::atomic<bool> done{false};
  std::thread thread;
};

namespace {

void Nothing(int) {}

std::once_flag handler_once;

void InstallWakeHandler() {
  std::call_once(handler_once, [] {
    struct sigaction sa {};
    sa.sa_handler = Nothing;  // no SA_RESTART: a blocked open returns EINTR
    sigemptyset(&sa.sa_mask);
    sigaction(WaitingOpens::WakeSignal(), &sa, nullptr);
  });
}

// A hexadecimal signal set of /proc/<tid>/status ("SigPnd:\t0000000000000100").
bool Field(const char* status, const char* name, uint64_t* out, int base = 16) {
  const char* p = std::strstr(status, name);
  if (p == nullptr) return false;
  p += std::strlen(name);
  while (*p == ' ' || *p == '\t') ++p;
  char* end = nullptr;
  *out = std::strtoull(p, &end, base);
  return end != p;
}

}  // namespace

int WaitingOpens::WakeSignal() { return SIGRTMAX - 3; }

bool SignalWouldInterrupt(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(tid));
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  char buf[4096];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return false;
  buf[n] = '\0';
  uint64_t threads = 0, own = 0, shared = 0, blocked = 0, ignored = 0, caught = 0;
  if (!Field(buf, "Threads:", &threads, 10) || !Field(buf, "SigPnd:", &own) ||
      !Field(buf, "ShdPnd:", &shared) || !Field(buf, "SigBlk:", &blocked) ||
      !Field(buf, "SigIgn:", &ignored) || !Field(buf, "SigCgt:", &caught)) {
    return false;
  }
  // A signal for the whole process goes to one of its threads that does not
  // block it: to this one only for sure if it is the only thread.
  uint64_t pending = own | (threads == 1 ? shared : 0);
  pending &= ~blocked;
  auto bit = [](int sig) { return uint64_t{1} << (sig - 1); };
  const uint64_t stops = bit(SIGSTOP) | ((bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU)) & ~ignored);
  return (pending & (caught | stops)) != 0;
}

WaitingOpens::WaitingOpens(Listener& listener) : listener_(listener) {}

WaitingOpens::~WaitingOpens() { CancelAll(); }

void WaitingOpens::Wait(Listener& listener, Waiter& w) {
  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, WakeSignal());
  pthread_sigmask(SIG_UNBLOCK, &wake, nullptr);
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", w.path_fd.get());
  UniqueFd file;
  int error = 0;
  while (!w.stop.load()) {
    file.reset(::open(path, w.open_flags));
    if (file.valid()) break;
    if (errno != EINTR) {
      error = errno;
      break;
    }
  }
  // No interruption from here: ADDFD with SEND marks the notification
  // answered, then waits (interruptibly) for the child to take the file; a
  // signal then withdraws the file but not the answer, and the child's open
  // would return 0.
  pthread_sigmask(SIG_BLOCK, &wake, nullptr);
  if (!w.stop.load() && !w.answered.exchange(true)) {
    if (file.valid()) {
      auto fd = listener.AddFdAndSend(w.id, file.get(), w.fd_flags);
      // ENOENT: the child is gone; anything else (EMFILE...) is its answer.
      if (!fd.ok() && fd.code() != ENOENT) (void)listener.SendErrno(w.id, fd.code());
    } else {
      (void)listener.SendErrno(w.id, error);
    }
  }
  w.done.store(true);
}

Status WaitingOpens::Start(uint64_t id, pid_t tid, UniqueFd path_fd, int open_flags,
                           uint32_t fd_flags) {
  InstallWakeHandler();
  auto w = std::make_unique<Waiter>();
  w->id = id;
  w->tid = tid;
  w->path_fd = std::move(path_fd);
  w->open_flags = open_flags;
  w->fd_flags = fd_flags;
  Listener& listener = listener_;
  Waiter& ref = *w;
  try {
    w->thread = std::thread([&listener, &ref] { Wait(listener, ref); });
  } catch (const std::system_error& e) {
    return Err(e.code().value() != 0 ? e.code().value() : EAGAIN,
               std::string("starting a thread to wait for a FIFO: ") + e.what());
  }
  waiters_.push_back(std::move(w));
  ++started_;
  return OkStatus();
}

void WaitingOpens::Sweep() {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    Waiter& w = **it;
    if (w.done.load()) {
      w.thread.join();
      it = waiters_.erase(it);
      continue;
    }
    // Once the thread answers, the notification is no longer "valid" (it
    // is answered) and the thread is the one to finish it.
    if (!w.stop.load() && !w.answered.load()) {
      if (!listener_.IdValid(w.id)) {
        w.stop.store(true);  // the child died: nobody to answer
      } else if (SignalWouldInterrupt(w.tid) && !w.answered.exchange(true)) {
        // Restarts after an SA_RESTART handler or none (a stop), else EINTR.
        (void)listener_.SendErrno(w.id, static_cast<int>(kabi::kErestartSys));
        ++interrupted_;
        w.stop.store(true);
      }
    }
    // Again at every sweep until it ends: a signal sent just before the
    // thread entered open() is lost.
    if (w.stop.load()) pthread_kill(w.thread.native_handle(), WakeSignal());
    ++it;
  }
}

void WaitingOpens::CancelAll() {
  for (auto& w : waiters_) w->stop.store(true);
  while (!waiters_.empty()) {
    Sweep();
    if (!waiters_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace sandtrace
