/* refuse: see refuse.h. Reads with iopause under one deadline, writes
 * small replies (a hostile client that never reads can fill at most
 * 100 short lines into its socket buffer).
 */
#include "refuse.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/gccattributes.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>

#include "mx_linger.h"

#define LINE_MAX_BYTES 1000
#define MAX_COMMANDS 100

static tain deadline ;

/* Leaves without losing what was said (mx_linger.h): a second at most,
   and never past the session's deadline. */
static void leave (void) gccattr_noreturn ;
static void leave (void)
{
  tain left ;
  unsigned int ms = 0 ;
  tain_now_g() ;
  if (tain_less(&STAMP, &deadline))
  {
    tain_sub(&left, &deadline, &STAMP) ;
    ms = tain_to_millisecs(&left) < 1000 ? (unsigned int)tain_to_millisecs(&left) : 1000 ;
  }
  mx_linger(0, 1, ms) ;
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
  tain_now_set_stopwatch_g() ;
  tain_addsec_g(&deadline, seconds) ;
  say("220 ", host) ;
  for (;;)
  {
    char buf[4096] ;
    iopause_fd x = { .fd = 0, .events = IOPAUSE_READ } ;
    ssize_t r ;
    size_t i ;
    int e = iopause_g(&x, 1, &deadline) ;
    if (e < 0 && errno != EINTR) _exit(0) ;
    if (!e) _exit(0) ;                      /* deadline: just close */
    if (!(x.revents & (IOPAUSE_READ | IOPAUSE_EXCEPT))) continue ;
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
