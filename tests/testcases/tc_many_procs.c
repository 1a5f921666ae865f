// Forks argv[1] (default 1000) short-lived children, each exiting with
// i % 7, and checks every status. Prints "ok N" or the first mismatch.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  for (int i = 0; i < n; ++i) {
    pid_t p = fork();
    if (p < 0) { perror("fork"); return 1; }
    if (p == 0) _exit(i % 7);
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != i % 7) {
      printf("bad status for child %d\n", i);
      return 1;
    }
  }
  printf("ok %d\n", n);
  return 0;
}
