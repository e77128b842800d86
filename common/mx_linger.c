/* mx_linger: see mx_linger.h. */
#include "mx_linger.h"

#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>

#include "mx_secs.h"
#include "mx_wait.h"

void mx_linger (int rfd, int wfd, unsigned int ms)
{
  long long end = mx_now_ms() + ms ;
  shutdown(wfd, SHUT_WR) ;
  for (;;)
  {
    char buf[4096] ;
    if (mx_wait_readable(rfd, end) <= 0) return ;
    {
      /* errno means something only when read() says -1: at the end of
         the input it may still hold an EAGAIN from long ago */
      ssize_t r = read(rfd, buf, sizeof buf) ;
      if (!r || (r < 0 && errno != EAGAIN && errno != EINTR)) return ;
    }
  }
}
