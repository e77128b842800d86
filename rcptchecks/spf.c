/* spf: see spf.h. The evaluation is mx_spf's; what is here is the
 * policy, the refusal's text and the Received-SPF field.
 */
#include "spf.h"

#include <string.h>
#include <time.h>

#include "mx_text.h"

int spf_policy_scan (char const *s, unsigned char *p)
{
  if (!strcmp(s, "accept")) *p = SPF_ACCEPT ;
  else if (!strcmp(s, "defer")) *p = SPF_DEFER ;
  else if (!strcmp(s, "reject")) *p = SPF_REJECT ;
  else return 0 ;
  return 1 ;
}

int spf_option (spf *f, char const *s)
{
  if (!strncmp(s, "softfail=", 9)) return spf_policy_scan(s + 9, &f->softfail) ;
  if (!strncmp(s, "permerror=", 10)) return spf_policy_scan(s + 10, &f->permerror) ;
  return 0 ;
}

void spf_helo (spf *f, char const *arg, size_t len)
{
  size_t i ;
  spf_reset(f) ;
  f->helo[0] = 0 ;
  while (len && arg[0] == ' ') { arg++ ; len-- ; }
  while (len && arg[len-1] == ' ') len-- ;
  if (!len || len > SPF_HELO_MAX) return ;
  for (i = 0 ; i < len ; i++) if ((unsigned char)arg[i] <= 32 || (unsigned char)arg[i] >= 127) return ;
  memcpy(f->helo, arg, len) ;
  f->helo[len] = 0 ;
}

void spf_reset (spf *f)
{
  f->result = 0 ;
  f->domain[0] = 0 ;
  f->fieldlen = 0 ;
}

char const *spf_word (spf const *f)
{
  return f->result ? mx_spf_result_name((enum mx_spf_result)(f->result - 1)) : 0 ;
}

/* the field under construction: what does not fit is left out, and the
   field is then not added at all */
typedef struct out_s out ;
struct out_s { char *s ; size_t len, max ; int full ; } ;

static void put (out *o, char const *s, size_t n)
{
  if (o->full || n > o->max - o->len) { o->full = 1 ; return ; }
  memcpy(o->s + o->len, s, n) ;
  o->len += n ;
}

static void puts_ (out *o, char const *s) { put(o, s, strlen(s)) ; }

static int atext (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~", c) ;
}

/* a value of RFC 7208 9.1's key-value-pair: a dot-atom as it is,
   anything else (made printable first) a quoted-string */
static void value (out *o, char const *s)
{
  char safe[SPF_VALUE_MAX + 1] ;
  size_t n = mx_text_safe(safe, SPF_VALUE_MAX, s, strlen(s)), i ;
  int atom = n && safe[0] != '.' && safe[n-1] != '.' ;
  for (i = 0 ; i < n && atom ; i++)
    if (!(atext(safe[i]) || (safe[i] == '.' && safe[i+1] != '.'))) atom = 0 ;
  if (atom) { put(o, safe, n) ; return ; }
  put(o, "\"", 1) ;
  for (i = 0 ; i < n ; i++)
  {
    if (safe[i] == '"' || safe[i] == '\\') put(o, "\\", 1) ;
    put(o, safe + i, 1) ;
  }
  put(o, "\"", 1) ;
}

/* text inside the comment: printable, no parenthesis or backslash */
static void comment (out *o, char const *s)
{
  char safe[SPF_VALUE_MAX + 1] ;
  size_t n = mx_text_safe(safe, SPF_VALUE_MAX, s, strlen(s)), i ;
  for (i = 0 ; i < n ; i++) if (safe[i] == '(' || safe[i] == ')' || safe[i] == '\\') safe[i] = '?' ;
  put(o, safe, n) ;
}

static void pair (out *o, char const *key, char const *v, int fold)
{
  puts_(o, fold ? "\r\n\t" : " ") ;
  puts_(o, key) ;
  put(o, "=", 1) ;
  value(o, v) ;
  put(o, ";", 1) ;
}

