#!/bin/sh
# `make demo` (argument: the build dir). Until recording exists it shows the
# trace format: trace_format_demo writes a synthetic 100k-event trace with
# TraceWriter, reads it back with TraceReader and summarises it; then the
# stock tools decode the same file:
#   zstd -dc demo.trace | capnp decode formats/trace.capnp Record
set -eu
BUILD=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$BUILD/bin/trace_format_demo" --events 100000 "$tmp/demo.trace"

echo
echo "the first records as stock tools see them (lines cut at 300 characters):"
echo "  zstd -dc demo.trace | capnp decode --short formats/trace.capnp Record | head -n 3"
zstd -q -dc "$tmp/demo.trace" > "$tmp/demo.raw"
capnp decode --short formats/trace.capnp Record < "$tmp/demo.raw" > "$tmp/demo.txt"
head -n 3 "$tmp/demo.txt" | cut -c1-300
echo "records decoded by capnp: $(wc -l < "$tmp/demo.txt")"
