// Directory reading through the view: telldir/seekdir, rewinddir, a shared
// offset through dup, small getdents64 buffers, legacy getdents, and
// entries removed while reading. Prints sorted names so runs compare.
// Usage: cow_dirents DIR
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cmp(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

static void print_sorted(const char* label, char** names, int n) {
  qsort(names, n, sizeof *names, cmp);
  printf("%s:", label);
  for (int i = 0; i < n; ++i) printf(" %s", names[i]);
  printf("\n");
}

static int read_all(DIR* d, char** out, int max) {
  int n = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL && n < max) out[n++] = strdup(e->d_name);
  return n;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  static char* a[4096];
  static char* b[4096];
  DIR* d = opendir(argv[1]);
  if (!d) return 3;
  int n = read_all(d, a, 4096);
  print_sorted("all", a, n);
  rewinddir(d);
  int n2 = read_all(d, b, 4096);
  printf("rewind-same-count %d\n", n2 == n);
  // telldir/seekdir: the tail after the 5th entry twice.
  rewinddir(d);
  for (int i = 0; i < 5; ++i) readdir(d);
  long pos = telldir(d);
  int t1 = read_all(d, a, 4096);
  seekdir(d, pos);
  int t2 = read_all(d, b, 4096);
  int same = t1 == t2;
  for (int i = 0; same && i < t1; ++i) same = strcmp(a[i], b[i]) == 0;
  printf("seekdir-same-tail %d (%d)\n", same, t1 == n - 5);
  closedir(d);

  // Raw getdents64, one small buffer at a time, through two dups.
  int fd = open(argv[1], O_RDONLY | O_DIRECTORY);
  int fd2 = dup(fd);
  char buf[64];
  int count = 0;
  for (int round = 0;; ++round) {
    long r = syscall(SYS_getdents64, (round & 1) ? fd2 : fd, buf, sizeof buf);
    if (r <= 0) break;
    for (long off = 0; off < r;) {
      struct dirent64* e = (struct dirent64*)(buf + off);
      ++count;
      off += e->d_reclen;
    }
  }
  printf("getdents64-small-dup %d\n", count == n);
  close(fd2);
  // Legacy getdents.
  lseek(fd, 0, SEEK_SET);
  char big[65536];
  long r = syscall(SYS_getdents, fd, big, sizeof big);
  int legacy = 0;
  for (long off = 0; off < r;) {
    unsigned short reclen = *(unsigned short*)(big + off + 16);
    ++legacy;
    off += reclen;
  }
  printf("getdents-legacy %d\n", legacy == n);
  close(fd);

  // Remove every entry while reading: terminates, deletes all.
  d = opendir(argv[1]);
  struct dirent* e;
  int removed = 0;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      char p[4096];
      snprintf(p, sizeof p, "%s/%s", argv[1], e->d_name);
      removed += unlink(p) == 0;
    }
  }
  closedir(d);
  d = opendir(argv[1]);
  int left = read_all(d, a, 4096);
  closedir(d);
  printf("removed-all %d left %d\n", removed == n - 2, left);
  return 0;
}
