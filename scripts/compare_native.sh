#!/bin/bash
# Runs each SCRIPT (a bash script) three ways and says where they differ:
#   1. natively, in a fresh empty directory;
#   2. under `trace run` (commit on success) in another fresh directory of
#      the same path length;
#   3. under `trace record` in a third one, then `trace replay` of the trace.
# Compared: exit status, stdout, stderr (the directory's path replaced by
# DIR), and the trees left behind (type, mode, size, symlink target of every
# entry; directory sizes and .git/objects directory names left out). The
# replay must say "identical". Differences that come from time or
# randomness (timestamps inside archives, git object names, the private
# TMPDIR's name) are the reader's to judge.
#
#   scripts/compare_native.sh [-b BUILD_DIR] SCRIPT...     (default: build)
#
# Exit status: 0 when every script matched, 1 otherwise.
set -u
BUILD=build
if [ "${1:-}" = "-b" ]; then
  BUILD=$2
  shift 2
fi
[ $# -gt 0 ] || { echo "usage: $0 [-b BUILD_DIR] SCRIPT..." >&2; exit 2; }
TRACE=$(cd "$BUILD" 2>/dev/null && pwd)/bin/trace
[ -x "$TRACE" ] || { echo "$0: $TRACE not built" >&2; exit 2; }

WORK=$(mktemp -d /tmp/sandtrace-compare-XXXXXX)
trap 'rm -rf "$WORK"' EXIT INT TERM

# type mode size target path, sorted by path (the directory itself as DIR)
tree_of() {
  (cd "$1" && find . -printf '%y %m %s %l %p\n' | sed "s#$1#DIR#g" |
    awk '$1 == "d" { $3 = "-" } { print }' |
    grep -v '^d .* \./\(.*/\)\?\.git/objects/' | sort -k5)
}

status=0
for script in "$@"; do
  s=$(readlink -f "$script")
  [ -r "$s" ] || { echo "$script: cannot read it"; status=1; continue; }
  rm -rf "$WORK"/n "$WORK"/c "$WORK"/r
  mkdir "$WORK"/n "$WORK"/c "$WORK"/r
  (cd "$WORK"/n && bash "$s" >"$WORK"/n.out 2>"$WORK"/n.err; echo "exit $?" >>"$WORK"/n.out)
  (cd "$WORK"/c && "$TRACE" run -- bash "$s" >"$WORK"/c.out 2>"$WORK"/c.err
   echo "exit $?" >>"$WORK"/c.out)
  (cd "$WORK"/r && "$TRACE" record -o "$WORK"/t.capnp -- bash "$s" >/dev/null 2>&1)
  sed -i "s#$WORK/n#DIR#g" "$WORK"/n.out "$WORK"/n.err
  sed -i "s#$WORK/c#DIR#g" "$WORK"/c.out "$WORK"/c.err
  verdict=""
  if ! diff "$WORK"/n.out "$WORK"/c.out >"$WORK"/d.out; then verdict="$verdict stdout"; fi
  if ! diff "$WORK"/n.err "$WORK"/c.err >"$WORK"/d.err; then verdict="$verdict stderr"; fi
  if ! diff <(tree_of "$WORK"/n) <(tree_of "$WORK"/c) >"$WORK"/d.tree; then
    verdict="$verdict tree"
  fi
  "$TRACE" replay "$WORK"/t.capnp >"$WORK"/replay.txt 2>&1
  replay=$(sed -n 's/^verdict: //p' "$WORK"/replay.txt)
  [ "$replay" = "identical" ] || verdict="$verdict replay(${replay:-failed})"
  if [ -z "$verdict" ]; then
    echo "$script: same as natively; replay identical"
    continue
  fi
  status=1
  echo "$script: differs in:$verdict"
  for part in out err tree; do
    [ -s "$WORK"/d.$part ] && sed -n '1,20s/^/  /p' "$WORK"/d.$part
  done
  case "$verdict" in
    *replay*) grep -E '^(event|replay:|diverged)' "$WORK"/replay.txt | head -10 | sed 's/^/  /' ;;
  esac
done
exit $status
