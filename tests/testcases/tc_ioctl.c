// Calls ioctl(0, CMD) for each hexadecimal CMD argument (a 64-bit value, so
// the high half the kernel ignores can be set) with a zeroed buffer as the
// argument, and prints "CMD ERRNO" per call (0: success).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    unsigned long cmd = strtoul(argv[i], NULL, 16);
    long buf[64] = {0};
    long r = syscall(SYS_ioctl, 0, cmd, buf);
    printf("%s %d\n", argv[i], r < 0 ? errno : 0);
  }
  return 0;
}
