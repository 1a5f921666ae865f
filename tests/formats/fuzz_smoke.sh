#!/bin/sh
# ctest FormatFuzzSmoke: runs the libFuzzer reader target that `make fuzz`
# builds, for a bounded number of runs over the seed corpus. Exit 77 (ctest
# "skipped") when it has not been built (no clang, or `make fuzz` not run).
set -eu
BUILD=${1:?usage: fuzz_smoke.sh BUILD_DIR}
FUZZER="$BUILD/fuzz/trace_reader_fuzz"
SEEDS="$BUILD/fuzz/seeds"
if [ ! -x "$FUZZER" ]; then
  echo "fuzz_smoke: $FUZZER not built (run 'make fuzz' with clang installed); skipping"
  exit 77
fi
mkdir -p "$SEEDS"
if [ -x "$BUILD/bin/trace_format_demo" ]; then "$BUILD/bin/trace_format_demo" --corpus "$SEEDS" >/dev/null; fi
exec "$FUZZER" -runs=5000 -max_len=65536 -rss_limit_mb=2048 -timeout=20 "$SEEDS"
