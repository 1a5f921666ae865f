// 64 threads each make argv[1] (default 200) getppid + open/close calls
// concurrently; prints "ok" if every call gave the expected result.
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long iterations = 200;
static pid_t parent;

static void* Work(void* arg) {
  for (long i = 0; i < iterations; ++i) {
    if (getppid() != parent) return (void*)1;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || close(fd) != 0) return (void*)1;
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1) iterations = atol(argv[1]);
  parent = getppid();
  pthread_t t[64];
  for (int i = 0; i < 64; ++i) pthread_create(&t[i], NULL, Work, NULL);
  int bad = 0;
  for (int i = 0; i < 64; ++i) {
    void* r;
    pthread_join(t[i], &r);
    bad += r != NULL;
  }
  printf(bad ? "failed %d\n" : "ok\n", bad);
  return bad != 0;
}
