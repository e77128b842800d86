/* verbs: see verbs.h. Each handler decides on one command, with no
 * I/O: the engine moves the bytes.
 */
#include "verbs.h"

#include <string.h>

#include "mx_utf8.h"
#include "rcptaddr.h"

static enum verb_act answer (verb_call *v, char const *text)
{
  v->text = text ;
  v->textlen = strlen(text) ;
  return VERB_ACT_LOCAL ;
}

/* A trusted client's MAIL or RCPT argument (n bytes) goes to the server
   as written, but for 8-bit bytes: not UTF-8, or UTF-8 in a transaction
   that did not declare SMTPUTF8 (declared), no server may be given it
   (RFC 6531 3.7.4.1): the refusal, or 0. */
static char const *trusted_utf8 (char const *arg, size_t n, int declared, int rcpt)
{
  enum mx_utf8_kind k = mx_utf8_kind(arg, n) ;
  if (k == MX_UTF8_ASCII) return 0 ;
  if (k == MX_UTF8_BAD)
    return rcpt ? "501 5.1.3 recipient address is not valid UTF-8\r\n" : "501 5.1.7 sender address is not valid UTF-8\r\n" ;
  if (declared) return 0 ;
  return rcpt ? "553 5.6.7 non-ASCII addresses not permitted for that recipient\r\n"
    : "553 5.6.7 non-ASCII addresses not permitted for that sender\r\n" ;
}

static enum verb_act rcpt (verb_call *v)
{
  char const *arg = v->line + v->arg ;
  size_t n = v->len - v->arg ;
  if (v->trusted)
  {
    /* the server decides, as for its own trusted clients; only what no
       server may be given is refused (RFC 6531) */
    char const *no = trusted_utf8(arg, n, v->env->smtputf8, 1) ;
    return no ? answer(v, no) : VERB_ACT_PASS ;
  }
  switch (check_rcpt(v->chk, arg, n, v->offered, v->env->smtputf8, v->reply, &v->textlen, &v->delay))
  {
    case CHECK_FORWARD : return VERB_ACT_PASS ;
    case CHECK_CLOSE :
      v->close = v->chk->failures ? "lookups-failed" : "too-many-unknown" ;
      /* fall through */
    case CHECK_REFUSE :
    default :
      v->text = v->reply ;
      return VERB_ACT_LOCAL ;
  }
}

/* MAIL: its path parsed once (rcptaddr_mailfrom8), and what was found
   given to the envelope's stage */
static enum verb_act mail (verb_call *v)
{
  char const *arg = v->line + v->arg ;
  size_t n = v->len - v->arg ;
  rcptaddr_from f ;
  enum rcptaddr_mail r = rcptaddr_mailfrom8(arg, n, &f) ;
  if (v->trusted)
  {
    /* SMTPUTF8 declared by a MAIL in our grammar; any other goes to the
       server as written, if it is ASCII */
    int utf8 = r == RCPTADDR_MAIL_OK && f.utf8 ;
    char const *no = trusted_utf8(arg, n, utf8, 0) ;
    if (no) return answer(v, no) ;
    v->env->smtputf8 = utf8 ;
    return VERB_ACT_PASS ;
  }
  /* a second MAIL inside a transaction is refused here, as the server
     would: the envelope's sender stays the transaction's */
  if (v->env->in_transaction) return answer(v, "503 5.5.1 Error: nested MAIL command\r\n") ;
  switch (r)
  {
    case RCPTADDR_MAIL_BAD : return answer(v, "501 5.1.7 bad sender address syntax\r\n") ;
    case RCPTADDR_MAIL_NOTUTF8 : return answer(v, "501 5.1.7 sender address is not valid UTF-8\r\n") ;
    case RCPTADDR_MAIL_NEEDUTF8 : return answer(v, "553 5.6.7 non-ASCII addresses not permitted for that sender\r\n") ;
    default : break ;
  }
  if (f.paramslen && !smtp_params_ok(arg + f.params, f.paramslen, v->offered, 0))
    return answer(v, "555 5.5.4 MAIL parameter not recognised\r\n") ;
  if (!envelope_mail(v->env, arg, &f, v->reply, &v->textlen)) { v->text = v->reply ; return VERB_ACT_LOCAL ; }
  v->env->in_transaction = 1 ;
  v->env->smtputf8 = f.utf8 ;
  return VERB_ACT_PASS ;
}

/* EHLO and HELO: the name is remembered (and judged at MAIL) */
static enum verb_act helo (verb_call *v)
{
  envelope_helo(v->env, v->line + v->arg, v->len - v->arg) ;
  return VERB_ACT_PASS ;
}

static enum verb_act rset (verb_call *v)
{
  envelope_reset(v->env) ;
  return VERB_ACT_PASS ;
}

static enum verb_act vrfy (verb_call *v) { return answer(v, "252 2.5.2 send some mail, I will try my best\r\n") ; }
static enum verb_act starttls (verb_call *v) { return answer(v, "502 5.5.1 STARTTLS not available here\r\n") ; }
static enum verb_act bdat (verb_call *v) { return answer(v, "502 5.5.1 BDAT not available here, use DATA\r\n") ; }
static enum verb_act unknown (verb_call *v) { return answer(v, "502 5.5.1 command not recognised\r\n") ; }

verb_row const verbs[] =
{
  { VERB_UNKNOWN, unknown, 0, O_LOCAL },
  { VERB_HELO, helo, V_HOLD, O_HELO },
  { VERB_EHLO, helo, V_HOLD, O_EHLO },
  { VERB_MAIL, mail, V_GROUP, O_MAIL },
  { VERB_RCPT, rcpt, V_GROUP, O_OTHER },
  { VERB_DATA, 0, V_HOLD, O_DATA },
  { VERB_RSET, rset, V_GROUP, O_OTHER },
  { VERB_NOOP, 0, 0, O_OTHER },
  { VERB_QUIT, 0, V_HOLD | V_LAST, O_QUIT },
  { VERB_HELP, 0, 0, O_OTHER },
  { VERB_VRFY, vrfy, 0, O_LOCAL },
  { VERB_AUTH, 0, V_HOLD | V_LONG, O_AUTH },
  { VERB_STARTTLS, starttls, 0, O_LOCAL },
  { VERB_BDAT, bdat, 0, O_LOCAL },
} ;

unsigned int const verbs_n = sizeof verbs / sizeof *verbs ;
