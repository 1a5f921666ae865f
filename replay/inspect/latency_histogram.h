// LatencyHistogram: a log-linear histogram of nanosecond durations, for
// percentiles over traces of any length in bounded memory. Values below
// 128 ns are exact; above, each power of two is split into 64 buckets, so a
// reported percentile is within 1/128 (0.8%) of a value actually seen. The
// bucket array grows to the largest value's bucket (at most ~3,700 slots).
//
// Thread-safety: a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sandtrace::inspect {

class LatencyHistogram {
 public:
  void Add(uint64_t ns);
  uint64_t count() const { return count_; }
  uint64_t total() const { return total_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  // The nearest-rank percentile (0 < p <= 100), reported as the middle of
  // its bucket clamped to [min, max] (exactly max for the top rank); 0 when
  // empty.
  uint64_t Percentile(double p) const;
  void Merge(const LatencyHistogram& other);

 private:
  static size_t Bucket(uint64_t ns);
  static uint64_t BucketMiddle(size_t bucket);
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t total_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace sandtrace::inspect
