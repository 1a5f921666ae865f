// Tries each deny-list syscall with arguments that are harmless if the
// filter let it through; prints "name errno" for each.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static void Try(const char* name, long nr, long a, long b, long c, long d, long e) {
  errno = 0;
  long r = syscall(nr, a, b, c, d, e);
  if (r == 0 && nr == SYS_clone) _exit(0);  // unfiltered clone: the child leaves
  printf("%s %d\n", name, r < 0 ? errno : 0);
}

int main(void) {
  const long bad = -1, nx = (long)"/nonexistent-sandtrace";
  Try("io_uring_setup", 425, 1, 0, 0, 0, 0);
  Try("io_uring_enter", 426, bad, 0, 0, 0, 0);
  Try("io_uring_register", 427, bad, 0, 0, 0, 0);
  Try("ptrace", SYS_ptrace, 0x4206 /*PTRACE_SEIZE*/, bad, 0, 0, 0);
  Try("process_vm_writev", SYS_process_vm_writev, getpid(), 0, 0, 0, 0);
  Try("mount", SYS_mount, nx, nx, 0, 0, 0);
  Try("umount2", SYS_umount2, nx, 0, 0, 0, 0);
  Try("open_tree", 428, bad, 0, 0, 0, 0);
  Try("move_mount", 429, bad, 0, bad, 0, 0);
  Try("fsopen", 430, 0, 0, 0, 0, 0);
  Try("fsconfig", 431, bad, 0, 0, 0, 0);
  Try("fsmount", 432, bad, 0, 0, 0, 0);
  Try("fspick", 433, bad, 0, 0, 0, 0);
  Try("mount_setattr", 442, bad, 0, 0, 0, 0);
  Try("open_tree_attr", 467, bad, 0, 0, 0, 0);
  Try("pivot_root", SYS_pivot_root, nx, nx, 0, 0, 0);
  Try("chroot", SYS_chroot, nx, 0, 0, 0, 0);
  Try("unshare", SYS_unshare, CLONE_NEWUTS, 0, 0, 0, 0);
  Try("setns", SYS_setns, bad, 0, 0, 0, 0);
  Try("clone", SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
  Try("clone3", 435, 0, 0, 0, 0, 0);
  Try("open_by_handle_at", SYS_open_by_handle_at, bad, 0, 0, 0, 0);
  Try("bpf", SYS_bpf, 0, 0, 0, 0, 0);
  Try("perf_event_open", SYS_perf_event_open, 0, 0, -1, -1, 0);
  Try("userfaultfd", SYS_userfaultfd, 0x80000 /*O_CLOEXEC*/, 0, 0, 0, 0);
  Try("keyctl", SYS_keyctl, 0, 0, 0, 0, 0);
  Try("add_key", SYS_add_key, 0, 0, 0, 0, 0);
  Try("request_key", SYS_request_key, 0, 0, 0, 0, 0);
  Try("create_module", 174, 0, 0, 0, 0, 0);
  Try("init_module", SYS_init_module, 0, 0, 0, 0, 0);
  Try("finit_module", SYS_finit_module, bad, 0, 0, 0, 0);
  Try("delete_module", SYS_delete_module, nx, 0, 0, 0, 0);
  Try("kexec_load", SYS_kexec_load, 0, 0, 0, 0, 0);
  Try("kexec_file_load", SYS_kexec_file_load, bad, bad, 0, 0, 0);
  Try("seccomp", SYS_seccomp, 1 /*SET_MODE_FILTER*/, 8 /*NEW_LISTENER*/, 0, 0, 0);
  Try("swapon", SYS_swapon, nx, 0, 0, 0, 0);
  Try("swapoff", SYS_swapoff, nx, 0, 0, 0, 0);
  Try("reboot", SYS_reboot, 0, 0, 0, 0, 0);
  Try("iopl", SYS_iopl, 0, 0, 0, 0, 0);
  Try("ioperm", SYS_ioperm, 0, 0, 0, 0, 0);
  return 0;
}
