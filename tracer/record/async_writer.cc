#include "tracer/record/async_writer.h"

#include <chrono>

#include "tracer/record/recording_tracee.h"

namespace sandtrace::record {

AsyncTraceWriter::AsyncTraceWriter(trace::TraceWriter& writer)
    : writer_(writer), slots_(kSlots), slot_bytes_(kSlots, 0) {
  thread_ = std::thread([this] { Loop(); });
}

AsyncTraceWriter::~AsyncTraceWriter() { (void)Drain(); }

Status AsyncTraceWriter::Write(trace::EventRecord& event) {
  return Push(
      [&](trace::Record& slot) {
        auto* to = std::get_if<trace::EventRecord>(&slot);
        if (to == nullptr) to = &slot.emplace<trace::EventRecord>();
        // A swap, not a copy: the slot takes the record's buffers and hands
        // back those of a record already written, capacity and all.
        using std::swap;
        swap(*to, event);
      },
      PayloadBytes(event));
}

size_t AsyncTraceWriter::PayloadBytes(const trace::EventRecord& e) {
  size_t n = 512;
  for (const auto& c : e.calls) n += c.bytes.size();
  return n;
}

size_t AsyncTraceWriter::PayloadBytes(const trace::SnapshotChunk& c) {
  size_t n = 64 * c.entries.size();
  for (const auto& b : c.blobs) n += b.bytes.size();
  return n;
}

Status AsyncTraceWriter::Latched() {
  std::lock_guard lock(mu_);
  return error_ ? Status(*error_) : OkStatus();
}

Status AsyncTraceWriter::Tick() {
  if (failed_.load(std::memory_order_acquire)) return Latched();
  return OkStatus();
}

Status AsyncTraceWriter::Drain() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    work_.notify_one();
    thread_.join();
  }
  return Latched();
}

void AsyncTraceWriter::Loop() {
  for (;;) {
    bool stopping;
    {
      std::unique_lock lock(mu_);
      work_.wait_for(lock, std::chrono::milliseconds(kIdleWakeMs), [&] {
        return stop_ ||
               head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_relaxed) >=
                   kSlots / 4;
      });
      stopping = stop_;
    }
    const uint64_t head = head_.load(std::memory_order_acquire);
    for (uint64_t t = tail_.load(std::memory_order_relaxed); t < head; ++t) {
      trace::Record& slot = *slots_[t % kSlots];
      if (!failed_.load(std::memory_order_relaxed)) {
        Status s = writer_.Write(slot);
        if (!s.ok()) {
          std::lock_guard lock(mu_);
          error_ = s.error();
          failed_.store(true, std::memory_order_release);
        }
      }
      // Do not keep a rare huge payload around in a reused slot.
      if (auto* e = std::get_if<trace::EventRecord>(&slot)) {
        for (auto& c : e->calls) {
          if (c.bytes.capacity() > RecordingTracee::kMaxKeptBytes) std::string().swap(c.bytes);
        }
      } else if (auto* chunk = std::get_if<trace::SnapshotChunk>(&slot)) {
        *chunk = {};
      }
      bytes_in_flight_.fetch_sub(slot_bytes_[t % kSlots], std::memory_order_relaxed);
      tail_.store(t + 1, std::memory_order_release);
      // Space for a waiting producer, every so often rather than per record.
      if ((t & 63) == 63) space_.notify_one();
    }
    {
      // Taken so that a producer between its check and its wait cannot
      // miss this notification.
      std::lock_guard lock(mu_);
    }
    space_.notify_one();
    if (!failed_.load(std::memory_order_relaxed)) {
      Status s = writer_.Tick();
      if (!s.ok()) {
        std::lock_guard lock(mu_);
        error_ = s.error();
        failed_.store(true, std::memory_order_release);
        space_.notify_all();
      }
    }
    if (stopping && tail_.load() == head_.load()) return;
  }
}

}  // namespace sandtrace::record
