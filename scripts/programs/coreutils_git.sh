# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay).
set -e
mkdir -p src/a src/b; for i in 1 2 3; do echo "file $i" > src/a/f$i; done; ln src/a/f1 src/b/hard; ln -s ../a/f2 src/b/soft
tar cf t.tar src; mkdir x; tar xf t.tar -C x; ls -li x/src/a/f1 x/src/b/hard | awk '{print $3}'
diff -r src x/src && echo same
printf 'a\nb\n' > p1; printf 'a\nc\n' > p2; diff -u p1 p2 > d.patch || true; patch p1 < d.patch >/dev/null; cat p1
sort -o p2 -r p2; cat p2
install -D -m 755 p1 deep/er/p1; stat -c '%a %n' deep/er/p1
mv src/a src/b/; ls src/b
ln -sf p2 p1link; ln -sfn p1 p1link; readlink p1link
touch -r t.tar ref; test ref -nt t.tar || echo same-time
chmod -R go-rwx src; stat -c %a src/b/a/f3
find x -name 'f*' -delete; find x | sort
du -s src >/dev/null && echo du
cp --reflink=auto t.tar t2.tar && cmp t.tar t2.tar && echo reflink
rm -rf x src; ls
git init -q r && cd r && git config user.email a@b && git config user.name n && echo 1 > a && git add a && git commit -qm 1 && git gc -q && git status --short && git log --oneline | wc -l
cd .. && git clone -q r r2 && ls r2
