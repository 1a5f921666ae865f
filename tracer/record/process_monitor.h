// ProcessMonitor: fork, exec and exit of the traced command's processes,
// from the kernel's process-events connector (netlink NETLINK_CONNECTOR,
// CN_IDX_PROC).
//
// Why not from the supervisor: the supervisor only sees the processes it
// reaps (the command and orphans) and the syscalls in the notify set; the
// connector reports every fork (with its parent), exec and exit without
// adding a syscall to the notify set, so `trace record` keeps exactly the
// decisions of `trace run`. It needs CAP_NET_ADMIN; without it Start()
// fails and the recorder falls back to the supervisor's process events.
//
// How: a reader thread (a std::jthread member) receives the machine-wide
// event stream and keeps the processes descended from this process. On an
// exec it reads /proc/<pid>/exe and /proc/<pid>/cmdline at once (a process
// that has already exited or exec'd again is reported with what could be
// read, possibly nothing: "where known"). The stream is machine-wide, so
// the thread drains it in batches (recvmmsg) and then lets a couple of
// milliseconds' worth gather before it wakes again. Events go into a bounded queue
// that the loop thread drains with Drain(); beyond kMaxQueued the oldest
// are dropped and counted. Forks, execs and exits of this process's own
// direct children other than the command (the watchdog, feature probes)
// are filtered out at Drain(), once the command's pid is known.
//
// Ordering: the kernel emits a process's exit event before its parent can
// reap it, so after Stop() (which processes whatever the socket still
// holds) every exit the supervisor has reaped has been seen.
//
// Ownership: owns the socket and the thread. Thread-safety: SetRoot, Drain
// and Stop are called from one thread (the supervisor loop's).
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "formats/records.h"
#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace::record {

class ProcessMonitor {
 public:
  static constexpr size_t kMaxQueued = 1 << 16;

  // Subscribes to process events and starts the reader thread. EPERM
  // without CAP_NET_ADMIN; other errors if the kernel lacks the connector.
  static Result<std::unique_ptr<ProcessMonitor>> Start();
  ~ProcessMonitor();
  ProcessMonitor(const ProcessMonitor&) = delete;
  ProcessMonitor& operator=(const ProcessMonitor&) = delete;

  // The command's pid (a direct child of this process).
  void SetRoot(pid_t root) { root_ = root; }
  // Appends the events received so far, oldest first.
  void Drain(std::vector<trace::ProcessRecord>& out);
  // Stops the thread, then handles what the socket still holds. Idempotent.
  void Stop();

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t overruns() const { return overruns_.load(std::memory_order_relaxed); }

 private:
  struct Queued {
    trace::ProcessRecord record;
    bool self_child = false;  // a direct child of this process
  };
  ProcessMonitor(UniqueFd sock, UniqueFd stop_event);
  void Loop(std::stop_token stop);
  // Reads what is available; false on a fatal socket error.
  bool ReadOnce(bool blocking);
  void Handle(const void* event, size_t len);
  void Push(Queued q);

  static constexpr int kBatch = 32;     // datagrams per recvmmsg
  static constexpr size_t kSlot = 512;  // bytes per datagram (events are ~100)

  UniqueFd sock_;
  UniqueFd stop_event_;  // eventfd that wakes the thread for Stop()
  pid_t self_;
  std::atomic<pid_t> root_{-1};
  // Reader-thread state (then Stop's, after the join): tracked tgid ->
  // parent tgid, and the receive buffers.
  std::unordered_map<pid_t, pid_t> tracked_;
  alignas(8) std::array<std::array<char, kSlot>, kBatch> recv_buffers_{};
  std::mutex mu_;
  std::deque<Queued> queue_;  // guarded by mu_
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> overruns_{0};  // ENOBUFS: the socket overflowed
  bool stopped_ = false;
  std::jthread thread_;  // last: joins before the members above go away
};

}  // namespace sandtrace::record
