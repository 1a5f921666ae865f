#!/bin/sh
# Runs every benchmark suite and comparison script; see README "Benchmarks".
set -eu
BUILD=${1:-build}
for b in "$BUILD"/bin/bench_*; do [ -x "$b" ] && "$b"; done
for s in bench/*/compare*.sh; do [ -f "$s" ] && sh "$s" "$BUILD"; done
exit 0
