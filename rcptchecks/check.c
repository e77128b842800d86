/* check: see check.h. */
#include "check.h"

#include <string.h>
#include <strings.h>

#include <skalibs/strerr.h>

#include "mx_log.h"
#include "mx_secs.h"
#include "mx_text.h"
#include "rcptaddr.h"
#include "mx_smtp.h"

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
  char const *helo = c->env ? c->env->helo : "", *from = c->env ? c->env->from : "" ;
  int dry = c->dryrun || (c->greyword && !strcmp(result, "greylisted") && c->greywarn) ;
  mx_secs_fmt(d, delay) ;
  if (detail) mx_warn(c->ip, "helo=<", helo, "> from=<", from, "> rcpt=<", shown, "> result=", result, c->dryrun ? " dryrun=1" : "", " error=", detail) ;
  else
  {
    /* the transaction's SPF result, last: the report reads the line from its end */
    char const *sw = c->env ? spf_word(&c->env->spf) : 0 ;
    mx_info(c->ip, "helo=<", helo, "> from=<", from, "> rcpt=<", shown, "> result=", result, dry ? " dryrun=1" : "", " delay=", d,
            c->greyword ? " greylist=" : "", c->greyword ? c->greyword : "", sw ? " spf=" : "", sw ? sw : "") ;
  }
}

/* a postmaster or abuse address, which a blocklisted client may still
   reach at a local domain (RFC 5321 4.5.1, RFC 2142) */
static int is_role (char const *addr)
{
  char const *at = strrchr(addr, '@') ;
  size_t n = at ? (size_t)(at - addr) : strlen(addr) ;
  return (n == 10 && !strncasecmp(addr, "postmaster", 10)) || (n == 5 && !strncasecmp(addr, "abuse", 5)) ;
}

/* A refusal before any lookup: bad syntax or parameters. */
static enum check_verdict refuse_syntax (check *c, char const *arg, size_t len, char const *why, char const *text, char *reply, size_t *replylen, unsigned int *delay)
{
  char shown[SHOWN_MAX + 1] ;
  mx_text_safe(shown, SHOWN_MAX, arg, len) ;
  *delay = c->dryrun ? 0 : tarpit_rcpt(&c->tp, 0) ;
  logit(c, shown, why, *delay, 0) ;
  if (c->dryrun) { c->forwarded++ ; return CHECK_FORWARD ; }
  c->refused++ ;
  *replylen = say(reply, text, 0, 0) ;
  return CHECK_REFUSE ;
}

enum check_verdict check_rcpt (check *c, char const *arg, size_t len, unsigned int offered, int utf8, char *reply, size_t *replylen, unsigned int *delay)
{
  static rcptaddr a ;
  static rcptaddr_keys k ;   /* 15 KB: off the stack */
  char addr[2 * RCPTADDR_MAX + 2], shown[SHOWN_MAX + 1] ;
  char const *domain ;
  int local = 0, found = 0 ;
  unsigned int i ;
  enum rcptaddr_form form ;

  c->rcpts++ ;
  form = rcptaddr_parse8(arg, len, utf8, &a) ;
  switch (form)
  {
    case RCPTADDR_NOTUTF8 :
      return refuse_syntax(c, arg, len, "notutf8", "501 5.1.3 recipient address is not valid UTF-8", reply, replylen, delay) ;
    case RCPTADDR_NEEDUTF8 :
      return refuse_syntax(c, arg, len, "needutf8", "553 5.6.7 non-ASCII addresses not permitted for that recipient", reply, replylen, delay) ;
    case RCPTADDR_BAD :
      return refuse_syntax(c, arg, len, "syntax", "501 5.1.3 bad recipient address syntax", reply, replylen, delay) ;
    case RCPTADDR_NODOMAIN :
      if (!c->qualify) return refuse_syntax(c, arg, len, "nodomain", "501 5.1.3 the recipient address must have a domain", reply, replylen, delay) ;
      domain = c->qualify ; local = 1 ;
      break ;
    case RCPTADDR_LITERAL :
      if (!c->literal) return refuse_syntax(c, arg, len, "literal", "501 5.1.3 address literals are not accepted here", reply, replylen, delay) ;
      domain = c->literal ; local = 1 ;
      break ;
    default :
      domain = a.domain ;
      break ;
  }
  if (a.paramslen && !smtp_params_ok(arg + a.params, a.paramslen, offered, 1))
    return refuse_syntax(c, arg, len, "parameter", "555 5.5.4 RCPT parameter not recognised", reply, replylen, delay) ;

  if (form == RCPTADDR_POSTMASTER)
  {
    memcpy(addr, "postmaster", 11) ;
    local = 0 ;
  }
  else
  {
    size_t ll = strlen(a.local), dl = strlen(domain) ;
    memcpy(addr, a.local, ll) ;
    addr[ll] = '@' ;
    memcpy(addr + ll + 1, domain, dl + 1) ;
    if (!rcptaddr_keys_make(addr, c->delimiter, c->src->keep_case, &k)) return refuse_syntax(c, arg, len, "syntax", "501 5.1.3 bad recipient address syntax", reply, replylen, delay) ;
    if (!local)
    {
      int r = source_domain(c->src, k.domain) ;
      if (r < 0) goto tempfail ;
      local = r ;
    }
  }
  mx_text_safe(shown, SHOWN_MAX, addr, strlen(addr)) ;

  if (c->rbllate && !(c->env && c->env->sender_ok) && !(local && is_role(addr)) && form != RCPTADDR_POSTMASTER)
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
  if (found && c->greyrcpt && c->env)
  {
    int g = c->greyrcpt(c->grey, c->env, addr, reply, replylen, &c->greyword) ;
    if (g)
    {
      *delay = c->dryrun ? 0 : tarpit_rcpt(&c->tp, 0) ;
      logit(c, shown, "greylisted", *delay, 0) ;
      c->greyword = 0 ;
      if (g < 0 || c->dryrun) { c->forwarded++ ; return CHECK_FORWARD ; }
      c->refused++ ;
      return CHECK_REFUSE ;
    }
  }
  if (!local || found)
  {
    *delay = c->dryrun ? 0 : tarpit_rcpt(&c->tp, 0) ;
    c->forwarded++ ;
    logit(c, shown, found ? "known" : form == RCPTADDR_POSTMASTER ? "postmaster" : "foreign", *delay, 0) ;
    c->greyword = 0 ;
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
  mx_text_safe(shown, SHOWN_MAX, addr, strlen(addr)) ;
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
