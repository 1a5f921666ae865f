// fd-based changes on a file opened read-only from the lower layer, then a
// reopen of /proc/self/fd/N for writing. Prints each result.
// Usage: cow_fdops FILE
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static void report(const char* what, int rc) {
  printf("%s=%d%s%s\n", what, rc < 0 ? -1 : 0, rc < 0 ? " " : "",
         rc < 0 ? strerrorname_np(errno) : "");
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) return 3;
  report("fchmod", fchmod(fd, 0600));
  report("fchown", fchown(fd, getuid(), getgid()));
  struct timespec ts[2] = {{1000, 0}, {2000, 0}};
  report("futimens", futimens(fd, ts));
  report("ftruncate", ftruncate(fd, 0));
  report("fsetxattr", fsetxattr(fd, "user.k", "v", 1, 0));
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  int w = open(p, O_WRONLY | O_APPEND);
  report("reopen-write", w);
  if (w >= 0) report("write", write(w, "appended\n", 9) == 9 ? 0 : -1);
  struct stat st;
  report("fstat", fstat(fd, &st));
  return 0;
}
