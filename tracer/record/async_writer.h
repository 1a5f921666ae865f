// AsyncTraceWriter: a TraceWriter driven by a thread of its own.
//
// Why: encoding and compressing a record costs about half a microsecond,
// and live, with the child's syscall just answered, the caches are cold and
// it costs more. The supervisor and the child share a CPU (SYNC_WAKE_UP), so
// every nanosecond the loop spends on the trace is taken from the command.
// With a writer thread the loop only copies the record into a ring slot; the
// thread, on another CPU, encodes, compresses and writes it. DESIGN.md §3
// says a writer thread pays off only where it has a CPU of its own:
// RecorderOptions::writer_thread chooses (see bench/record).
//
// Ring: kSlots Record slots, made on first use and reused (a slot's strings and
// vectors keep their capacity, and events are swapped in, not copied, so
// the steady state does not allocate;
// buffers beyond RecordingTracee::kMaxKeptBytes are released after use).
// Memory is bounded by kSlots records and kMaxBytesInFlight bytes of
// payload: past either, Write waits for the thread. Records reach the
// TraceWriter in the order they were written. The thread wakes when the ring
// is a quarter full, and otherwise every kIdleWakeMs, when it also runs the
// writer's Tick (so a frame reaches the file at least every 100 ms + that).
//
// Errors: the thread latches the first error of the TraceWriter; Write and
// Tick return it from then on (the records still in the ring are dropped).
//
// Ownership: owns the thread; borrows the TraceWriter, which must outlive
// it. Thread-safety: one producer thread calls everything.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "formats/records.h"
#include "formats/trace_writer.h"
#include "tracer/base/result.h"

namespace sandtrace::record {

class AsyncTraceWriter {
 public:
  static constexpr size_t kSlots = 1024;
  static constexpr size_t kMaxBytesInFlight = 32 << 20;
  static constexpr int kIdleWakeMs = 2;

  explicit AsyncTraceWriter(trace::TraceWriter& writer);
  // Stops the thread (as Close, without closing the TraceWriter).
  ~AsyncTraceWriter();
  AsyncTraceWriter(const AsyncTraceWriter&) = delete;
  AsyncTraceWriter& operator=(const AsyncTraceWriter&) = delete;

  // Queues `event` by swapping it with a ring slot: `event` comes back
  // holding a record already written (stale contents, reusable buffers),
  // which the caller overwrites field by field (Recorder::OnNotification)
  // so the steady state neither copies nor allocates.
  Status Write(trace::EventRecord& event);
  // Queues a copy of `record`. Returns the thread's latched error, if any.
  template <class R>
  Status Write(const R& record) {
    return Push(
        [&](trace::Record& slot) {
          if (auto* same = std::get_if<R>(&slot)) {
            *same = record;  // reuses the slot's buffers
          } else {
            slot = record;
          }
        },
        PayloadBytes(record));
  }
  // The latched error, if any (the thread ticks the writer by itself).
  Status Tick();
  // Waits until every queued record has been handed to the TraceWriter and
  // stops the thread. The TraceWriter is then the caller's again (Close it).
  Status Drain();

 private:
  template <class Fill>
  Status Push(Fill fill, size_t bytes);
  static size_t PayloadBytes(const trace::EventRecord& e);
  static size_t PayloadBytes(const trace::SnapshotChunk& c);
  template <class R>
  static size_t PayloadBytes(const R&) {
    return 256;
  }
  void Loop();
  Status Latched();

  trace::TraceWriter& writer_;
  // Made on first use (a short run touches only the slots it fills; a
  // Record is ~400 bytes, the ring ~400 KiB).
  std::vector<std::unique_ptr<trace::Record>> slots_;
  std::vector<size_t> slot_bytes_;
  std::atomic<uint64_t> head_{0};  // next slot the producer fills
  std::atomic<uint64_t> tail_{0};  // next slot the thread writes
  std::atomic<size_t> bytes_in_flight_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::condition_variable work_;   // producer -> thread
  std::condition_variable space_;  // thread -> producer
  bool stop_ = false;              // guarded by mu_
  std::optional<Error> error_;     // guarded by mu_
  std::thread thread_;             // joined by Drain / the destructor
};

template <class Fill>
Status AsyncTraceWriter::Push(Fill fill, size_t bytes) {
  if (failed_.load(std::memory_order_acquire)) return Latched();
  const uint64_t head = head_.load(std::memory_order_relaxed);
  if (head - tail_.load(std::memory_order_acquire) >= kSlots ||
      bytes_in_flight_.load(std::memory_order_acquire) + bytes > kMaxBytesInFlight) {
    std::unique_lock lock(mu_);
    work_.notify_one();
    space_.wait(lock, [&] {
      return failed_.load() ||
             (head - tail_.load() < kSlots &&
              (bytes_in_flight_.load() + bytes <= kMaxBytesInFlight || head == tail_.load()));
    });
    if (failed_.load()) return *error_;
  }
  std::unique_ptr<trace::Record>& slot = slots_[head % kSlots];
  if (!slot) slot = std::make_unique<trace::Record>();
  fill(*slot);
  slot_bytes_[head % kSlots] = bytes;
  bytes_in_flight_.fetch_add(bytes, std::memory_order_relaxed);
  head_.store(head + 1, std::memory_order_release);
  // Wake the thread only in bulk; otherwise it comes round every few ms.
  if (head + 1 - tail_.load(std::memory_order_relaxed) == kSlots / 4) {
    std::lock_guard lock(mu_);
    work_.notify_one();
  }
  return OkStatus();
}

}  // namespace sandtrace::record
