// SHA-256 (FIPS 180-4), the content hash of snapshot blobs.
//
// Why a local implementation: the snapshot deduplicates file contents by
// hash, so the hash must be collision-resistant (two different files must
// never share bytes in a replayed lower layer), and sandtrace takes no new
// dependency for it. Throughput is a few hundred MB/s, far more than the
// snapshot of what a command touched needs.
//
// Thread-safety: a value type; one instance per thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace sandtrace::record {

class Sha256 {
 public:
  static constexpr size_t kDigestBytes = 32;
  using Digest = std::array<uint8_t, kDigestBytes>;

  Sha256() { Reset(); }
  void Reset();
  void Update(std::span<const std::byte> data);
  void Update(std::string_view data) { Update(std::as_bytes(std::span(data))); }
  // Finishes and returns the digest; the object must be Reset() to reuse it.
  Digest Finish();

  // The digest of `data` in one call.
  static Digest Of(std::string_view data);
  // Lower-case hex of a digest (64 characters).
  static std::string Hex(const Digest& digest);

  // Name stored in the trace header's snapshotHash.
  static constexpr std::string_view kName = "sha256";

 private:
  void Block(const uint8_t* block);

  std::array<uint32_t, 8> state_{};
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace sandtrace::record
