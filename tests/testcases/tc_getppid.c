// Prints what getppid() returns, argv[1] times (default once).
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 1;
  long last = 0;
  for (long i = 0; i < n; ++i) last = getppid();
  printf("%ld\n", last);
  return 0;
}
