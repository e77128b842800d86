/* wait-test: mx_wait on a pipe: the deadline kept (not early, not
   long after), input seen at once, a deadline already past still looks
   once, an end of input is "ready", and writable is writable. */
#include <poll.h>
#include <unistd.h>

#include "mx_secs.h"
#include "mx_wait.h"
#include "tap.h"

int main (void)
{
  int p[2] ;
  long long t0, t ;
  if (pipe(p) < 0) return 111 ;
  t0 = mx_now_ms() ;
  tap_ok(mx_wait_readable(p[0], t0 + 100) == 0, "nothing to read: 0 at the deadline") ;
  t = mx_now_ms() - t0 ;
  tap_ok(t >= 100 && t < 1000, "... not before it, and soon after it") ;
  t0 = mx_now_ms() ;
  /* < 1000 ms: room for a loaded machine; a past deadline taken as "no
     deadline" would block for good */
  tap_ok(mx_wait_readable(p[0], t0 - 5) == 0 && mx_now_ms() - t0 < 1000, "a deadline past, nothing to read: 0 at once") ;
  tap_ok(write(p[1], "x", 1) == 1, "a byte written") ;
  t0 = mx_now_ms() ;
  tap_ok(mx_wait_readable(p[0], t0 + 5000) == 1 && mx_now_ms() - t0 < 1000, "input: 1 at once") ;
  tap_ok(mx_wait_readable(p[0], 0) == 1, "a deadline long past still looks once: 1") ;
  tap_ok(mx_wait(p[1], POLLOUT, mx_now_ms() + 1000) == 1, "room to write: 1") ;
  close(p[1]) ;
  {
    char c ;
    tap_ok(read(p[0], &c, 1) == 1, "the byte read") ;
  }
  tap_ok(mx_wait_readable(p[0], mx_now_ms() + 5000) == 1, "the writer gone: 1 (the read says end of input)") ;
  tap_ok(mx_wait_readable(-1, mx_now_ms() + 100) == 0, "a negative fd is ignored by poll: 0 at the deadline") ;
  return tap_done() ;
}
