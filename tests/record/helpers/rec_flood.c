// Calls getrandom(2) for 64 KiB, argv[1] times (forever if absent or 0),
// then prints how many calls succeeded. Under `--seed`, every call is a
// notification whose 64 KiB payload the recorder stores: a trace that grows
// fast (disk-full tests).
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

int main(int argc, char** argv) {
  static unsigned char buf[65536];
  long n = argc > 1 ? atol(argv[1]) : 0;
  long done = 0;
  for (long i = 0; n == 0 || i < n; ++i) {
    if (getrandom(buf, sizeof buf, 0) > 0) ++done;
  }
  printf("%ld\n", done);
  return 0;
}
