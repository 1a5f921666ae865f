# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay):
# file semantics: a removed cwd, mmap, fexecve, AF_UNIX, O_EXCL, hard links, rename over an
# open file, sparse files, fchdir, O_PATH, xattrs, many entries, cp -al, concurrent appends.
set -e
echo base > lower1; mkdir -p ld/sub; echo in > ld/sub/f
mkdir -p a/b && cd a/b && mv ../../a ../../c && pwd -P | sed "s|$OLDPWD|X|" | sed 's|.*/||' && cd ../..
mkdir gone && cd gone && rmdir ../gone && { pwd -P 2>&1 || echo "pwd failed"; } | sed 's|.*/||'; cd ..
python3 - <<'PY'
import os, mmap, socket, threading
with open("mm", "wb") as f: f.write(b"0" * 4096)
fd = os.open("mm", os.O_RDWR); m = mmap.mmap(fd, 4096)
os.pwrite(fd, b"XY", 0); print(m[:2]); m[2:4] = b"ZW"; m.flush(); print(os.pread(fd, 4, 0)); m.close(); os.close(fd)
# fexecve of a file made in the run
with open("ex.sh", "w") as f: f.write("#!/bin/sh\necho fexecve-ok\n")
os.chmod("ex.sh", 0o755)
pid = os.fork()
if pid == 0:
    fd = os.open("ex.sh", os.O_RDONLY)
    os.execve(fd, ["ex.sh"], dict(os.environ))
os.waitpid(pid, 0)
# unix socket bound by a relative name in the workdir
s = socket.socket(socket.AF_UNIX); s.bind("sock"); s.listen(1)
def serve():
    c, _ = s.accept(); c.sendall(c.recv(10).upper()); c.close()
t = threading.Thread(target=serve); t.start()
c = socket.socket(socket.AF_UNIX); c.connect("sock"); c.sendall(b"hello"); print(c.recv(10)); c.close(); t.join(); s.close()
print(os.path.exists("sock"), os.stat("sock").st_mode >> 12)
# O_EXCL on a lower file, O_CREAT without EXCL keeps contents
try: os.open("lower1", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
except FileExistsError: print("EEXIST")
fd = os.open("lower1", os.O_CREAT | os.O_WRONLY | os.O_APPEND); os.write(fd, b"more\n"); os.close(fd)
print(open("lower1").read().split())
# hard link of a lower file shares the inode after writes through either name
os.link("lower1", "lower1.hl"); open("lower1.hl", "a").write("via-link\n")
print(open("lower1").read().split(), os.stat("lower1").st_ino == os.stat("lower1.hl").st_ino, os.stat("lower1").st_nlink)
# rename over an open file: the old fd still reads the old bytes
with open("victim", "w") as f: f.write("old")
fd = os.open("victim", os.O_RDONLY)
with open("newer", "w") as f: f.write("new")
os.rename("newer", "victim"); print(os.pread(fd, 3, 0), open("victim").read()); os.close(fd)
# sparse file
with open("sparse", "wb") as f: f.truncate(1 << 30)
print(os.stat("sparse").st_size, os.stat("sparse").st_blocks < 100)
# directory fd + openat + fchdir into a lower directory then write there
dfd = os.open("ld/sub", os.O_RDONLY | os.O_DIRECTORY)
os.fchdir(dfd); open("made-here", "w").write("x"); print(sorted(os.listdir("."))); os.chdir("../.."); os.close(dfd)
# O_PATH fd of a lower file, fstat through it, then openat via /proc/self/fd
p = os.open("lower1", os.O_PATH); print(os.stat(f"/proc/self/fd/{p}").st_size); 
print(open(f"/proc/self/fd/{p}").read().split()[0]); os.close(p)
# xattrs
try:
    os.setxattr("lower1", "user.k", b"v"); print(os.getxattr("lower1", "user.k"), os.listxattr("lower1"))
except OSError as e: print("xattr", e.errno)
# utime on a symlink itself
os.symlink("lower1", "sl"); os.utime("sl", ns=(1, 2_000_000_000), follow_symlinks=False); print(os.lstat("sl").st_mtime_ns)
# many entries in one directory, listed
os.mkdir("many")
for i in range(3000): open(f"many/f{i:05d}", "w").close()
os.unlink("ld/sub/f"); print(len(os.listdir("many")), os.listdir("ld/sub"))
PY
cp -al ld ldcopy && stat -c %h ldcopy/sub/made-here
echo a > app; (for i in 1 2 3 4 5; do echo x$i >> app; done &) ; for i in 1 2 3 4 5; do echo y$i >> app; done; wait; sleep 0.2; wc -l < app
chmod -R go-rwx ld && stat -c %a ld ld/sub
