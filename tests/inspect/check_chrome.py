# Validates a Chrome trace-event export: argv[1] = the JSON file, argv[2] =
# the number of notifications (complete slices) expected. Prints a one-line
# summary; exits 1 with the reason on the first problem.
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.load(f)
events = doc["traceEvents"]
slices = [e for e in events if e.get("ph") == "X"]
for e in slices:
    for key in ("ts", "dur", "pid", "tid", "name"):
        if key not in e:
            sys.exit("slice without %s: %r" % (key, e))
    if not isinstance(e["ts"], (int, float)) or e["dur"] < 0:
        sys.exit("bad ts/dur: %r" % e)
    if "decision" not in e.get("args", {}):
        sys.exit("slice without a decision arg: %r" % e)
if len(slices) != int(sys.argv[2]):
    sys.exit("expected %s slices, found %d" % (sys.argv[2], len(slices)))
opened = {}
for e in events:
    if e.get("ph") == "b":
        opened[e["id"]] = opened.get(e["id"], 0) + 1
    elif e.get("ph") == "e":
        opened[e["id"]] = opened.get(e["id"], 0) - 1
if any(v != 0 for v in opened.values()):
    sys.exit("unbalanced process slices: %r" % opened)
threads = {e["tid"] for e in events if e.get("ph") == "M" and e["name"] == "thread_name"}
if threads != {e["tid"] for e in slices}:
    sys.exit("thread names %r do not cover the slice tids" % threads)
print("ok %d slices %d processes %d threads" % (len(slices), len(opened), len(threads)))
