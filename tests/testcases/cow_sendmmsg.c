// sendmmsg of datagrams to AF_UNIX sockets bound by relative paths in the
// current directory (in the sandbox: made in this run, so in the upper
// layer), sending until every message went (sendmmsg may send fewer than
// asked), then what each socket received, the msg_len of every message and
// the error for a socket that does not exist. Prints the results.
// Usage: cow_sendmmsg
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int Bound(const char* path) {
  int s = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strcpy(a.sun_path, path);
  if (bind(s, (struct sockaddr*)&a, sizeof a) != 0) perror("bind");
  return s;
}

int main(void) {
  int r1 = Bound("r1"), r2 = Bound("r2");
  int s = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un to[3] = {{AF_UNIX, "r1"}, {AF_UNIX, "r2"}, {AF_UNIX, "r1"}};
  const char* text[3] = {"one", "two!", "three"};
  struct iovec iov[3];
  struct mmsghdr m[3];
  memset(m, 0, sizeof m);
  for (int i = 0; i < 3; ++i) {
    iov[i].iov_base = (void*)text[i];
    iov[i].iov_len = strlen(text[i]);
    m[i].msg_hdr.msg_name = &to[i];
    m[i].msg_hdr.msg_namelen = sizeof to[i];
    m[i].msg_hdr.msg_iov = &iov[i];
    m[i].msg_hdr.msg_iovlen = 1;
  }
  for (int sent = 0; sent < 3;) {
    int n = sendmmsg(s, m + sent, 3 - sent, 0);
    if (n <= 0) {
      perror("sendmmsg");
      return 1;
    }
    sent += n;
  }
  for (int i = 0; i < 3; ++i) printf("msg_len[%d] = %u\n", i, m[i].msg_len);
  char buf[64];
  for (int k = 0; k < 2; ++k) {
    ssize_t n = recv(r1, buf, sizeof buf, 0);
    printf("r1 got %.*s\n", (int)n, buf);
  }
  ssize_t n = recv(r2, buf, sizeof buf, 0);
  printf("r2 got %.*s\n", (int)n, buf);
  struct sockaddr_un missing = {AF_UNIX, "missing"};
  struct mmsghdr b = {
      .msg_hdr = {
          .msg_name = &missing, .msg_namelen = sizeof missing, .msg_iov = iov, .msg_iovlen = 1}};
  if (sendmmsg(s, &b, 1, 0) < 0) printf("to a missing socket: %s\n", strerror(errno));
  return 0;
}
