// A second thread rewrites the path buffer while the main thread passes it
// to mutating syscalls: flips between `inside` (a workdir file) and
// `outside` (a file the child may not write). Usage: cow_race INSIDE OUTSIDE N
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

static char buf[4096];
static const char* paths[2];
static atomic_int stop;

static void* flipper(void* arg) {
  (void)arg;
  for (unsigned i = 0; !atomic_load(&stop); ++i) {
    const char* p = paths[i & 1];
    memcpy(buf, p, strlen(p) + 1);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  paths[0] = argv[1];
  paths[1] = argv[2];
  int n = atoi(argv[3]);
  strcpy(buf, paths[0]);
  pthread_t t;
  pthread_create(&t, NULL, flipper, NULL);
  int done = 0;
  for (int i = 0; i < n; ++i) {
    switch (i % 6) {
      case 0:
        chmod(buf, 0777);
        break;
      case 1: {
        int fd = open(buf, O_WRONLY | O_TRUNC);
        if (fd >= 0) {
          write(fd, "X", 1);
          close(fd);
        }
        break;
      }
      case 2:
        truncate(buf, 0);
        break;
      case 3:
        utimes(buf, NULL);
        break;
      case 4:
        setxattr(buf, "user.race", "1", 1, 0);
        break;
      case 5:
        chown(buf, 1, 1);
        break;
    }
    ++done;
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("done %d\n", done);
  return 0;
}
