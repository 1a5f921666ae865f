# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay).
set -e
seq 1 2000 > nums; split -l 500 nums part_; ls part_* | wc -l
csplit -s -f cs nums 100 200 && ls cs* | wc -l
dd if=/dev/zero of=nums bs=1 count=4 seek=10 conv=notrunc status=none; head -c 20 nums | od -c | head -2
fallocate -l 1M big && stat -c %s big && fallocate -p -o 0 -l 4096 big && fallocate -d big; stat -c %s big
truncate -s 10 big; truncate -s +5 big; stat -c %s big
shred -n 1 -u big; ls big 2>/dev/null || echo shredded
sort -r -o nums nums; head -1 nums
echo a | tee -a nums | tail -1; tail -1 nums
mkdir -p tree/x/y && touch tree/x/y/z tree/t && cp -al tree tree_links && stat -c %h tree/t
cp -rs "$PWD/tree" tree_sym && readlink tree_sym/t | sed "s#$PWD#P#"
echo v1 > bk && echo v2 > bk2 && mv -b bk2 bk && cat bk bk~
ln -sr tree/x/y/z zlink && readlink zlink
touch -h -d 2001-01-01 zlink && stat -c %y zlink | cut -c1-10
find tree -type f -exec sh -c 'echo found $1' _ {} \; | sort
printf '%s\n' a b c d | xargs -P 2 -I{} touch px_{} && ls px_* | wc -l
find . -name 'px_*' -print0 | xargs -0 rm; ls px_* 2>/dev/null | wc -l
mkfifo pipe && (echo through > pipe &) && cat pipe
realpath tree/x/../t | sed "s#$PWD#P#"
rm -rf tree_links tree/x && ls tree
chmod u+s,g+s px 2>/dev/null || true; umask 077 && touch private && stat -c %a private
install -m 4755 /bin/true suid && stat -c %a suid
cat nums | md5sum > sum && md5sum -c sum 2>/dev/null || md5sum sum | cut -c1-5
