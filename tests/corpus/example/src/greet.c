#include <stdio.h>

int main(void) {
  puts("hello from a program built inside the sandbox");
  return 0;
}
