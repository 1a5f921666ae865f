#include "replay/inspect/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sandtrace::inspect {
namespace {
constexpr int kSubBits = 7;  // 2^7 = 128 exact values, then 64 buckets per octave
constexpr uint64_t kHalf = uint64_t{1} << (kSubBits - 1);
}  // namespace

size_t LatencyHistogram::Bucket(uint64_t ns) {
  if (ns < (uint64_t{1} << kSubBits)) return static_cast<size_t>(ns);
  const int shift = std::bit_width(ns) - kSubBits;
  return static_cast<size_t>(shift) * kHalf + static_cast<size_t>(ns >> shift);
}

uint64_t LatencyHistogram::BucketMiddle(size_t bucket) {
  if (bucket < (size_t{1} << kSubBits)) return bucket;
  // Invert Bucket(): bucket = shift * 64 + mantissa, mantissa in [64, 128).
  const size_t shift = (bucket - kHalf) / kHalf;
  const uint64_t mantissa = bucket - shift * kHalf;
  const uint64_t low = mantissa << shift;
  return low + ((uint64_t{1} << shift) >> 1);
}

void LatencyHistogram::Add(uint64_t ns) {
  const size_t b = Bucket(ns);
  if (b >= buckets_.size()) buckets_.resize(b + 1, 0);
  ++buckets_[b];
  ++count_;
  total_ += ns;
  max_ = std::max(max_, ns);
  min_ = std::min(min_, ns);
}

uint64_t LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  const double want = std::ceil(p / 100.0 * static_cast<double>(count_));
  const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(want), 1, count_);
  if (rank == count_) return max_;  // the largest value is known exactly
  uint64_t seen = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::clamp(BucketMiddle(b), min_, max_);
  }
  return max_;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.buckets_.size() > buckets_.size()) buckets_.resize(other.buckets_.size(), 0);
  for (size_t b = 0; b < other.buckets_.size(); ++b) buckets_[b] += other.buckets_[b];
  count_ += other.count_;
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
  if (other.count_) min_ = std::min(min_, other.min_);
}

}  // namespace sandtrace::inspect
