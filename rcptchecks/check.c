/* check: see check.h. */
#include "check.h"

#include <string.h>
#include <strings.h>

#include <skalibs/strerr.h>

#include "mx_log.h"
#include "mx_secs.h"
#include "mx_text.h"
#include "rcptaddr.h"

extern char const *PROG ;

#define SHOWN_MAX 200   /* address or text as shown in a reply or a log line */

static size_t say (char *reply, char const *a, char const *b, char const *c)
{
  size_t n = 0 ;
  char const *part[3] = { a, b, c } ;
  unsigned int i ;
  for (i = 0 ; i < 3 ; i++)
  {
    size_t l ;
    if (!part[i]) continue ;
    l = strlen(part[i]) ;
    if (l > CHECK_REPLYMAX - 2 - n) l = CHECK_REPLYMAX - 2 - n ;
    memcpy(reply + n, part[i], l) ;
    n += l ;
  }
  reply[n++] = '\r' ; reply[n++] = '\n' ;
  return n ;
}

static void logit (check const *c, char const *shown, char const *result, unsigned int delay, char const *detail)
{
  char d[MX_SECS_FMT] ;
  mx_secs_fmt(d, delay) ;
  if (detail) mx_warn(c->ip, "rcpt=<", shown, "> result=", result, c->dryrun ? " dryrun=1" : "", " error=", detail) ;
  else mx_info(c->ip, "rcpt=<", shown, "> result=", result, c->dryrun ? " dryrun=1" : "", " delay=", d) ;
}

/* a postmaster or abuse address, which a blocklisted client may still
   reach at a local domain (RFC 5321 4.5.1, RFC 2142) */
static int is_role (char const *addr)
{
  char const *at = strrchr(addr, '@') ;
  size_t n = at ? (size_t)(at - addr) : strlen(addr) ;
  return (n == 10 && !strncasecmp(addr, "postmaster", 10)) || (n == 5 && !strncasecmp(addr, "abuse", 5)) ;
}

enum check_verdict check_rcpt (check *c, char const *arg, size_t len, char *reply, size_t *replylen, unsigned int *delay)
{
  char addr[RCPTADDR_MAX + 1], shown[SHOWN_MAX + 1] ;
  static rcptaddr_keys k ;   /* 15 KB: off the stack */
  int local = 0, found = 0, n ;
  unsigned int i ;

  c->rcpts++ ;
  n = rcptaddr_parse(arg, len, addr) ;
  if (n < 0)
  {
    mx_text_safe(shown, SHOWN_MAX, arg, len) ;
    *delay = c->dryrun ? 0 : tarpit_rcpt(&c->tp, 0) ;
    logit(c, shown, "syntax", *delay, 0) ;
    if (c->dryrun) { c->forwarded++ ; return CHECK_FORWARD ; }
    c->refused++ ;
    *replylen = say(reply, "501 5.1.3 bad recipient address syntax", 0, 0) ;
    return CHECK_REFUSE ;
  }
  mx_text_safe(shown, SHOWN_MAX, addr, (size_t)n) ;

  if (rcptaddr_keys_make(addr, c->delimiter, c->src->keep_case, &k))
  {
    int r = source_domain(c->src, k.domain) ;
    if (r < 0) goto tempfail ;
    local = r ;
  }

  if (c->rbllate && !(local && is_role(addr)) && strcasecmp(addr, "postmaster"))
  {
    char text[SHOWN_MAX + 1] ;
    char const *t = c->rbllate ;
    int permanent = *t == '-' ;
    while (*t == '-') t++ ;
    mx_text_safe(text, SHOWN_MAX, t, strlen(t)) ;
    *delay = c->dryrun ? 0 : tarpit_rcpt(&c->tp, 0) ;
    c->failures = 0 ;
    logit(c, shown, "rbllate", *delay, 0) ;
    if (c->dryrun) { c->forwarded++ ; return CHECK_FORWARD ; }
    c->refused++ ;
    *replylen = say(reply, permanent ? "553 5.7.1 " : "451 4.7.1 ", text, 0) ;
    return CHECK_REFUSE ;
  }

  if (local)
    for (i = 0 ; i < k.n && !found ; i++)
    {
      int r = source_address(c->src, k.key[i]) ;
      if (r < 0) goto tempfail ;
      found = r ;
    }
  c->failures = 0 ;
  if (!local || found)
  {
    *delay = c->dryrun ? 0 : tarpit_rcpt(&c->tp, 0) ;
    c->forwarded++ ;
    return CHECK_FORWARD ;
  }

  c->unknown++ ;
  if (c->dryrun)
  {
    logit(c, shown, "unknown", 0, 0) ;
    *delay = 0 ;
    c->forwarded++ ;
    return CHECK_FORWARD ;
  }
  *delay = tarpit_rcpt(&c->tp, 1) ;
  logit(c, shown, "unknown", *delay, 0) ;
  c->refused++ ;
  *replylen = say(reply, "550 5.1.1 <", shown, ">: no mailbox here by that name") ;
  if (!tarpit_full(&c->tp)) return CHECK_REFUSE ;
  *replylen += say(reply + *replylen, "421 4.7.0 too many unknown recipients, closing connection", 0, 0) ;
  return CHECK_CLOSE ;

 tempfail:
  c->tempfail++ ;
  c->failures++ ;
  *delay = c->dryrun ? 0 : tarpit_rcpt(&c->tp, 0) ;
  logit(c, shown, "tempfail", *delay, c->src->err) ;
  if (c->dryrun) { c->forwarded++ ; return CHECK_FORWARD ; }
  *replylen = say(reply, "451 4.3.0 unable to check the recipient now, try again later", 0, 0) ;
  if (c->failures < CHECK_MAX_FAILURES) return CHECK_REFUSE ;
  *replylen += say(reply + *replylen, "421 4.3.0 recipient database unavailable, closing connection", 0, 0) ;
  return CHECK_CLOSE ;
}
