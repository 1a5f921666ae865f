# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay):
# shell features (fd redirections, here-docs, process substitution, noclobber, traps, coproc)
# and text and archive tools working in place.
set -e
seq 1 100 > base.txt; mkdir -p arc; echo a > arc/a; echo b > arc/b
tar cf lower.tar arc/a
exec 3<>rw.txt; echo "via fd3" >&3; exec 3>&-; cat rw.txt
cat <<'HD' > heredoc.txt
line one
line two
HD
wc -l < heredoc.txt
diff <(sort -r base.txt | head -3) <(tail -3 base.txt | sort -r) && echo procsub
set -C; (echo x > base.txt) 2>/dev/null || echo noclobber; echo y >| base2.txt; set +C
while read -r n; do [ $((n % 25)) -eq 0 ] && echo "$n" >> quarters.txt; done < base.txt; cat quarters.txt | tr '\n' ' '; echo
( trap 'rm -f trapped.tmp' EXIT; touch trapped.tmp; ls trapped.tmp ); ls trapped.tmp 2>/dev/null || echo trap-cleaned
sleep 0.05 & sleep 0.01 & wait -n; wait
coproc UPPER { tr a-z A-Z; }; echo hello >&"${UPPER[1]}"; exec {UPPER[1]}>&-; read -r got <&"${UPPER[0]}"; echo "$got"; wait
find arc -type f -exec cat {} + | tr '\n' ' '; echo
printf 'x\0y\0' | xargs -0 -I{} touch xa-{} && ls xa-*
sort -u -o base.txt base.txt && wc -l < base.txt
tee -a tee.txt < heredoc.txt > /dev/null; tee -a tee.txt < heredoc.txt > /dev/null; wc -l < tee.txt
tar rf lower.tar arc/b && tar tf lower.tar | tr '\n' ' '; echo
cp base.txt gz.txt && gzip gz.txt && cp base.txt gz.txt && gzip -f gz.txt && ls gz.txt*
cp -u base.txt cpu.txt && cp -u base.txt cpu.txt && echo cp-u
echo v1 > bk.txt && echo v2 > bk2.txt && mv -b bk2.txt bk.txt && cat bk.txt bk.txt~
mkdir -p links/deep && ln -sr base.txt links/deep/rel && readlink links/deep/rel && cat links/deep/rel | head -1
realpath --relative-to=links/deep base.txt
touch -c nothere && ls nothere 2>/dev/null || echo touch-c
dd if=/dev/zero of=base.txt bs=1 seek=3 count=2 conv=notrunc status=none && head -c 6 base.txt | od -An -c
truncate -r heredoc.txt tr.txt && stat -c %s tr.txt heredoc.txt
shred -u -n 1 tee.txt && ls tee.txt 2>/dev/null || echo shredded
split -n 3 heredoc.txt sp. && ls sp.* | wc -l
csplit -s -f cs. base.txt 3 && ls cs.* | tr '\n' ' '; echo
printf '.ONESHELL:\nall: | outdir\n\tcd outdir\n\techo in > f\noutdir:\n\tmkdir -p $@\nclean:\n\trm -rf outdir\n' > Makefile
make -s && cat outdir/f && make -s -B && make -s clean && ls outdir 2>/dev/null || echo cleaned
mkfifo ff && (echo through-fifo > ff &) && cat ff
ln -s missing-target dangling && [ -L dangling ] && ! [ -e dangling ] && echo dangling-ok
ls -la --time-style=+ | awk '{print $1, $NF}' | sort | head -50 | md5sum | cut -c1-8 > /dev/null
