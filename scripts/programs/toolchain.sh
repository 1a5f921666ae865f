# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay).
set -e
export GIT_AUTHOR_DATE=2001-01-01T00:00:00Z GIT_COMMITTER_DATE=2001-01-01T00:00:00Z
printf 'int f(void){return 1;}\n' > a.c; printf 'int f(void); int main(void){return f()-1;}\n' > m.c
gcc -flto -frandom-seed=1 -O2 -c a.c m.c && gcc -flto -O2 -o lto a.o m.o && ./lto && echo lto
gcc -save-temps -c a.c && ls a.i a.s a.o | wc -l
gcc -o s m.c a.c && strip s && ./s && echo strip
objcopy --only-keep-debug s s.dbg && objcopy --add-gnu-debuglink=s.dbg s && echo objcopy
ar rcs lib.a a.o && ar t lib.a && ar d lib.a a.o && ar t lib.a | wc -l
echo orig > target && ln -s target sl && sed -i --follow-symlinks s/orig/new/ sl && cat target && test -L sl && echo still-link
sed -i s/new/newer/ sl && test ! -L sl && cat sl target
cp --preserve=all target pres && stat -c '%a %Y' target pres | uniq | wc -l
mkdir dd && touch -d 2000-01-01 dd && stat -c %y dd | cut -c1-4
ln -s target sl2 && chmod 600 sl2 && stat -c %a target
git init -q hk && cd hk && git config user.email a@b && git config user.name n
printf '#!/bin/sh\necho hook ran >&2\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit
echo x > x && git add x && git commit -qm c 2>&1 && cd ..
python3 -m py_compile a.c 2>/dev/null || echo "pyc refused"
mkdir za && echo 'print("zipapp")' > za/__main__.py && python3 -m zipapp za -o za.pyz && python3 za.pyz
printf 'all: gen.mk\n\t@echo $(X)\ngen.mk:\n\t@echo X=generated > gen.mk\ninclude gen.mk\n' > Makefile && make -s
