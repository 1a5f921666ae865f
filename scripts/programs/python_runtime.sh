# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay).
set -e
mkdir -p pkg/tests && touch pkg/__init__.py pkg/tests/__init__.py
echo 'def f(): return 1' > pkg/mod.py
printf 'import unittest\nfrom pkg import mod\nclass T(unittest.TestCase):\n    def test_f(self): self.assertEqual(mod.f(), 1)\n' > pkg/tests/test_mod.py
python3 -m unittest discover -s pkg/tests -t . 2>&1 | tail -1
python3 - <<'PY'
import importlib, os, time, sqlite3, multiprocessing as mp, json
import pkg.mod as m
print(m.f())
time.sleep(0.01)
with open("pkg/mod.py", "w") as f: f.write("def f(): return 2\n")
st = os.stat("pkg/mod.py"); os.utime("pkg/mod.py", ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
importlib.invalidate_caches(); importlib.reload(m); print(m.f())
db = sqlite3.connect("w.db"); db.execute("pragma journal_mode=wal"); db.execute("create table t(x)")
db.executemany("insert into t values (?)", [(i,) for i in range(100)]); db.commit()
db2 = sqlite3.connect("w.db"); print(db2.execute("select count(*) from t").fetchone()[0]); db2.close()
db.execute("pragma wal_checkpoint(truncate)"); db.close()
def work(i):
    with open(f"out{i}.json", "w") as f: json.dump({"i": i}, f)
    return i * i
if __name__ == "__main__":
    with mp.Pool(3) as p: print(sum(p.map(work, range(10))))
print(sorted(n for n in os.listdir(".") if n.startswith("out"))[:3])
PY
find . -name '*.pyc' | wc -l
ls w.db*
