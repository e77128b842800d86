/* refuse: see refuse.h. Reads under one deadline (mx_wait, on
 * mx_now_ms's clock), writes small replies (a hostile client that never
 * reads can fill at most 100 short lines into its socket buffer); what
 * each line is answered is mx_refuse's.
 */
#include "refuse.h"

#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/gccattributes.h>

#include "mx_linger.h"
#include "mx_refuse.h"
#include "mx_secs.h"
#include "mx_wait.h"

static long long deadline ;   /* mx_now_ms */

/* Leaves without losing what was said (mx_linger.h): a second at most,
   and never past the session's deadline. */
static void leave (void) gccattr_noreturn ;
static void leave (void)
{
  long long left = deadline - mx_now_ms() ;
  mx_linger(0, 1, left <= 0 ? 0 : left < 1000 ? (unsigned int)left : 1000) ;
  _exit(0) ;
}

static void say (char const *s, size_t n)
{
  /* a client that is gone cannot be told anything: ignore errors */
  if (allwrite(1, s, n) < n) _exit(0) ;
}

void refuse_conversation (char const *host, unsigned int seconds)
{
  mx_refuse rf = MX_REFUSE_ZERO ;
  char out[MX_REFUSE_REPLY_MAX] ;
  deadline = mx_now_ms() + 1000LL * seconds ;
  say(out, mx_refuse_greeting(host, out)) ;
  for (;;)
  {
    char buf[4096] ;
    ssize_t r ;
    size_t i = 0 ;
    if (mx_wait_readable(0, deadline) <= 0) _exit(0) ;   /* deadline: just close */
    r = read(0, buf, sizeof buf) ;
    if (r <= 0) _exit(0) ;
    while (i < (size_t)r)
    {
      size_t used ;
      int end ;
      size_t n = mx_refuse_step(&rf, buf + i, (size_t)r - i, &used, host, out, &end) ;
      i += used ;
      if (n) say(out, n) ;
      if (end) leave() ;
    }
  }
}
