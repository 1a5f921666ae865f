# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay):
# the workdir reached from its parent (git -C, make -C, tar -C, find, cp, mv, python, rm -r).
set -e
export GIT_AUTHOR_DATE=2001-01-01T00:00:00Z GIT_COMMITTER_DATE=2001-01-01T00:00:00Z
w=$(basename "$PWD")
git init -q repo && echo a > repo/a
cd ..
git -C "$w/repo" add a && git -C "$w/repo" -c user.email=a@b -c user.name=n commit -qm one && git -C "$w/repo" log --oneline | wc -l
make -s -C "$w" -f /dev/stdin <<'MK'
all:
	@echo made > out.txt
MK
cat "$w/out.txt"
tar cf "$w/w.tar" -C "$w" repo/a out.txt && tar tf "$w/w.tar" | sort | tr '\n' ' '; echo
find "$w" -name '*.txt' | sed "s|^$w/||" | sort
(cd "$w/repo" && git status --short | wc -l)
cp "$w/out.txt" "$w/copy.txt" && mv "$w/copy.txt" "$w/moved.txt" && ls "$w" | tr '\n' ' '; echo
python3 -c "import os,sys; w=sys.argv[1]; os.makedirs(w+'/p/q'); open(w+'/p/q/f','w').write('x'); print(os.listdir(w+'/p/q'))" "$w"
rm -r "$w/p" && ls "$w" | tr '\n' ' '; echo
