# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay).
yes | head -3
timeout 0.2 sleep 5; echo "timeout rc=$?"
sh -c 'trap "echo trapped; exit 3" TERM; kill -TERM $$; sleep 1'; echo "trap rc=$?"
sleep 10 & p=$!; kill -STOP $p; kill -CONT $p; kill $p; wait $p; echo "bg rc=$?"
(exit 7); echo "sub rc=$?"
python3 -c '
import threading, os
def w(i):
    for j in range(50):
        with open(f"t{i}_{j}", "w") as f: f.write(str(j))
        os.rename(f"t{i}_{j}", f"r{i}_{j}")
ts = [threading.Thread(target=w, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(len([n for n in os.listdir(".") if n.startswith("r")]))
'
mkdir sub && cd sub && pwd | sed 's#.*/##' && cd .. && rmdir sub
ulimit -n 64; python3 -c 'import os; fds=[os.open("/dev/null", 0) for _ in range(100)]' 2>&1 | tail -1
echo $((1+1)) > calc && exec 3>>calc && echo more >&3 && exec 3>&- && cat calc
nohup sh -c 'echo nohup' > nh.out 2>&1; cat nh.out
