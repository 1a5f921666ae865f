// Prints 16 bytes from getrandom(2) in hex.
#include <stdio.h>
#include <sys/random.h>

int main(void) {
  unsigned char buf[16];
  if (getrandom(buf, sizeof buf, 0) != (ssize_t)sizeof buf) return 1;
  for (int i = 0; i < 16; ++i) printf("%02x", buf[i]);
  printf("\n");
  return 0;
}
