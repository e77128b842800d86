/* linger-test: mx_linger returns as soon as the peer's input ends, even
   with an old EAGAIN left in errno (a read of 0 sets no errno: taking
   the stale value for "nothing yet" made it spin out its whole wait).
   Measured in CPU time, which a busy machine does not inflate. */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "mx_linger.h"
#include "tap.h"

static double cpu_seconds (void)
{
  struct timespec t ;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) ;
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9 ;
}

int main (void)
{
  int sv[2] ;
  double t0, used ;
  char name[100] ;
  if (!tap_ok(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair")) return tap_done() ;
  close(sv[1]) ;          /* the peer is gone: its end of input is there */
  errno = EAGAIN ;        /* what a failed non-blocking read left behind */
  t0 = cpu_seconds() ;
  mx_linger(sv[0], sv[0], 1000) ;
  used = cpu_seconds() - t0 ;
  snprintf(name, sizeof name, "returns at the end of input (%.3f s of CPU, not the 1 s wait)", used) ;
  tap_ok(used < 0.3, name) ;
  return tap_done() ;
}
