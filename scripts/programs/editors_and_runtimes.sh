# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay).
set -e
printf 'alpha\nbeta\n' > v.txt
vim -es -N -u NONE -c 'set backup writebackup' -c '%s/alpha/ALPHA/' -c 'wq' v.txt; cat v.txt; ls
printf 'one\ntwo\n' > e.txt; printf ',s/one/ONE/\nw\nq\n' | ed -s e.txt; cat e.txt
sqlite3 db.sqlite 'create table t(x); begin; insert into t values(1); insert into t values(2); commit; select count(*) from t;'
sqlite3 db.sqlite 'pragma journal_mode=delete; begin; insert into t values(3); rollback; select count(*) from t;'
mkdir -p proj && cd proj
cat > Makefile <<'MK'
all: app
%.o: %.c
	gcc -MMD -c $< -o $@
libx.a: x.o
	ar rcs $@ $^
libx.so: x.c
	gcc -shared -fPIC -Wl,-soname,libx.so.1 -o libx.so.1.0 x.c && ln -sf libx.so.1.0 libx.so.1 && ln -sf libx.so.1 libx.so
app: main.o libx.a libx.so
	gcc -o app main.o -L. -lx -Wl,-rpath,'$$ORIGIN'
	gcc -o app_static main.o libx.a
-include *.d
MK
echo 'int x(void){return 42;}' > x.c
printf '#include <stdio.h>\nint x(void);\nint main(void){printf("%%d\\n", x()); return 0;}\n' > main.c
make -s -j4 all && ./app && ./app_static
sleep 1.1; touch x.c; make -s -j4 all; make -q all && echo uptodate
cd ..
javac -version >/dev/null 2>&1 && { printf 'public class H { public static void main(String[] a){ System.out.println("hi " + a.length); } }\n' > H.java; javac H.java; java H 1 2; jar cf h.jar H.class; java -cp h.jar H; } || true
node -e 'const fs=require("fs"); fs.mkdirSync("nd/x",{recursive:true}); fs.writeFileSync("nd/x/a","A"); fs.cpSync("nd","nd2",{recursive:true}); fs.rmSync("nd",{recursive:true}); fs.renameSync("nd2","nd3"); console.log(fs.readdirSync("nd3/x"), fs.existsSync("nd")); const d=fs.mkdtempSync("tmpx-"); console.log(d.startsWith("tmpx-")); fs.rmdirSync(d); fs.symlinkSync("nd3","lnd"); console.log(fs.realpathSync("lnd").split("/").pop())'
perl -i.bak -pe 's/beta/BETA/' v.txt; cat v.txt v.txt.bak
perl -MFile::Find -e 'find(sub { print "$File::Find::name\n" if -f && /\.c$/ }, "proj")' | sort
perl -MFile::Temp=tempfile -e '($fh,$n)=tempfile(DIR=>"."); print $fh "x"; close $fh; rename $n, "ptemp" or die; print -s "ptemp", "\n"'
echo 'puts [file exists v.txt]; set f [open tcl.out w]; puts $f hi; close $f; file rename tcl.out tcl2.out; file mkdir tdir/sub; file copy v.txt tdir/sub; puts [glob tdir/sub/*]' | tclsh
flock lockf -c 'echo locked'
file -b v.txt proj/app
