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

// Format version 2 stores an event's seq, id and receivedNs as differences
// from the previous event of the same zstd frame (modulo 2^64): the three
// grow by small steps from event to event, so their differences compress to
// almost nothing where the absolute values cost a literal each. The state
// starts from zero at each frame, so an event encoded on its own (JSON, or
// the first of a frame) holds its absolute values, and a frame decodes
// without the ones before it (seeking through the index).
struct EventDeltas {
  uint64_t seq = 0;
  uint64_t id = 0;
  uint64_t received_ns = 0;
};
// An event's absolute (seq, id, receivedNs) given the state before it.
EventDeltas AbsoluteOf(schema::Event::Reader in, const EventDeltas& before);

// Sets `out` to the given record.
void Encode(const HeaderRecord& record, schema::Record::Builder out);
void Encode(const EventRecord& record, schema::Record::Builder out);
// The same relative to `deltas` (then advanced past this event).
void Encode(const EventRecord& record, schema::Record::Builder out, EventDeltas& deltas);
void Encode(const ProcessRecord& record, schema::Record::Builder out);
void Encode(const CowRecord& record, schema::Record::Builder out);
void Encode(const SnapshotChunk& record, schema::Record::Builder out);
void Encode(const FooterRecord& record, schema::Record::Builder out);

// Returns false for a record kind this reader does not know (out is then
// unspecified); throws kj::Exception on malformed input.
bool DecodeRecord(schema::Record::Reader in, Record& out);
// The same for a version-2 frame: events relative to `deltas` (advanced).
bool DecodeRecord(schema::Record::Reader in, Record& out, EventDeltas& deltas);

}  // namespace sandtrace::trace::internal
