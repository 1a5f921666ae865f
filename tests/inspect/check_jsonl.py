# Validates `trace dump --json` output: every line is one JSON object with
# exactly one record member, events carry "syscall". Prints the number of
# records by kind, e.g. "event=14 footer=1 header=1 process=5".
import collections
import json
import sys

counts = collections.Counter()
with open(sys.argv[1], encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
        obj = json.loads(line)
        kinds = [k for k in obj if k != "syscall"]
        if len(kinds) != 1:
            sys.exit("line %d: expected one record member, got %r" % (n, kinds))
        if kinds[0] == "event" and not isinstance(obj.get("syscall"), str):
            sys.exit("line %d: event without syscall" % n)
        counts[kinds[0]] += 1
print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))
