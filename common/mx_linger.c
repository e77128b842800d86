/* mx_linger: see mx_linger.h. */
#include "mx_linger.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

static long long now_ms (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_MONOTONIC, &ts) ;
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 ;
}

void mx_linger (int rfd, int wfd, unsigned int ms)
{
  long long end = now_ms() + ms ;
  shutdown(wfd, SHUT_WR) ;
  for (;;)
  {
    char buf[4096] ;
    struct pollfd x = { .fd = rfd, .events = POLLIN } ;
    long long left = end - now_ms() ;
    int e ;
    if (left <= 0) return ;
    e = poll(&x, 1, (int)left) ;
    if (e < 0 && errno == EINTR) continue ;
    if (e <= 0) return ;
    {
      /* errno means something only when read() says -1: at the end of
         the input it may still hold an EAGAIN from long ago */
      ssize_t r = read(rfd, buf, sizeof buf) ;
      if (!r || (r < 0 && errno != EAGAIN && errno != EINTR)) return ;
    }
  }
}
