// Makes an i386-ABI syscall (int $0x80, getpid = 20); under the filter the
// process must be killed (another arch). Prints "survived <ret>" otherwise.
#include <stdio.h>

int main(void) {
  printf("before\n");
  fflush(stdout);
  long ret = 20;
  __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
  printf("survived %ld\n", ret);
  return 0;
}
