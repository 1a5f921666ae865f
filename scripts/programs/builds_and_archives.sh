# Build systems, archivers and text tools for scripts/compare_native.sh.
set -e
mkdir -p proj/src && cd proj
printf 'cmake_minimum_required(VERSION 3.13)\nproject(p C)\nadd_library(u STATIC src/u.c)\nadd_executable(app src/main.c)\ntarget_link_libraries(app u)\ninstall(TARGETS app DESTINATION bin)\n' > CMakeLists.txt
printf 'int u(void){return 0;}\n' > src/u.c
printf '#include <stdio.h>\nint u(void);\nint main(void){puts("app");return u();}\n' > src/main.c
cmake -S . -B b -G Ninja -DCMAKE_INSTALL_PREFIX="$PWD/inst" > /dev/null
ninja -C b > /dev/null && ./b/app
ninja -C b install > /dev/null && ./inst/bin/app
touch src/u.c && ninja -C b | grep -c Building || true
cmake -S . -B m -G "Unix Makefiles" > /dev/null && make -s -C m -j4 2>&1 | grep -v "^\[" || true; ./m/app
cd ..
mkdir -p rec/a rec/b
for d in a b; do printf 'all:\n\t@echo $(notdir $(CURDIR)) > out.txt\n' > rec/$d/Makefile; done
printf 'all:\n\t$(MAKE) -s -C a & $(MAKE) -s -C b & wait\n' > rec/Makefile
make -s -C rec -j4 >/dev/null && cat rec/a/out.txt rec/b/out.txt
seq 1 20000 > nums && cp nums n1 && cp nums n2 && cp nums n3
gzip n1 && xz n2 && bzip2 -k n3 && ls n1* n2* n3* && gunzip n1.gz && unxz n2.xz && cmp n1 nums && cmp n2 nums && echo compressors
zip -q -r z.zip proj/src nums && mkdir uz && (cd uz && unzip -q ../z.zip) && diff -r proj/src uz/proj/src && echo zip
cp nums edited && sed -i '100s/.*/changed/' edited && { diff -u nums edited > p.diff || true; } && cp nums patched && patch -b patched p.diff && cmp patched edited && ls patched.orig && echo patch
mkdir -p t1/x t2/x && echo 1 > t1/x/f && echo 2 > t2/x/f && { diff -r t1 t2 > /dev/null || echo differ; }
perl -e 'use File::Temp qw(tempfile); my ($fh,$n)=tempfile("ftXXXX", DIR=>"."); print $fh "x"; close $fh; rename $n, "perltemp" or die; print "perl\n"'
flock lockf -c 'echo locked' && ls lockf
sort -r nums -o nums && head -1 nums
split -l 5000 nums part. && ls part.* | wc -l && cat part.* | sort -n | cmp - n1 && echo split
install -D -m 755 /bin/true deep/a/b/true && ./deep/a/b/true && stat -c %a deep/a/b/true
sqlite3 db.sqlite 'PRAGMA journal_mode=WAL; create table t(x); insert into t values(1),(2);' > /dev/null && sqlite3 db.sqlite 'select sum(x) from t' && ls db.sqlite*
touch -r nums ref && test ref -nt nums || echo same-time
mkdir -p del/a/b && touch del/a/b/f del/a/g && find del -name f -delete && find del | sort
ln -f nums hard && ln -f n2 hard && stat -c %h hard nums n2
tar czf t.tgz proj/src && mkdir ut && tar xzf t.tgz -C ut && diff -r proj/src ut/proj/src && echo tgz
file -b n2 src 2>/dev/null | head -1 || true
