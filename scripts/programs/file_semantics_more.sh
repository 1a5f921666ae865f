# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay):
# link counts, perl -i, ln -sfn, dd/truncate/fallocate in place, touch, setgid dirs (as root),
# mv -T, xargs -P, make -j8, dup offsets.
set -e
mkdir -p d/s1 && echo data > d/f && seq 1 1000 > big
stat -c '%h %n' d
mkdir d/s2 d/s3 && rmdir d/s1 && stat -c '%h %n' d . && mkdir -p n/a/b && stat -c '%h' n n/a
perl -pi -e 's/data/perl/' d/f && cat d/f
perl -i.bak -pe 's/^1$/one/' big && head -1 big big.bak | tr '\n' ' '; echo
ln -s d dl && ln -sfn n dl && readlink dl && ln -sfn d dl && ls dl/
dd if=/dev/zero of=big bs=1 count=4 seek=2 conv=notrunc status=none && head -c 8 big | od -c | head -1
truncate -s 100 big && stat -c %s big && fallocate -l 8192 big && stat -c %s big
fallocate -p -o 0 -l 4096 big && od -c big | head -1
touch -d '2030-01-01 00:00:00' future && stat -c %y future | cut -c1-10
touch -h -d '2001-01-01' dl && stat -c %y dl | cut -c1-4
if [ "$(id -u)" = 0 ]; then mkdir sg && chgrp daemon sg && chmod g+s sg && touch sg/x && mkdir sg/y && stat -c '%G %A' sg/x sg/y; fi
chmod u+s d/f && stat -c %A d/f
mkdir -p mvt/a mvt/b && echo 1 > mvt/a/one && mv -T mvt/a mvt/b && ls mvt mvt/b
seq 1 50 | xargs -P4 -I{} sh -c 'echo {} > par.{}' && ls par.* | wc -l
mkdir -p src2 && for i in $(seq 1 30); do echo "int f$i(void){return $i;}" > src2/f$i.c; done
printf 'OBJS=$(patsubst %%.c,%%.o,$(wildcard src2/*.c))\nall: lib.a\nlib.a: $(OBJS)\n\tar rcs $@ $^\n' > Makefile && make -s -j8 && ar t lib.a | wc -l
find . -newer big -type f | wc -l > /dev/null
python3 -c '
import os
fd = os.open("d/f", os.O_RDONLY); fd2 = os.dup(fd); os.lseek(fd, 2, 0); print(os.lseek(fd2, 0, 1))
os.close(fd); os.close(fd2)
r, w = os.pipe(); os.set_inheritable(w, True); print(os.fstat(r).st_mode >> 12)
fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY); print(sorted(os.listdir(fd))[:3]); os.close(fd)
print(os.path.samefile("d", "dl"), os.path.realpath("dl").endswith("/d"))
os.truncate("d/f", 2); print(open("d/f").read())
'
