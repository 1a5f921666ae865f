# inotify watches on a directory and a file made in the run (they live in
# the upper layer): what the run then does to them is reported, as natively.
# Prints the events; run natively and under trace by the tests.
import ctypes, os, struct, select
libc = ctypes.CDLL(None, use_errno=True)
IN_MODIFY, IN_CREATE, IN_DELETE, IN_CLOSE_WRITE = 0x2, 0x100, 0x200, 0x8
os.makedirs("made/sub", exist_ok=True)
open("made/log", "w").write("start\n")
fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
def watch(path, mask):
    wd = libc.inotify_add_watch(fd, path.encode(), mask)
    if wd < 0: print(path, "error", os.strerror(ctypes.get_errno())); return None
    return wd
wd_dir = watch("made", IN_CREATE | IN_DELETE)
wd_file = watch("made/log", IN_MODIFY)
wd_missing = watch("made/none", IN_MODIFY)
print("same wd twice:", watch("made", IN_CREATE | IN_DELETE) == wd_dir)
open("made/new.txt", "w").close(); os.unlink("made/new.txt"); os.mkdir("made/d2")
with open("made/log", "a") as f: f.write("more\n")
select.select([fd], [], [], 2)
data = os.read(fd, 65536)
names = {wd_dir: "dir", wd_file: "log"}
i = 0
out = []
while i < len(data):
    wd, mask, cookie, ln = struct.unpack_from("iIII", data, i)
    name = data[i + 16:i + 16 + ln].rstrip(b"\0").decode()
    out.append((names.get(wd, "?"), hex(mask & 0xffff), name))
    i += 16 + ln
print(out)
print("rm_watch", libc.inotify_rm_watch(fd, wd_file))
