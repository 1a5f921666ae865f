#include "tracer/record/process_monitor.h"

#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace sandtrace::record {

namespace {

// The socket buffer: events arrive machine-wide (other users' builds
// included), and the thread may be descheduled for a while on a busy box.
constexpr int kSocketBuffer = 8 << 20;
// How long the reader lets events gather after draining the socket.
constexpr int kCoalesceMs = 2;

std::string ReadSmallFile(const std::string& path, size_t limit) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  UniqueFd owner(fd);
  std::string out;
  char buf[4096];
  while (out.size() < limit) {
    ssize_t n = read(fd, buf, std::min(sizeof buf, limit - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status SendListen(int sock, bool listen) {
  // nlmsghdr, cn_msg, then the u32 operation (cn_msg ends in a flexible
  // array, so the message is laid out by hand).
  constexpr size_t kLen = sizeof(nlmsghdr) + sizeof(cn_msg) + sizeof(uint32_t);
  alignas(nlmsghdr) char buf[kLen] = {};
  auto* nl = reinterpret_cast<nlmsghdr*>(buf);
  nl->nlmsg_len = kLen;
  nl->nlmsg_type = NLMSG_DONE;
  auto* cn = reinterpret_cast<cn_msg*>(buf + sizeof(nlmsghdr));
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = sizeof(uint32_t);
  uint32_t op = listen ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE;
  std::memcpy(buf + sizeof(nlmsghdr) + sizeof(cn_msg), &op, sizeof op);
  if (send(sock, buf, kLen, 0) != static_cast<ssize_t>(kLen)) {
    return ErrnoError("proc connector subscribe");
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<ProcessMonitor>> ProcessMonitor::Start() {
  int s = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (s < 0) return ErrnoError("proc connector socket");
  UniqueFd sock(s);
  int size = kSocketBuffer;
  if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    (void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  addr.nl_pid = 0;  // the kernel picks a unique port id
  if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoError("proc connector bind");
  }
  if (Status st = SendListen(s, true); !st.ok()) return st.error();
  int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ev < 0) return ErrnoError("eventfd");
  auto m = std::unique_ptr<ProcessMonitor>(new ProcessMonitor(std::move(sock), UniqueFd(ev)));
  m->thread_ = std::jthread([p = m.get()](std::stop_token st) { p->Loop(st); });
  return m;
}

ProcessMonitor::ProcessMonitor(UniqueFd sock, UniqueFd stop_event)
    : sock_(std::move(sock)), stop_event_(std::move(stop_event)), self_(getpid()) {
  tracked_.emplace(self_, 0);
}

ProcessMonitor::~ProcessMonitor() { Stop(); }

void ProcessMonitor::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (thread_.joinable()) {
    thread_.request_stop();
    uint64_t one = 1;
    (void)write(stop_event_.get(), &one, sizeof one);
    thread_.join();
  }
  // What the kernel queued before now (every exit already reaped included).
  while (ReadOnce(false)) {
  }
  (void)SendListen(sock_.get(), false);
}

void ProcessMonitor::Loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    pollfd fds[2] = {{sock_.get(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}};
    int r = poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return;
    if (fds[1].revents & POLLIN) return;
    if (!(fds[0].revents & POLLIN)) continue;
    while (ReadOnce(false)) {
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
    // The stream is machine-wide: on a busy machine, waking per event would
    // cost more than the events. Let a few milliseconds' worth gather in
    // the socket buffer (exec details are read that much later).
    pollfd stop_fd = {stop_event_.get(), POLLIN, 0};
    if (poll(&stop_fd, 1, kCoalesceMs) > 0) return;
  }
}

bool ProcessMonitor::ReadOnce(bool blocking) {
  // Up to kBatch datagrams per call (an event is about 100 bytes).
  auto& bufs = recv_buffers_;
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  for (int i = 0; i < kBatch; ++i) {
    iovs[i] = {bufs[i].data(), kSlot};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n = recvmmsg(sock_.get(), msgs, kBatch, blocking ? MSG_WAITFORONE : MSG_DONTWAIT, nullptr);
  if (n < 0) {
    if (errno == ENOBUFS) {
      // Events were lost; keep going with what comes next.
      overruns_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    return false;
  }
  if (n == 0) {
    errno = EAGAIN;
    return false;
  }
  for (int i = 0; i < n; ++i) {
    size_t len = msgs[i].msg_len;
    for (auto* nh = reinterpret_cast<nlmsghdr*>(bufs[i].data()); NLMSG_OK(nh, len);
         nh = NLMSG_NEXT(nh, len)) {
      if (nh->nlmsg_type == NLMSG_NOOP || nh->nlmsg_type == NLMSG_ERROR) continue;
      auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nh));
      if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) continue;
      Handle(cn->data, cn->len);
    }
  }
  return true;
}

void ProcessMonitor::Handle(const void* data, size_t len) {
  if (len < offsetof(proc_event, event_data)) return;
  proc_event ev;
  std::memset(&ev, 0, sizeof ev);
  std::memcpy(&ev, data, std::min(len, sizeof ev));
  Queued q;
  trace::ProcessRecord& r = q.record;
  r.timestamp_ns = ev.timestamp_ns;  // CLOCK_MONOTONIC (ktime_get_ns)
  switch (ev.what) {
    case proc_event::PROC_EVENT_FORK: {
      const auto& f = ev.event_data.fork;
      if (f.child_pid != f.child_tgid) return;  // a new thread, not a process
      if (!tracked_.count(f.parent_tgid)) return;
      tracked_[f.child_tgid] = f.parent_tgid;
      q.self_child = f.parent_tgid == self_;
      r.kind = trace::ProcessEventKind::kFork;
      r.pid = static_cast<uint32_t>(f.child_tgid);
      r.parent_pid = static_cast<uint32_t>(f.parent_tgid);
      break;
    }
    case proc_event::PROC_EVENT_EXEC: {
      const auto& e = ev.event_data.exec;
      auto it = tracked_.find(e.process_tgid);
      if (it == tracked_.end() || e.process_tgid == self_) return;
      q.self_child = it->second == self_;
      r.kind = trace::ProcessEventKind::kExec;
      r.pid = static_cast<uint32_t>(e.process_tgid);
      r.parent_pid = static_cast<uint32_t>(it->second);
      std::string proc = "/proc/" + std::to_string(e.process_tgid);
      char target[PATH_MAX];
      ssize_t k = readlink((proc + "/exe").c_str(), target, sizeof target);
      if (k > 0) r.exec_path.assign(target, static_cast<size_t>(k));
      std::string cmdline = ReadSmallFile(proc + "/cmdline", 1 << 16);
      size_t at = 0;
      while (at < cmdline.size()) {
        size_t nul = cmdline.find('\0', at);
        if (nul == std::string::npos) nul = cmdline.size();
        r.argv.emplace_back(cmdline, at, nul - at);
        at = nul + 1;
      }
      break;
    }
    case proc_event::PROC_EVENT_EXIT: {
      const auto& x = ev.event_data.exit;
      if (x.process_pid != x.process_tgid) return;  // a thread
      auto it = tracked_.find(x.process_tgid);
      if (it == tracked_.end() || x.process_tgid == self_) return;
      q.self_child = it->second == self_;
      r.kind = trace::ProcessEventKind::kExit;
      r.pid = static_cast<uint32_t>(x.process_tgid);
      r.parent_pid = static_cast<uint32_t>(it->second);
      // exit_code is a wait status.
      int status = static_cast<int>(x.exit_code);
      if ((status & 0x7f) == 0) {
        r.exit_status = (status >> 8) & 0xff;
      } else {
        r.signal = status & 0x7f;
      }
      tracked_.erase(it);
      break;
    }
    default:
      return;
  }
  Push(std::move(q));
}

void ProcessMonitor::Push(Queued q) {
  std::lock_guard lock(mu_);
  if (queue_.size() >= kMaxQueued) {
    queue_.pop_front();
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  queue_.push_back(std::move(q));
}

void ProcessMonitor::Drain(std::vector<trace::ProcessRecord>& out) {
  std::deque<Queued> got;
  {
    std::lock_guard lock(mu_);
    got.swap(queue_);
  }
  const pid_t root = root_.load();
  for (auto& q : got) {
    // This process's own helpers (watchdog, probes) are not the command.
    if (q.self_child && static_cast<pid_t>(q.record.pid) != root) continue;
    // The command's own fork is the supervisor's spawn event.
    if (q.self_child && q.record.kind == trace::ProcessEventKind::kFork) continue;
    out.push_back(std::move(q.record));
  }
}

}  // namespace sandtrace::record
