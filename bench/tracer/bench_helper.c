// Workloads for the tracer benchmarks.
//   loop getppid|getrandom|open N   N calls of one syscall (open: the path
//                                   /sandtrace-bench, then close)
//   mktree DIR D F B                D dirs x F files of B bytes under DIR
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "loop") == 0) {
    long n = atol(argv[3]);
    char buf[16];
    for (long i = 0; i < n; ++i) {
      if (strcmp(argv[2], "getppid") == 0) {
        getppid();
      } else if (strcmp(argv[2], "getrandom") == 0) {
        if (getrandom(buf, sizeof buf, 0) != (ssize_t)sizeof buf) return 1;
      } else {
        int fd = open("/sandtrace-bench", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) close(fd);
      }
    }
    return 0;
  }
  if (argc == 6 && strcmp(argv[1], "mktree") == 0) {
    int dirs = atoi(argv[3]), files = atoi(argv[4]), bytes = atoi(argv[5]);
    char path[4096], data[4096];
    memset(data, 'x', sizeof data);
    if (mkdir(argv[2], 0755) != 0) return 1;
    for (int d = 0; d < dirs; ++d) {
      snprintf(path, sizeof path, "%s/d%03d", argv[2], d);
      if (mkdir(path, 0755) != 0) return 1;
      for (int f = 0; f < files; ++f) {
        snprintf(path, sizeof path, "%s/d%03d/f%03d", argv[2], d, f);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data, bytes) != bytes) return 1;
        close(fd);
      }
    }
    return 0;
  }
  fprintf(stderr, "usage: %s loop getppid|getrandom|open N | mktree DIR D F B\n", argv[0]);
  return 2;
}
