// Builds trace bytes by hand (Cap'n Proto + zstd directly), for records and
// frames no TraceWriter would produce: unknown kinds, bad magic, missing
// checksums, hostile sizes.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <zstd.h>

#include <string>

#include "formats/records.h"
#include "formats/trace.capnp.h"

namespace sandtrace::trace::testing {

// One message in standard stream framing.
inline std::string MessageBytes(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// A zstd frame holding `content`, with the content size in its header.
inline std::string ZstdFrame(const std::string& content, bool checksum = true) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  std::string out(ZSTD_compressBound(content.size()), '\0');
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), content.data(), content.size());
  ZSTD_freeCCtx(cctx);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

inline std::string HeaderMessage(uint64_t magic = kTraceMagic, uint32_t min_reader = 1) {
  capnp::MallocMessageBuilder message;
  auto header = message.initRoot<schema::Record>().initHeader();
  header.setMagic(magic);
  header.setFormatVersion(min_reader);
  header.setMinReaderVersion(min_reader);
  header.setToolVersion("crafted");
  return MessageBytes(message);
}

}  // namespace sandtrace::trace::testing
