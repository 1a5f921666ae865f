// mktree DIR DIRS FILES BYTES: DIRS directories of FILES files of BYTES
// bytes each (the benchmark tree of compare.sh).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: mktree DIR DIRS FILES BYTES\n");
    return 2;
  }
  int dirs = atoi(argv[2]), files = atoi(argv[3]), bytes = atoi(argv[4]);
  char* data = malloc((size_t)bytes + 1);
  memset(data, 'x', (size_t)bytes);
  char path[4096];
  if (mkdir(argv[1], 0755) != 0) {
    perror(argv[1]);
    return 1;
  }
  for (int d = 0; d < dirs; ++d) {
    snprintf(path, sizeof path, "%s/d%03d", argv[1], d);
    if (mkdir(path, 0755) != 0) return 1;
    for (int f = 0; f < files; ++f) {
      snprintf(path, sizeof path, "%s/d%03d/f%03d", argv[1], d, f);
      int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || write(fd, data, (size_t)bytes) != bytes) return 1;
      close(fd);
    }
  }
  free(data);
  return 0;
}