/* RFC 7208 9.1 */
static void field (spf *f, enum mx_spf_result r, mx_spf const *s, char const *ip, char const *sender, char const *domain, int helo_identity)
{
  out o = { f->field, 0, sizeof f->field, 0 } ;
  char const *receiver = f->receiver ? f->receiver : "unknown" ;
  puts_(&o, "Received-SPF: ") ;
  puts_(&o, mx_spf_result_name(r)) ;
  puts_(&o, " (") ;
  comment(&o, receiver) ;
  puts_(&o, ": ") ;
  switch (r)
  {
    case MX_SPF_PASS : puts_(&o, "domain of ") ; comment(&o, domain) ; puts_(&o, " designates ") ; puts_(&o, ip) ; puts_(&o, " as permitted sender") ; break ;
    case MX_SPF_FAIL : puts_(&o, "domain of ") ; comment(&o, domain) ; puts_(&o, " does not designate ") ; puts_(&o, ip) ; puts_(&o, " as permitted sender") ; break ;
    case MX_SPF_SOFTFAIL : puts_(&o, "transitioning domain of ") ; comment(&o, domain) ; puts_(&o, " does not designate ") ; puts_(&o, ip) ; puts_(&o, " as permitted sender") ; break ;
    case MX_SPF_NEUTRAL : puts_(&o, ip) ; puts_(&o, " is neither permitted nor denied by domain of ") ; comment(&o, domain) ; break ;
    case MX_SPF_NONE : puts_(&o, "domain of ") ; comment(&o, domain) ; puts_(&o, " does not provide an SPF record") ; break ;
    case MX_SPF_TEMPERROR : puts_(&o, "temporary error in processing during lookup of ") ; comment(&o, domain) ; break ;
    case MX_SPF_PERMERROR : puts_(&o, "permanent error in processing domain of ") ; comment(&o, domain) ; break ;
  }
  puts_(&o, ")") ;
  pair(&o, "client-ip", ip, 1) ;
  pair(&o, "envelope-from", sender, 0) ;
  pair(&o, "helo", f->helo, 1) ;
  pair(&o, "identity", helo_identity ? "helo" : "mailfrom", 1) ;
  pair(&o, "receiver", receiver, 0) ;
  if (!strncmp(s->why, "matched ", 8)) pair(&o, "mechanism", s->why + 8, 1) ;
  else if ((r == MX_SPF_TEMPERROR || r == MX_SPF_PERMERROR) && s->why[0]) pair(&o, "problem", s->why, 1) ;
  puts_(&o, "\r\n") ;
  f->fieldlen = o.full ? 0 : o.len ;
}

void spf_mail (spf *f, ip46 const *client, char const *sender, spf_verdict *v)
{
  static mx_spf s ;   /* its texts: off the stack */
  mx_spf_dnsctx ctx ;
  enum mx_spf_result r ;
  char ip[MX_IP_FMT] ;
  char const *domain ;
  int helo_identity = !sender[0] ;
  unsigned char policy = SPF_ACCEPT ;

  v->code = 0 ; v->text = 0 ; v->result = "spf-accepted" ; v->textbuf[0] = 0 ;
  spf_reset(f) ;
  if (!f->client_known) return ;
  memset(&s, 0, sizeof s) ;
  mx_dns_spf_start(&ctx, f->ms) ;
  s.dns.ask = &mx_dns_spf_ask ;
  s.dns.ctx = &ctx ;
  memcpy(s.ip, client->ip, ip46_is6(client) ? 16 : 4) ;
  s.is6 = ip46_is6(client) ;
  s.receiver = f->receiver ;
  s.now = time(0) ;
  /* the null sender: the HELO identity (RFC 7208 2.3) */
  r = helo_identity ? mx_spf_check_helo(&s, f->helo[0] ? f->helo : 0) : mx_spf_check_mailfrom(&s, sender, f->helo) ;
  f->result = 1 + (int)r ;
  mx_ip_fmt(ip, client) ;
  if (helo_identity) domain = f->helo ;
  else { domain = strrchr(sender, '@') ; domain = domain ? domain + 1 : sender ; }
  field(f, r, &s, ip, sender, domain, helo_identity) ;
  {
    size_t i, n = strlen(domain) ;
    if (n && domain[n-1] == '.') n-- ;
    if (n <= SPF_DOMAIN_MAX)
    {
      for (i = 0 ; i < n ; i++) f->domain[i] = (domain[i] >= 'A' && domain[i] <= 'Z') ? domain[i] + 32 : domain[i] ;
      f->domain[n] = 0 ;
    }
  }

  switch (r)
  {
    case MX_SPF_FAIL :
      v->code = "550 5.7.23" ;
      if (s.exp[0]) { mx_text_safe(v->textbuf, MX_SPF_EXP_MAX, s.exp, strlen(s.exp)) ; v->text = v->textbuf ; }
      else v->text = "SPF validation failed: the domain does not permit this host to send its mail" ;
      v->result = "spf-rejected" ;
      return ;
    case MX_SPF_TEMPERROR :
      v->code = "451 4.7.24" ;
      v->text = "SPF validation error: DNS trouble, try again later" ;
      v->result = "spf-deferred" ;
      return ;
    case MX_SPF_SOFTFAIL : policy = f->softfail ; break ;
    case MX_SPF_PERMERROR : policy = f->permerror ; break ;
    default : return ;
  }
  if (policy == SPF_ACCEPT) return ;
  if (r == MX_SPF_SOFTFAIL)
  {
    v->code = policy == SPF_DEFER ? "451 4.7.23" : "550 5.7.23" ;
    v->text = "SPF validation softfail: the domain does not permit this host to send its mail" ;
  }
  else
  {
    v->code = policy == SPF_DEFER ? "451 4.7.24" : "550 5.7.24" ;
    v->text = "SPF validation error: the domain's SPF record is malformed" ;
  }
  v->result = policy == SPF_DEFER ? "spf-deferred" : "spf-rejected" ;
}
