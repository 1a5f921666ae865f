#!/bin/sh
# `make fuzz`: builds the TraceReader libFuzzer target with clang++
# (-fsanitize=fuzzer,address) against the formats sources and the schema
# code CMake generated in BUILD, seeds a corpus from trace_format_demo, and
# fuzzes for FUZZ_SECONDS (default 120; 0: build and seed only, which is
# what `make test` does when clang is installed, before ctest runs the
# binary briefly as FormatFuzzSmoke).
set -eu
BUILD=$(cd "${1:?usage: fuzz.sh BUILD_DIR}" && pwd)
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${FUZZ_SECONDS:-120}
CXX_FUZZ=${CXX_FUZZ:-}
if [ -z "$CXX_FUZZ" ]; then
  for c in clang++ clang++-14; do
    if command -v "$c" >/dev/null 2>&1; then CXX_FUZZ=$c; break; fi
  done
fi
[ -n "$CXX_FUZZ" ] || { echo "fuzz: clang++ not found; install clang to fuzz" >&2; exit 1; }
GEN="$BUILD/gen"
[ -f "$GEN/formats/trace.capnp.c++" ] || { echo "fuzz: $GEN/formats/trace.capnp.c++ missing; build first" >&2; exit 1; }
OUT="$BUILD/fuzz"
mkdir -p "$OUT/corpus" "$OUT/seeds"
echo "fuzz: building $OUT/trace_reader_fuzz with $CXX_FUZZ"
"$CXX_FUZZ" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I. -I"$GEN" \
  formats/records.cc formats/codec.cc formats/seek_index.cc formats/trace_writer.cc \
  formats/trace_reader.cc "$GEN/formats/trace.capnp.c++" tracer/base/errors.cc \
  tests/formats/trace_fuzz_entry.cc tests/formats/trace_reader_fuzz.cc \
  -lcapnp -lkj -lzstd -o "$OUT/trace_reader_fuzz"
"$BUILD/bin/trace_format_demo" --corpus "$OUT/seeds"
# Decompressed copies seed the entry point's "content of a frame" mode.
for f in "$OUT"/seeds/*.trace; do zstd -q -dc "$f" > "${f%.trace}.content"; done
[ "$SECONDS_TO_RUN" -gt 0 ] || exit 0
echo "fuzz: running for ${SECONDS_TO_RUN}s (new inputs kept in $OUT/corpus)"
exec "$OUT/trace_reader_fuzz" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 \
  -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 "$OUT/corpus" "$OUT/seeds"
