/* mx_refuse: see mx_refuse.h. */
#include "mx_refuse.h"

#include <string.h>
#include <strings.h>

static int verb_is (mx_refuse const *r, char const *verb)
{
  size_t n = strlen(verb) ;
  return r->len >= n && !strncasecmp(r->head, verb, n)
    && (r->len == n || r->head[n] == ' ' || r->head[n] == '\r') ;
}

static size_t line (char *out, char const *a, char const *b)
{
  size_t n = strlen(a), m = b ? strnlen(b, MX_REFUSE_HOST_MAX) : 0 ;
  memcpy(out, a, n) ;
  if (m) memcpy(out + n, b, m) ;
  memcpy(out + n + m, "\r\n", 2) ;
  return n + m + 2 ;
}

size_t mx_refuse_greeting (char const *host, char *out)
{
  return line(out, "220 ", host) ;
}

size_t mx_refuse_step (mx_refuse *r, char const *buf, size_t len, size_t *used, char const *host, char *out, int *end)
{
  size_t i, n ;
  *end = 0 ;
  for (i = 0 ; i < len && buf[i] != '\n' ; i++)
  {
    if (r->len < sizeof r->head) r->head[r->len] = buf[i] ;
    if (r->len <= sizeof r->head) r->len++ ;   /* more than a verb: "longer" */
  }
  if (i == len) { *used = len ; return 0 ; }
  *used = i + 1 ;
  if (verb_is(r, "QUIT")) { *end = 1 ; n = line(out, "221 ", host) ; }
  else if (verb_is(r, "HELO") || verb_is(r, "EHLO")) n = line(out, "250 ", host) ;
  else if (verb_is(r, "RSET") || verb_is(r, "NOOP")) n = line(out, "250 ok", 0) ;
  else n = line(out, MX_REFUSE_REPLY, 0) ;
  r->len = 0 ;
  if (!*end && ++r->commands >= MX_REFUSE_MAX_COMMANDS)
  {
    *end = 1 ;
    n += line(out + n, "421 too many commands, closing", 0) ;
  }
  return n ;
}
