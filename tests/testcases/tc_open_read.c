// Opens argv[1] (O_RDONLY, plus O_CLOEXEC if argv[2] is "cloexec"), prints
// the first bytes read, and whether the fd is close-on-exec.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int flags = O_RDONLY | (argc > 2 && strcmp(argv[2], "cloexec") == 0 ? O_CLOEXEC : 0);
  int fd = open(argv[1], flags);
  if (fd < 0) { printf("errno %d\n", errno); return 0; }
  char buf[64] = {0};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  printf("read %zd [%s] cloexec %d\n", n, n > 0 ? buf : "", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  return 0;
}
