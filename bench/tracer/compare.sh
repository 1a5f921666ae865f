#!/bin/sh
# Side-by-side wall time of `trace run`, `strace -f -o /dev/null` and
# `bwrap --dev-bind / /` against native, on a tree of 100 dirs x 100 files of
# 100 bytes on tmpfs (/dev/shm), plus per-notification cost and startup.
#
#   sh bench/tracer/compare.sh [BUILD_DIR]      (default: build)
#
# `trace run` has only the getrandom handler registered
# (--seed 1 --seed-getrandom-only), so this is the supervisor's baseline:
# Landlock + the seccomp filter + the loop. Times are the median of REPS runs
# (default 5; set REPS=...). Installs strace and bubblewrap if missing.
set -eu
BUILD=${1:-build}
REPS=${REPS:-5}
TRACE=$(cd "$BUILD" && pwd)/bin/trace
HELPER=$(cd "$BUILD" && pwd)/bin/tracer_bench_helper
NOTIFY=$(cd "$BUILD" && pwd)/bin/bench_tracer_notify
for b in "$TRACE" "$HELPER" "$NOTIFY"; do
  [ -x "$b" ] || { echo "compare.sh: $b not built" >&2; exit 1; }
done
missing=""
command -v strace >/dev/null 2>&1 || missing="$missing strace"
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
if [ -n "$missing" ]; then
  echo "compare.sh: installing$missing" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; }
fi

# Only the getrandom handler: when `trace run` has the COW handlers, turn
# them off (--handlers none) so this measures the supervisor alone.
BASE="--seed 1 --seed-getrandom-only"
if "$TRACE" run --help 2>/dev/null | grep -q -- '--handlers'; then BASE="$BASE --handlers none"; fi

SHM=$(mktemp -d /dev/shm/sandtrace-bench-XXXXXX)
trap 'rm -rf "$SHM"' EXIT INT TERM
TREE=$SHM/tree
mkdir "$SHM/work" "$SHM/w"
"$HELPER" mktree "$TREE" 100 100 100
cd "$SHM/work"  # the workdir of `trace run`; the tree and the output are outside it

now_us() { echo $(($(date +%s%N) / 1000)); }
# median wall time in microseconds of REPS runs of "$@"
median_us() {
  i=0
  : > "$SHM/times"
  while [ $i -lt "$REPS" ]; do
    s=$(now_us)
    "$@" >/dev/null 2>&1 || true
    e=$(now_us)
    echo $((e - s)) >> "$SHM/times"
    i=$((i + 1))
  done
  sort -n "$SHM/times" | sed -n "$(((REPS + 1) / 2))p"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "trace run flags: $BASE"
echo "== wall time vs native (median of $REPS; tree: 100 dirs x 100 files x 100 B on tmpfs)"
printf '%-44s %10s %8s %8s %8s\n' workload native_ms trace strace bwrap
for w in "tar cf - -C $TREE . | wc -c" "du -s $TREE" "find $TREE -type f | wc -l" \
         "cp -r $TREE $SHM/w/tree2 && rm -rf $SHM/w/tree2"; do
  n=$(median_us sh -c "$w")
  # shellcheck disable=SC2086
  t=$(median_us "$TRACE" run $BASE -w "$SHM/w" -- sh -c "$w")
  s=$(median_us strace -f -o /dev/null sh -c "$w")
  b=$(median_us bwrap --dev-bind / / sh -c "$w")
  label=$(echo "$w" | sed "s|$SHM|\$SHM|g")
  printf '%-44s %10.1f %8s %8s %8s\n' "$label" "$(ratio "$n" 1000)" "$(ratio "$t" "$n")x" \
    "$(ratio "$s" "$n")x" "$(ratio "$b" "$n")x"
done

echo "== startup: trace run -- /bin/true vs /bin/true (100 runs each)"
loop100() {
  i=0
  while [ $i -lt 100 ]; do "$@" >/dev/null 2>&1; i=$((i + 1)); done
}
s=$(now_us); loop100 /bin/true; e=$(now_us); bare=$((e - s))
# shellcheck disable=SC2086
s=$(now_us); loop100 "$TRACE" run $BASE -- /bin/true; e=$(now_us); traced=$((e - s))
echo "bare /bin/true: $(ratio "$bare" 100) us/run; trace run: $(ratio "$traced" 100) us/run;" \
  "overhead $(ratio $((traced - bare)) 100000) ms/run"

echo "== per notification (bench_tracer_notify 100000)"
"$NOTIFY" 100000
# ADDFD wakes the target with a plain wake-up (SYNC_WAKE_UP covers SEND
# only) and sleeps until the target has installed the fd: two wake-ups of
# an idle CPU, which a VM without guest halt-polling makes expensive. With
# supervisor and child on one CPU those wake-ups are local.
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ]; then
  echo "== the same on one CPU (taskset -c 0: no cross-CPU wake-ups)"
  taskset -c 0 "$NOTIFY" 30000 | grep -E "sync_wake_up=on"
fi
echo "== strace -f as users run it, same 100000 getppid calls"
n=$(median_us "$HELPER" loop getppid 100000)
s=$(median_us strace -f -o /dev/null "$HELPER" loop getppid 100000)
# shellcheck disable=SC2086
t=$(median_us "$TRACE" run $BASE --passthrough getppid -- "$HELPER" loop getppid 100000)
echo "added per call: trace run --passthrough $(ratio $((t - n)) 100000) us," \
  "strace -f $(ratio $((s - n)) 100000) us; strace/trace $(ratio $((s - n)) $((t - n)))x"
