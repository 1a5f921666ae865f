#!/bin/sh
# A real build under `trace record`: configures and builds sandtrace's own
# `trace` binary (cmake, g++ -O3, capnp, make -j2) from a clone of this
# repository, once natively and once recorded in the copy-on-write sandbox,
# then replays the trace. Prints both wall times, their ratio, the events
# and bytes recorded, and the replay's verdict and time. Takes a few
# minutes; not part of `make bench`.
#
#   sh bench/record/selfbuild.sh [BUILD_DIR]      (default: build)
set -eu
BUILD=${1:-build}
TRACE=$(cd "$BUILD" && pwd)/bin/trace
SRC=$(git rev-parse --show-toplevel)
[ -x "$TRACE" ] || { echo "selfbuild.sh: $TRACE not built" >&2; exit 1; }

TMP=$(mktemp -d /tmp/sandtrace-selfbuild-XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM
JOB='cmake -S . -B b -DCMAKE_BUILD_TYPE=Release >/dev/null && make -C b -j2 trace >/dev/null 2>&1'
now_ms() { echo $(($(date +%s%N) / 1000000)); }

git clone -q "$SRC" "$TMP/native"
git clone -q "$SRC" "$TMP/recorded"

s=$(now_ms)
(cd "$TMP/native" && sh -c "$JOB")
native=$(($(now_ms) - s))

s=$(now_ms)
(cd "$TMP/recorded" && "$TRACE" record --stats --commit -o "$TMP/t.capnp" -- sh -c "$JOB" 2>"$TMP/rec.err")
recorded=$(($(now_ms) - s))
events=$(sed -n 's/^trace record: \([0-9]*\) events.*/\1/p' "$TMP/rec.err")
bytes=$(stat -c %s "$TMP/t.capnp")

s=$(now_ms)
"$TRACE" replay "$TMP/t.capnp" >"$TMP/replay.txt" 2>&1 || true
replayed=$(($(now_ms) - s))
verdict=$(sed -n 's/^verdict: //p' "$TMP/replay.txt")

awk -v n="$native" -v r="$recorded" -v e="${events:-0}" -v b="$bytes" -v p="$replayed" \
    -v v="$verdict" 'BEGIN {
  printf "native build   %8.1f s\n", n / 1000
  printf "trace record   %8.1f s   (%.2fx native)\n", r / 1000, r / n
  printf "events         %8d     %.1f B/event, %.1f MB trace\n", e, (e ? b / e : 0), b / 1e6
  printf "trace replay   %8.1f s   verdict: %s\n", p / 1000, v
}'
