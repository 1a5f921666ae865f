#!/bin/sh
# `make demo` (argument: the build dir): record a small workload in the
# copy-on-write sandbox, look at what its supervisor decided, and replay
# the trace without the command.
#
#   1. copy the bundled example tree (tests/corpus/example) to a temp dir
#   2. trace record --dry-run -- ./edit.sh   (edits, mkdir, cc, run, rm;
#      the change list is printed and the tree left untouched)
#   3. trace dump: the decisions that were not "let the kernel do it"
#   4. trace replay: re-drive every decision from the trace -> verdict
#   5. trace replay --quota 1K: the same trace against a smaller quota, to
#      show what a divergence report looks like
#   6. stock tools read the same file: zstd -dc | capnp decode
set -eu
BUILD=$(cd "${1:-build}" && pwd)
TRACE="$BUILD/bin/trace"
cd "$(dirname "$0")/.."
SRC=$(pwd)
tmp=$(mktemp -d /tmp/sandtrace-demo.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
work="$tmp/example-workdir-of-the-demo"
cp -R "$SRC/tests/corpus/example" "$work"

say() { printf '\n== %s\n' "$*"; }

say "1. the example tree (its script edits a file, makes a directory, compiles and runs a program)"
(cd "$work" && find . -type f | sort | sed 's/^/   /')

say "2. trace record --dry-run -o demo.capnp -- ./edit.sh"
(cd "$work" && "$TRACE" record --dry-run --stats -o "$tmp/demo.capnp" -- ./edit.sh) 2>&1 |
  sed 's/^/   /'
echo "   the tree is untouched (--dry-run): $(cd "$work" && find . -type f | wc -l) files, as before"

say "3. trace dump --decision return,errno,inject demo.capnp (first lines)"
"$TRACE" dump --decision return,errno,inject "$tmp/demo.capnp" | head -n 12 | cut -c1-150 |
  sed 's/^/   /'

say "4. trace replay demo.capnp (no command, no root, a scratch copy of the tree)"
"$TRACE" replay --timing "$tmp/demo.capnp" | grep -E '^(replay|change list|snapshot|verdict|all |  all events)' |
  sed 's/^/   /'

say "5. trace replay --quota 1K demo.capnp (what if the changes had only 1 KiB?)"
set +e
"$TRACE" replay --quota 1K --max-divergences 1 "$tmp/demo.capnp" > "$tmp/what-if.txt"
status=$?
set -e
head -n 8 "$tmp/what-if.txt" | cut -c1-150 | sed 's/^/   /'
echo "   exit status $status (0 identical, 1 diverged, 2 unreadable trace)"

say "6. stock tools: zstd -dc demo.capnp | capnp decode --short formats/trace.capnp Record"
zstd -q -dc "$tmp/demo.capnp" > "$tmp/demo.raw"
capnp decode --short formats/trace.capnp Record < "$tmp/demo.raw" > "$tmp/demo.txt"
head -n 1 "$tmp/demo.txt" | cut -c1-150 | sed 's/^/   /'
echo "   records decoded by capnp: $(wc -l < "$tmp/demo.txt")"
