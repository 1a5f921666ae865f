// Makes an x32-ABI syscall (getpid | __X32_SYSCALL_BIT); the filter must
// kill the process, so "survived" should never be printed.
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  printf("before\n");
  fflush(stdout);
  syscall(0x40000000L | SYS_getpid);
  printf("survived\n");
  return 0;
}
