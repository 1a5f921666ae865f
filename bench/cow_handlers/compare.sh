#!/bin/sh
# `trace run` with the COW handlers against native, `strace -f` (as users
# run it) and the pass-through set (the same notify set, every decision
# CONTINUE), on the supervisor's four workloads run INSIDE the workdir:
# the tree is read through the COW view and `cp -r` writes into it.
#
#   sh bench/cow_handlers/compare.sh [BUILD_DIR]     (default: build)
#
# TREE = 100 dirs x 100 files of 100 bytes on tmpfs (/dev/shm); the storage
# area is on tmpfs too (--storage, fresh per run) and every COW run uses
# --discard, so all runs start from the same tree. The pass-through set
# cannot write the workdir (Landlock makes it read-only), so its cp workload
# copies the tree to a -w directory outside the workdir instead: the same
# syscalls, all CONTINUEd. Times are the median of REPS runs (default 5).
# Also printed: the notifications each workload sends, how many of them a
# filter with argument checks could decide without the supervisor, and what
# deciding ioctl in the filter (its only argument-tested syscall) saves.
# PIN="taskset -c 0" runs everything on one CPU: on a VM whose idle CPUs
# halt, every cross-CPU wake-up costs tens of microseconds (an fd injection
# takes two), which pinning takes out of the comparison.
set -eu
BUILD=${1:-build}
REPS=${REPS:-5}
TRACE=$(cd "$BUILD" && pwd)/bin/trace
HELPER=$(cd "$BUILD" && pwd)/bin/tracer_bench_helper
for b in "$TRACE" "$HELPER"; do
  [ -x "$b" ] || { echo "compare.sh: $b not built" >&2; exit 1; }
done
command -v strace >/dev/null 2>&1 || {
  echo "compare.sh: installing strace" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace; }
}

SHM=$(mktemp -d /dev/shm/sandtrace-cowbench-XXXXXX)
trap 'rm -rf "$SHM"' EXIT INT TERM
WORK=$SHM/work
mkdir "$WORK" "$SHM/w" "$SHM/empty"
"$HELPER" mktree "$WORK/tree" 100 100 100
cd "$WORK"

now_us() { echo $(($(date +%s%N) / 1000)); }
run=0
# median wall time in microseconds of REPS runs of "$@"
median_us() {
  i=0
  : > "$SHM/times"
  while [ $i -lt "$REPS" ]; do
    run=$((run + 1))
    rm -rf "$SHM/st"
    s=$(now_us)
    ${PIN:-} "$@" >/dev/null 2>&1 || true
    e=$(now_us)
    echo $((e - s)) >> "$SHM/times"
    i=$((i + 1))
  done
  rm -rf "$SHM/st"
  sort -n "$SHM/times" | sed -n "$(((REPS + 1) / 2))p"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
COW="$TRACE run --discard --storage $SHM/st"
PASS="$TRACE run --handlers passthrough"

echo "== wall time (median of $REPS; workdir on tmpfs holds the tree: 100 dirs x 100 files x 100 B)${PIN:+; pinned: $PIN}"
printf '%-34s %9s %7s %7s %7s %8s %9s %9s\n' workload native_ms cow pass strace cow/pass strace/cow notifs
for w in "tar cf - tree | wc -c" "du -s tree" "find tree -type f | wc -l" \
         "cp -r tree tree2 && rm -rf tree2"; do
  n=$(median_us sh -c "$w")
  c=$(median_us $COW -- sh -c "$w")
  case "$w" in
    cp*) p=$(median_us $PASS -C "$SHM/empty" -w "$SHM/w" -- \
               sh -c "cp -r $WORK/tree $SHM/w/tree2 && rm -rf $SHM/w/tree2") ;;
    *) p=$(median_us $PASS -- sh -c "$w") ;;
  esac
  s=$(median_us strace -f -o /dev/null sh -c "$w")
  rm -rf "$SHM/st"
  notifs=$($COW --stats -- sh -c "$w" 2>&1 >/dev/null | sed -n 's/^trace run: \([0-9]*\) notifications.*/\1/p')
  printf '%-34s %9.1f %6sx %6sx %6sx %8s %8sx %9s\n' "$w" "$(ratio "$n" 1000)" "$(ratio "$c" "$n")" \
    "$(ratio "$p" "$n")" "$(ratio "$s" "$n")" "$(ratio $((c - n)) $((p - n)))" \
    "$(ratio $((s - n)) $((c - n)))" "$notifs"
done
echo "(cow/pass: the time COW adds over native divided by the time the pass-through set adds;"
echo " strace/cow: the time strace -f adds divided by the time COW adds)"

echo "== what a filter with argument checks could decide (COW run, per workload)"
for w in "tar cf - tree | wc -c" "du -s tree" "find tree -type f | wc -l" \
         "cp -r tree tree2 && rm -rf tree2"; do
  rm -rf "$SHM/st"
  $COW --stats -- sh -c "$w" 2>"$SHM/stats" >/dev/null || true
  total=$(sed -n 's/^trace run: \([0-9]*\) notifications.*/\1/p' "$SHM/stats")
  fstat=$(sed -n 's/^cow: \([0-9]*\) stat calls with AT_EMPTY_PATH.*/\1/p' "$SHM/stats")
  ioctl=$(sed -n 's/.* ioctl=\([0-9]*\).*/\1/p' "$SHM/stats")
  pristine=$(sed -n 's/.*continued (\([0-9]*\) before any change.*/\1/p' "$SHM/stats")
  printf '%-34s total %6s: fstat(fd,"",AT_EMPTY_PATH) %6s, ioctl %6s; CONTINUEd before any change %6s\n' \
    "$w" "$total" "${fstat:-0}" "${ioctl:-0}" "${pristine:-0}"
done

echo "== ioctl decided in the filter (argument tests) against every ioctl notified (pass-through set)"
for w in "cp -r $WORK/tree $SHM/w/tree2 && rm -rf $SHM/w/tree2"; do
  a=$(median_us $PASS -C "$SHM/empty" -w "$SHM/w" -- sh -c "$w")
  b=$(median_us $PASS --passthrough ioctl -C "$SHM/empty" -w "$SHM/w" -- sh -c "$w")
  echo "cp -r + rm -rf: argument-tested ioctl $(ratio "$a" 1000) ms, every ioctl notified $(ratio "$b" 1000) ms"
done
