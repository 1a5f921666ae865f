// Lowers RLIMIT_NOFILE to the fds already open, then opens argv[1]: an
// injected fd cannot be installed, so the open must fail (EMFILE).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int fd = open("/dev/null", O_RDONLY);  // the lowest free fd
  struct rlimit rl = {fd, fd};            // no fd >= this can be created
  if (fd < 0 || setrlimit(RLIMIT_NOFILE, &rl) != 0) return 2;
  int r = open(argv[1], O_RDONLY);
  printf("open %d errno %d\n", r, r < 0 ? errno : 0);
  return 0;
}
