#!/bin/sh
# `trace record` next to `trace run`: the same run, paired, REPS times
# (default 7), on four workloads over a tree of 100 dirs x 100 files of 100
# bytes on tmpfs (/dev/shm). Prints, per workload, the median wall times,
# the recording overhead (median of the per-pair ratios record/run), the
# events recorded, bytes of trace per event and events per second.
#
#   sh bench/record/compare.sh [BUILD_DIR]      (default: build)
#
# Handlers: the COW set when `trace run` has it (the workloads then run in
# a copy-on-write workdir holding the tree, changes discarded); otherwise
# the same file syscalls notified and CONTINUEd (--passthrough), with the
# tree in a -w directory. Extra flags for both: FLAGS="..."; for `trace
# record` only: RECORD_FLAGS="..." (e.g. "--writer inline" to measure the
# recorder without its writer thread). PIN="taskset -c 0" runs both on one
# CPU: on a VM whose idle CPUs halt (no guest halt-polling), every
# cross-CPU wake-up costs tens of microseconds, and a little more work per
# notification can change how often the child and the supervisor meet on
# one CPU; pinned, the ratio shows the recorder's own cost.
set -eu
BUILD=${1:-build}
REPS=${REPS:-7}
BIN=$(cd "$BUILD" && pwd)/bin
TRACE=$BIN/trace
MKTREE=$BIN/record_bench_mktree
for b in "$TRACE" "$MKTREE"; do
  [ -x "$b" ] || { echo "compare.sh: $b not built" >&2; exit 1; }
done

SHM=$(mktemp -d /dev/shm/sandtrace-record-bench-XXXXXX)
trap 'rm -rf "$SHM"' EXIT INT TERM
mkdir "$SHM/out"
if "$TRACE" run --help 2>/dev/null | grep -q -- '--handlers'; then
  MODE="cow handlers (copy-on-write workdir, --discard)"
  mkdir "$SHM/work"
  WORK=$SHM/work
  "$MKTREE" "$WORK/tree" 100 100 100
  TREE=tree
  # The storage area on tmpfs too (an ext4 /tmp makes cp swing wildly).
  BASE="--discard --storage $SHM/st ${FLAGS:-}"
else
  MODE="passthrough (file syscalls notified and CONTINUEd; no COW handlers in this build)"
  mkdir "$SHM/work" "$SHM/w"
  WORK=$SHM/work
  "$MKTREE" "$SHM/w/tree" 100 100 100
  TREE=$SHM/w/tree
  SET=openat,newfstatat,statx,fstat,getdents64,close,readlink,faccessat2,access,mkdir,unlinkat,fchmodat,utimensat,fchownat,lseek
  BASE="-w $SHM/w --passthrough $SET ${FLAGS:-}"
fi
cd "$WORK"

now_ns() { date +%s%N; }

# workload name, shell command
run_pair() {
  name=$1
  cmd=$2
  : > "$SHM/pairs"
  i=0
  while [ $i -lt "$REPS" ]; do
    # Alternate which goes first, so drift and caches favour neither.
    for which in $( [ $((i % 2)) -eq 0 ] && echo "run record" || echo "record run"); do
      rm -rf "$SHM/st"
      s=$(now_ns)
      if [ "$which" = run ]; then
        ${PIN:-} "$TRACE" run $BASE -- sh -c "$cmd" >/dev/null 2>"$SHM/run.err" || true
        run_ns=$(($(now_ns) - s))
      else
        ${PIN:-} "$TRACE" record $BASE ${RECORD_FLAGS:-} --stats -o "$SHM/out/t.capnp" -- sh -c "$cmd" \
          >/dev/null 2>"$SHM/rec.err" || true
        rec_ns=$(($(now_ns) - s))
      fi
    done
    events=$(sed -n 's/.*: \([0-9]*\) events, .*/\1/p' "$SHM/rec.err" | tail -1)
    bytes=$(sed -n 's/.*; \([0-9]*\) bytes in .*/\1/p' "$SHM/rec.err" | tail -1)
    echo "$run_ns $rec_ns ${events:-0} ${bytes:-0}" >> "$SHM/pairs"
    i=$((i + 1))
  done
  m=$(((REPS + 1) / 2))
  run_ms=$(cut -d' ' -f1 "$SHM/pairs" | sort -n | sed -n "${m}p")
  rec_ms=$(cut -d' ' -f2 "$SHM/pairs" | sort -n | sed -n "${m}p")
  ratio=$(awk '{ printf "%.4f\n", $2 / $1 }' "$SHM/pairs" | sort -n | sed -n "${m}p")
  awk -v name="$name" -v run="$run_ms" -v rec="$rec_ms" -v ratio="$ratio" '
    { ev += $3; by += $4; n++ }
    END {
      e = ev / n; b = by / n
      printf "%-34s %9.1f %9.1f %8.3f %9d %8.1f %10.0f\n", name, run / 1e6, rec / 1e6, ratio,
             e, (e > 0 ? b / e : 0), (e > 0 ? e / (rec / 1e9) : 0)
    }' "$SHM/pairs"
}

echo "handlers: $MODE"
echo "flags:    $BASE (record: ${RECORD_FLAGS:-default})"
echo "reps:     $REPS (medians; overhead = median of paired record/run ratios)${PIN:+; pinned: $PIN}"
printf '%-34s %9s %9s %8s %9s %8s %10s\n' workload run_ms record_ms overhead events B/event events/s
run_pair "tar cf - -C TREE . | wc -c" "tar cf - -C $TREE . | wc -c"
run_pair "du -s TREE" "du -s $TREE"
run_pair "find TREE -type f | wc -l" "find $TREE -type f | wc -l"
run_pair "cp -r TREE TREE2 && rm -rf TREE2" "cp -r $TREE ${TREE}2 && rm -rf ${TREE}2"
