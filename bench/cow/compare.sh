#!/bin/sh
# Runs bench_cow and prints each engine figure beside its plain baseline,
# as a ratio (engine time / baseline time; < 1 means the engine is faster).
# Usage: sh bench/cow/compare.sh [BUILD_DIR]
set -eu
BUILD=${1:-build}
BIN="$BUILD/bin/bench_cow"
[ -x "$BIN" ] || { echo "compare.sh: $BIN not built" >&2; exit 2; }
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$BIN" --benchmark_format=csv 2>/dev/null > "$OUT"
awk -F, '
  /^"?BM_/ {
    name = $1; gsub(/"/, "", name); sub(/^BM_/, "", name); sub(/\/real_time$/, "", name); sub(/\/iterations:[0-9]+/, "", name);
    t[name] = $3; unit[name] = $5;
  }
  function ratio(a, b, what) {
    if (!(a in t) || !(b in t)) { printf "%-44s missing\n", what; return }
    printf "%-44s %10.3f %s vs %10.3f %s  ratio %.2f\n", what, t[a], unit[a], t[b], unit[b], t[a] / t[b]
  }
  END {
    ratio("CopyUp/64", "Cp/64", "copy-up 64 MiB vs cp");
    ratio("MergedListing", "DirectListing", "merged listing 10k vs readdir");
    ratio("Commit10k/0", "CpA10k", "commit 10k files (no fsync) vs cp -a");
    ratio("Commit10k/1", "CpA10k", "commit 10k files (fsync) vs cp -a");
  }' "$OUT"
