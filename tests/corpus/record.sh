#!/bin/sh
# Re-records the golden corpus (`make corpus`; argument: the build dir):
# one tests/corpus/<name>.capnp per workload below, each recorded with
# `trace record` in a fresh copy of the same small starting tree.
#
# The traces are checked in. The Corpus tests (tests/replay/corpus_test.cc)
# and the replay benchmarks replay every one of them and require zero
# divergences, so a change in a handler's decisions shows up as a failing
# test. Re-record only after a deliberate change of behaviour, and say so
# in the commit.
#
# The workdirs get long paths on purpose: replay stands in scratch paths of
# the same length (replay/scratch.h), which must fit under $TMPDIR or /tmp.
set -eu
BUILD=$(cd "${1:-build}" && pwd)
TRACE="$BUILD/bin/trace"
cd "$(dirname "$0")"
CORPUS=$(pwd)
tmp=$(mktemp -d /tmp/sandtrace-corpus.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# The starting tree, with fixed contents and times.
setup_tree() {
  mkdir -p "$1/src" "$1/notes"
  printf 'b\na\nc\n' > "$1/data.txt"
  printf 'old\n' > "$1/old.txt"
  printf '# notes\n' > "$1/notes/readme.md"
  printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' > "$1/src/main.c"
  head -c 65536 /dev/zero | tr '\0' x > "$1/big.bin"
  ln -s data.txt "$1/link"
  find "$1" -exec touch -h -d '2024-01-01 00:00:00 UTC' {} +
}

# record NAME [trace record options...] -- SCRIPT
record() {
  name=$1
  shift
  work="$tmp/golden-corpus-workdir-$name"
  mkdir "$work"
  setup_tree "$work"
  status=0
  (cd "$work" && "$TRACE" record -o "$CORPUS/$name.capnp" --no-process-events "$@") \
    > "$tmp/$name.out" 2>&1 || status=$?
  events=$("$TRACE" info "$CORPUS/$name.capnp" | sed -n 's/^records: .*(events \([0-9]*\).*/\1/p')
  printf '%-10s exit %-3s %6s events %8s bytes\n' "$name" "$status" "$events" \
    "$(wc -c < "$CORPUS/$name.capnp")"
}

record shell --discard -- sh -c \
  'echo new > new.txt; sed -i s/a/z/ data.txt; mkdir -p out/sub; cp data.txt out/sub/;
   rm old.txt; ls -la > listing.txt; mv new.txt out/; cat link > /dev/null;
   cd out/sub && pwd -P > ../where.txt'
record listing --discard -- sh -c \
  'touch notes/todo.md; rm notes/readme.md; ls -l notes > /dev/null; mkdir tmpd;
   touch tmpd/x tmpd/y; ls tmpd > /dev/null; find . -name "*.md" > /dev/null; rm -r tmpd;
   ls -a > /dev/null'
record seed --discard --seed 42 -- sh -c \
  'head -c 64 /dev/urandom > rand.bin; od -An rand.bin > rand.txt'
record quota --discard --quota 16K -- sh -c \
  'echo small > small.txt; echo more >> big.bin; echo $? > status.txt'
record commit --commit -- sh -c \
  'mkdir -p build && printf x > build/out.o && chmod 600 data.txt && ln -s ../data.txt build/link &&
   rm old.txt && mv notes docs'
if command -v cc > /dev/null 2>&1; then
  record compile --discard -- sh -c 'cc -O0 -o hello_program src/main.c && ./hello_program > hello.out'
fi
