# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay).
set -e
mkdir -p d/sub && echo a > d/a && echo b > d/b && ln d/a d/hard && ln -s a d/sl
echo seed > d/existing
python3 - <<'PY'
import os
# change the directory so its listing is served by the supervisor
open("d/new", "w").write("n")
with open("d/existing", "a") as f: f.write("more")
os.rename("d/b", "d/b2")
bad = []
for e in os.scandir("d"):
    st = os.stat(e.path, follow_symlinks=False)
    if e.inode() != st.st_ino: bad.append(e.name)
print("d_ino mismatches:", sorted(bad))
print(os.path.samefile("d/a", "d/hard"), os.stat("d/a").st_nlink)
print(os.path.samefile("d/existing", "d/existing"))
PY
find d -samefile d/a | sort
ls -i d | awk '{print $2}' | sort | tr '\n' ' '; echo
set -o noclobber; (echo x > d/a) 2>/dev/null || echo noclobber-refused; echo y >| d/a; cat d/a; set +o noclobber
exec {fd}<>d/rw; echo hello >&$fd; exec {fd}>&-; cat d/rw
mkdir -p bin && printf '#!/bin/sh\necho from-path\n' > bin/tool && chmod +x bin/tool
PATH="$PWD/bin:$PATH"; command -v tool | sed "s#$PWD#P#"; tool; hash -r; type tool | sed "s#$PWD#P#"
printf 'X=sourced\n' > inc.sh && . ./inc.sh && echo $X
mapfile -t lines < d/a; echo ${#lines[@]}
stat -f -c %T . > /dev/null && df . > /dev/null && echo fs-ok
cp --sparse=always d/a sparse && truncate -r d/rw sparse && stat -c %s sparse
ln -sT d/sub link2 && mv -T link2 link3 && readlink link3
install -d -m 700 deep/one/two && stat -c %a deep/one/two
dd if=d/a of=d/dd conv=fsync status=none && cat d/dd
