/* mx_wait: see mx_wait.h. */
#include "mx_wait.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>

#include "mx_secs.h"

int mx_wait (int fd, short events, long long deadline)
{
  for (;;)
  {
    struct pollfd x = { .fd = fd, .events = events } ;
    long long left = deadline - mx_now_ms() ;
    int r ;
    if (left < 0) left = 0 ;
    if (left > INT_MAX) left = INT_MAX ;
    r = poll(&x, 1, (int)left) ;
    if (r > 0) return 1 ;
    if (r < 0 && errno != EINTR) return -1 ;
    if (!r && mx_now_ms() >= deadline) return 0 ;
  }
}

int mx_wait_readable (int fd, long long deadline)
{
  return mx_wait(fd, POLLIN, deadline) ;
}
