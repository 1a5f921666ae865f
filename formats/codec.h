// Internal to formats/: converts between the plain values of records.h and
// the Cap'n Proto builders/readers generated from trace.capnp. Nothing
// outside formats/ includes this (STYLE.md: generated camelCase stays here).
//
// Encoding writes only the fields that apply to a record's kind (the
// canonical form described in records.h). Decoding maps enumerants and
// union members this reader does not know to kUnknown and reuses the
// capacity of the output's vectors and strings. Decoding hostile input
// throws kj::Exception (from Cap'n Proto's bounds checks); the caller
// catches it.
#pragma once

#include "formats/records.h"
#include "formats/trace.capnp.h"

namespace sandtrace::trace::internal {

// Sets `out` to the given record.
void Encode(const HeaderRecord& record, schema::Record::Builder out);
void Encode(const EventRecord& record, schema::Record::Builder out);
void Encode(const ProcessRecord& record, schema::Record::Builder out);
void Encode(const CowRecord& record, schema::Record::Builder out);
void Encode(const SnapshotChunk& record, schema::Record::Builder out);
void Encode(const FooterRecord& record, schema::Record::Builder out);

// Returns false for a record kind this reader does not know (out is then
// unspecified); throws kj::Exception on malformed input.
bool DecodeRecord(schema::Record::Reader in, Record& out);

}  // namespace sandtrace::trace::internal
