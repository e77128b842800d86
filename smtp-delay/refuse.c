/* refuse: see refuse.h. Reads under one deadline (mx_wait, on
 * mx_now_ms's clock), writes small replies (a hostile client that never
 * reads can fill at most 100 short lines into its socket buffer).
 */
#include "refuse.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/gccattributes.h>

#include "mx_linger.h"
#include "mx_secs.h"
#include "mx_wait.h"

#define LINE_MAX_BYTES 1000
#define MAX_COMMANDS 100

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

static void say (char const *a, char const *b)
{
  /* a client that is gone cannot be told anything: ignore errors */
  if (allwrite(1, a, strlen(a)) < strlen(a)) _exit(0) ;
  if (b && allwrite(1, b, strlen(b)) < strlen(b)) _exit(0) ;
  if (allwrite(1, "\r\n", 2) < 2) _exit(0) ;
}

static int verb_is (char const *line, size_t len, char const *verb)
{
  size_t n = strlen(verb) ;
  return len >= n && !strncasecmp(line, verb, n) && (len == n || line[n] == ' ' || line[n] == '\r') ;
}

/* one command line (without its LF) */
static void answer (char const *line, size_t len, char const *host, char const *reply)
{
  if (verb_is(line, len, "QUIT")) { say("221 ", host) ; leave() ; }
  if (verb_is(line, len, "HELO") || verb_is(line, len, "EHLO")) say("250 ", host) ;
  else if (verb_is(line, len, "RSET") || verb_is(line, len, "NOOP")) say("250 ok", 0) ;
  else say(reply, 0) ;
}

void refuse_conversation (char const *host, char const *reply, unsigned int seconds)
{
  char line[LINE_MAX_BYTES] ;
  size_t len = 0 ;
  unsigned int commands = 0 ;
  deadline = mx_now_ms() + 1000LL * seconds ;
  say("220 ", host) ;
  for (;;)
  {
    char buf[4096] ;
    ssize_t r ;
    size_t i ;
    if (mx_wait_readable(0, deadline) <= 0) _exit(0) ;   /* deadline: just close */
    r = read(0, buf, sizeof buf) ;
    if (r <= 0) _exit(0) ;
    for (i = 0 ; i < (size_t)r ; i++)
    {
      if (buf[i] != '\n')
      {
        if (len < sizeof line) line[len++] = buf[i] ;  /* longer lines are cut */
        continue ;
      }
      answer(line, len, host, reply) ;
      len = 0 ;
      if (++commands >= MAX_COMMANDS) { say("421 too many commands, closing", 0) ; leave() ; }
    }
  }
}
