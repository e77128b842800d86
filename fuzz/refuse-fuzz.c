/* refuse-fuzz: libFuzzer harness for mx_refuse_step, the answers given
 * to a client refused for talking first (smtp-delay, smtp-screen). The
 * input's first byte splits the rest into chunks (1 to 256 bytes, as
 * reads would), the rest is what the client sent. Aborts when an answer
 * differs from a model written here on whole lines (the verb compared
 * case-insensitively, followed by nothing, a space or CR), when a reply
 * is not one CRLF-ended line (two for the 100th command: its answer and
 * the 421), when bytes are taken past a LF or none are taken, when the
 * conversation goes on after QUIT or the 100th command, or when a reply
 * overruns MX_REFUSE_REPLY_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mx_refuse.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static int is (char const *line, size_t len, char const *verb)
{
  size_t n = strlen(verb) ;
  return len >= n && !strncasecmp(line, verb, n) && (len == n || line[n] == ' ' || line[n] == '\r') ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static char const host[] = "mx.example.org" ;
  char out[MX_REFUSE_REPLY_MAX + 64], want[MX_REFUSE_REPLY_MAX + 64] ;
  mx_refuse rf = MX_REFUSE_ZERO ;
  size_t chunk, i = 0, linestart, commands = 0 ;
  char const *s ;
  if (!size) return 0 ;
  chunk = (size_t)data[0] + 1 ;
  s = (char const *)data + 1 ; size-- ;
  linestart = 0 ;
  while (i < size)
  {
    size_t len = size - i < chunk ? size - i : chunk, used = 0, n ;
    int end = 7 ;
    memset(out, 0x5a, sizeof out) ;
    n = mx_refuse_step(&rf, s + i, len, &used, host, out, &end) ;
    check(used >= 1 && used <= len) ;
    check(out[MX_REFUSE_REPLY_MAX] == 0x5a) ;
    check(end == 0 || end == 1) ;
    if (!n)
    {
      check(!memchr(s + i, '\n', len) && used == len && !end) ;
      i += used ;
      continue ;
    }
    /* a whole line ended at s[i + used - 1] */
    check(s[i + used - 1] == '\n' && !memchr(s + i, '\n', used - 1)) ;
    {
      char const *line = s + linestart ;
      size_t ll = i + used - 1 - linestart, w ;
      int quit = is(line, ll, "QUIT") ;
      if (quit) w = (size_t)(stpcpy(stpcpy(want, "221 "), host) - want) ;
      else if (is(line, ll, "HELO") || is(line, ll, "EHLO")) w = (size_t)(stpcpy(stpcpy(want, "250 "), host) - want) ;
      else if (is(line, ll, "RSET") || is(line, ll, "NOOP")) w = (size_t)(stpcpy(want, "250 ok") - want) ;
      else w = (size_t)(stpcpy(want, MX_REFUSE_REPLY) - want) ;
      memcpy(want + w, "\r\n", 2) ; w += 2 ;
      if (!quit && ++commands >= MX_REFUSE_MAX_COMMANDS)
      {
        memcpy(want + w, "421 too many commands, closing\r\n", 32) ; w += 32 ;
      }
      check(n == w && !memcmp(out, want, w)) ;
      check(end == (quit || commands >= MX_REFUSE_MAX_COMMANDS)) ;
    }
    i += used ;
    linestart = i ;
    if (end) break ;   /* the caller stops here */
  }
  return 0 ;
}
