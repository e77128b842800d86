/* mx_spf: check_host() of RFC 7208. See mx_spf.h. */
#include "mx_spf.h"
#include "mx_spfmacro.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one evaluation: the caller's mx_spf and what the macros need */
typedef struct eval_s eval ;
struct eval_s
{
  mx_spf *s ;
  char const *sender, *local, *sdomain, *helo ;
  char itext[80], ctext[48], ttext[24] ;
  int ptrdone ;                 /* %{p}: the validated names, once */
  unsigned int nvalid ;
  char valid[MX_SPF_MAX_NAMES][MX_SPFMACRO_DOMAIN_ROOM] ;
  mx_spf_answer ans ;           /* scratch for one question */
} ;

enum kind { K_ALL, K_INCLUDE, K_A, K_MX, K_PTR, K_IP4, K_IP6, K_EXISTS, K_REDIRECT, K_EXP, K_UNKNOWN } ;

typedef struct term_s term ;
struct term_s
{
  enum kind kind ;
  char qual ;
  char const *arg ;             /* domain-spec, network, or 0 */
  size_t arglen ;
  unsigned int c4, c6 ;         /* CIDR lengths */
  unsigned char net[16] ;
} ;

char const *mx_spf_result_name (enum mx_spf_result r)
{
  static char const *const names[] = { "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" } ;
  return (unsigned int)r <= MX_SPF_PERMERROR ? names[r] : "permerror" ;
}

static void why (eval *e, char const *what, char const *s, size_t n)
{
  if (n > 60) n = 60 ;
  snprintf(e->s->why, sizeof e->s->why, "%s%s%.*s", what, n ? " " : "", (int)n, s ? s : "") ;
}

static int ieq (char const *a, size_t n, char const *lit)
{
  size_t i ;
  if (strlen(lit) != n) return 0 ;
  for (i = 0 ; i < n ; i++)
  {
    char c = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i] ;
    if (c != lit[i]) return 0 ;
  }
  return 1 ;
}

/* "/" then 0..max without leading zero, at s[0..n): the length, or -1 */
static int cidr (char const *s, size_t n, unsigned int max)
{
  unsigned int v = 0 ;
  size_t i ;
  if (n < 2 || n > 4 || s[0] != '/') return -1 ;
  if (s[1] == '0' && n > 2) return -1 ;
  for (i = 1 ; i < n ; i++)
  {
    if (s[i] < '0' || s[i] > '9') return -1 ;
    v = v * 10 + (unsigned int)(s[i] - '0') ;
  }
  return v <= max ? (int)v : -1 ;
}

/* splits [domain-spec] dual-cidr-length off arg[0..*n): *n becomes the
   domain-spec's length. 1, or 0 on a bad length. */
static int dualcidr (char const *arg, size_t *n, unsigned int *c4, unsigned int *c6)
{
  size_t e = *n, i ;
  int v ;
  *c4 = 32 ; *c6 = 128 ;
  i = e ;
  while (i && arg[i - 1] >= '0' && arg[i - 1] <= '9') i-- ;
  if (i == e || !i || arg[i - 1] != '/') return 1 ;
  if (i >= 2 && arg[i - 2] == '/')
  {
    v = cidr(arg + i - 1, e - i + 1, 128) ;
    if (v < 0) return 0 ;
    *c6 = (unsigned int)v ;
    e = i - 2 ;
    *n = e ;
    i = e ;
    while (i && arg[i - 1] >= '0' && arg[i - 1] <= '9') i-- ;
    if (i == e || !i || arg[i - 1] != '/') return 1 ;
  }
  v = cidr(arg + i - 1, e - i + 1, 32) ;
  if (v < 0) return 0 ;
  *c4 = (unsigned int)v ;
  *n = i - 1 ;
  return 1 ;
}

/* parses the term s[0..n): 1, or 0 on a syntax error (§4.6, §12) */
static int parse_term (char const *s, size_t n, term *t)
{
  size_t i = 0, nl ;
  memset(t, 0, sizeof *t) ;
  t->qual = '+' ;
  if (n && strchr("+-~?", s[0])) { t->qual = s[0] ; i = 1 ; }
  nl = i ;
  while (nl < n && ((s[nl] >= 'a' && s[nl] <= 'z') || (s[nl] >= 'A' && s[nl] <= 'Z') || (nl > i && ((s[nl] >= '0' && s[nl] <= '9') || s[nl] == '-' || s[nl] == '_' || s[nl] == '.')))) nl++ ;
  if (nl == i) return 0 ;
  if (nl < n && s[nl] == '=')
  {
    /* a modifier: name "=" macro-string, no qualifier */
    if (i) return 0 ;
    t->arg = s + nl + 1 ; t->arglen = n - nl - 1 ;
    if (ieq(s, nl, "redirect")) { t->kind = K_REDIRECT ; return mx_spf_domainspec_valid(t->arg, t->arglen) ; }
    if (ieq(s, nl, "exp")) { t->kind = K_EXP ; return mx_spf_domainspec_valid(t->arg, t->arglen) ; }
    t->kind = K_UNKNOWN ;
    return mx_spf_macro_valid(t->arg, t->arglen, 0) ;
  }
  /* a mechanism: its name ends at ":" "/" or the end */
  nl = i ;
  while (nl < n && s[nl] != ':' && s[nl] != '/') nl++ ;
  {
    char const *name = s + i ;
    size_t namelen = nl - i ;
    int colon = nl < n && s[nl] == ':' ;
    char const *arg = colon ? s + nl + 1 : s + nl ;
    size_t arglen = colon ? n - nl - 1 : n - nl ;
    if (ieq(name, namelen, "all")) { t->kind = K_ALL ; return nl == n ; }
    if (ieq(name, namelen, "include") || ieq(name, namelen, "exists"))
    {
      t->kind = name[0] == 'i' || name[0] == 'I' ? K_INCLUDE : K_EXISTS ;
      if (!colon) return 0 ;
      t->arg = arg ; t->arglen = arglen ;
      return mx_spf_domainspec_valid(arg, arglen) ;
    }
    if (ieq(name, namelen, "a") || ieq(name, namelen, "mx"))
    {
      t->kind = namelen == 1 ? K_A : K_MX ;
      if (!dualcidr(arg, &arglen, &t->c4, &t->c6)) return 0 ;
      if (colon) { t->arg = arg ; t->arglen = arglen ; return mx_spf_domainspec_valid(arg, arglen) ; }
      return arglen == 0 ;
    }
    if (ieq(name, namelen, "ptr"))
    {
      t->kind = K_PTR ;
      if (colon) { t->arg = arg ; t->arglen = arglen ; return mx_spf_domainspec_valid(arg, arglen) ; }
      return nl == n ;
    }
    if (ieq(name, namelen, "ip4") || ieq(name, namelen, "ip6"))
    {
      char buf[64] ;
      int is6 = name[2] == '6' ;
      size_t e ;
      int v ;
      if (!colon) return 0 ;
      t->kind = is6 ? K_IP6 : K_IP4 ;
      e = arglen ;
      while (e && arg[e - 1] != '/' && arg[e - 1] != ':' && arg[e - 1] != '.') e-- ;
      t->c4 = 32 ; t->c6 = 128 ;
      if (e && arg[e - 1] == '/')
      {
        v = cidr(arg + e - 1, arglen - e + 1, is6 ? 128 : 32) ;
        if (v < 0) return 0 ;
        if (is6) t->c6 = (unsigned int)v ; else t->c4 = (unsigned int)v ;
        arglen = e - 1 ;
      }
      if (!arglen || arglen >= sizeof buf) return 0 ;
      memcpy(buf, arg, arglen) ; buf[arglen] = 0 ;
      return inet_pton(is6 ? AF_INET6 : AF_INET, buf, t->net) == 1 ;
    }
    return 0 ;
  }
}

static int ask (eval *e, enum mx_spf_qtype type, char const *name)
{
  e->s->queries++ ;
  e->ans.rcode = 0 ; e->ans.n = 0 ; e->ans.len = 0 ;
  return e->s->dns.ask(e->s->dns.ctx, type, name, &e->ans) ;
}

/* the k-th record of the last answer */
static unsigned char const *record (eval const *e, unsigned int k, size_t *n)
{
  size_t pos = 0 ;
  for (;;)
  {
    size_t len ;
    if (pos + 2 > e->ans.len) { *n = 0 ; return 0 ; }
    len = ((size_t)e->ans.buf[pos] << 8) | e->ans.buf[pos + 1] ;
    if (pos + 2 + len > e->ans.len) { *n = 0 ; return 0 ; }
    if (!k--) { *n = len ; return e->ans.buf + pos + 2 ; }
    pos += 2 + len ;
  }
}

/* §4.3: a multi-label domain name, labels of 1 to 63 bytes (the last
   dot of a domain-spec is gone with its expansion) */
static int domain_ok (char const *d)
{
  size_t n = strlen(d), label = 0, i ;
  unsigned int dots = 0 ;
  if (!n || n > 253) return 0 ;
  for (i = 0 ; i < n ; i++)
  {
    if (d[i] == '.') { if (!label) return 0 ; label = 0 ; dots++ ; }
    else if (++label > 63) return 0 ;
  }
  return label && dots ;
}

static int prefix_eq (unsigned char const *a, unsigned char const *b, unsigned int bits)
{
  unsigned int full = bits / 8, rest = bits % 8 ;
  if (memcmp(a, b, full)) return 0 ;
  if (!rest) return 1 ;
  return !((a[full] ^ b[full]) & (0xff00u >> rest)) ;
}

static int ieq_name (char const *a, char const *b)
{
  for (;; a++, b++)
  {
    char x = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a, y = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b ;
    if (x != y) return 0 ;
    if (!x) return 1 ;
  }
}

/* name equals domain or ends in "." domain */
static int under (char const *name, char const *domain)
{
  size_t n = strlen(name), d = strlen(domain) ;
  if (n == d) return ieq_name(name, domain) ;
  return n > d && name[n - d - 1] == '.' && ieq_name(name + n - d, domain) ;
}

static void ptrname (eval const *e, char *q)
{
  mx_spf const *s = e->s ;
  if (s->is6)
  {
    static char const hex[] = "0123456789abcdef" ;
    int i ;
    for (i = 15 ; i >= 0 ; i--)
    {
      *q++ = hex[s->ip[i] & 15] ; *q++ = '.' ;
      *q++ = hex[s->ip[i] >> 4] ; *q++ = '.' ;
    }
    strcpy(q, "ip6.arpa") ;
  }
  else sprintf(q, "%u.%u.%u.%u.in-addr.arpa", s->ip[3], s->ip[2], s->ip[1], s->ip[0]) ;
}

/* The validated names of the client (§5.5): the first 10 PTR names
   whose addresses include the client's; DNS errors skip a name. With
   target, stops at the first validated name under it: 1 if found. */
static int validate (eval *e, char const *target, char valid[][MX_SPFMACRO_DOMAIN_ROOM], unsigned int *nvalid)
{
  char q[80] ;
  char names[MX_SPF_MAX_NAMES][MX_SPFMACRO_DOMAIN_ROOM] ;
  unsigned int n, k ;
  ptrname(e, q) ;
  *nvalid = 0 ;
  if (ask(e, MX_SPF_Q_PTR, q) != 1) return 0 ;
  if (!e->ans.n && target) e->s->voids++ ;
  n = e->ans.n < MX_SPF_MAX_NAMES ? e->ans.n : MX_SPF_MAX_NAMES ;
  for (k = 0 ; k < n ; k++)
  {
    size_t len ;
    unsigned char const *r = record(e, k, &len) ;
    if (!r || len >= MX_SPFMACRO_DOMAIN_ROOM) { names[k][0] = 0 ; continue ; }
    memcpy(names[k], r, len) ;
    while (len && names[k][len - 1] == '.') len-- ;
    names[k][len] = 0 ;
  }
  for (k = 0 ; k < n ; k++)
  {
    unsigned int j ;
    size_t alen = e->s->is6 ? 16 : 4 ;
    if (!names[k][0] || !domain_ok(names[k])) continue ;
    if (ask(e, e->s->is6 ? MX_SPF_Q_AAAA : MX_SPF_Q_A, names[k]) != 1) continue ;
    for (j = 0 ; j < e->ans.n ; j++)
    {
      size_t len ;
      unsigned char const *r = record(e, j, &len) ;
      if (r && len == alen && !memcmp(r, e->s->ip, alen))
      {
        if (target && under(names[k], target)) return 1 ;
        strcpy(valid[(*nvalid)++], names[k]) ;
        break ;
      }
    }
  }
  return 0 ;
}

/* %{p} (§7.3): the domain itself if validated, else a name under it,
   else any validated name, else "unknown" */
static char const *pmacro (void *ctx, char const *domain)
{
  eval *e = ctx ;
  unsigned int k ;
  if (!e->ptrdone) { validate(e, 0, e->valid, &e->nvalid) ; e->ptrdone = 1 ; }
  for (k = 0 ; k < e->nvalid ; k++) if (ieq_name(e->valid[k], domain)) return e->valid[k] ;
  for (k = 0 ; k < e->nvalid ; k++) if (under(e->valid[k], domain)) return e->valid[k] ;
  return e->nvalid ? e->valid[0] : "unknown" ;
}

static void macros (eval *e, char const *domain, mx_spf_macros *m)
{
  m->s = e->sender ; m->l = e->local ; m->o = e->sdomain ; m->d = domain ;
  m->i = e->itext ; m->v = e->s->is6 ? "ip6" : "in-addr" ; m->h = e->helo ;
  m->c = e->ctext ; m->r = e->s->receiver ? e->s->receiver : "unknown" ;
  m->t = e->ttext ; m->p = &pmacro ; m->pctx = e ;
}

/* the address records of the last answer against the client */
static int addr_match (eval const *e, unsigned int c4, unsigned int c6)
{
  unsigned int k ;
  size_t alen = e->s->is6 ? 16 : 4 ;
  for (k = 0 ; k < e->ans.n ; k++)
  {
    size_t len ;
    unsigned char const *r = record(e, k, &len) ;
    if (r && len == alen && prefix_eq(r, e->s->ip, e->s->is6 ? c6 : c4)) return 1 ;
  }
  return 0 ;
}

static enum mx_spf_result check_host (eval *e, char const *domain, int top) ;

/* a void answer (§4.6.4): 1 if the limit is passed */
static int void_over (eval *e)
{
  if (e->ans.rcode == 3 || !e->ans.n)
    if (++e->s->voids > MX_SPF_MAX_VOID) return 1 ;
  return 0 ;
}

/* Evaluates a mechanism: 1 match, 0 no match, or -1 with *res set */
static int mechanism (eval *e, term const *t, char const *domain, enum mx_spf_result *res)
{
  char target[MX_SPFMACRO_DOMAIN_ROOM] ;
  mx_spf_macros m ;
  int r ;
  if (t->kind == K_ALL) return 1 ;
  if (t->kind == K_IP4) return !e->s->is6 && prefix_eq(t->net, e->s->ip, t->c4) ;
  if (t->kind == K_IP6) return e->s->is6 && prefix_eq(t->net, e->s->ip, t->c6) ;
  /* the rest ask the DNS: §4.6.4 */
  if (++e->s->terms > MX_SPF_MAX_TERMS) { why(e, "more than 10 DNS-querying terms", 0, 0) ; *res = MX_SPF_PERMERROR ; return -1 ; }
  macros(e, domain, &m) ;
  if (t->arg) mx_spf_expand_domain(t->arg, t->arglen, &m, target) ;
  else strcpy(target, domain) ;
  switch (t->kind)
  {
    case K_INCLUDE:
    {
      enum mx_spf_result sub = check_host(e, target, 0) ;
      switch (sub)
      {
        case MX_SPF_PASS: return 1 ;
        case MX_SPF_FAIL: case MX_SPF_SOFTFAIL: case MX_SPF_NEUTRAL: return 0 ;
        case MX_SPF_TEMPERROR: *res = sub ; return -1 ;
        case MX_SPF_NONE: why(e, "include of a domain without SPF record:", target, strlen(target)) ; /* fall through */
        default: *res = MX_SPF_PERMERROR ; return -1 ;
      }
    }
    case K_A:
    case K_EXISTS:
      if (!domain_ok(target)) { if (++e->s->voids > MX_SPF_MAX_VOID) goto voids ; return 0 ; }
      r = ask(e, t->kind == K_EXISTS || !e->s->is6 ? MX_SPF_Q_A : MX_SPF_Q_AAAA, target) ;
      if (r != 1) goto temp ;
      if (void_over(e)) goto voids ;
      if (t->kind == K_EXISTS) return e->ans.n > 0 ;
      return addr_match(e, t->c4, t->c6) ;
    case K_MX:
    {
      char names[MX_SPF_MAX_NAMES][MX_SPFMACRO_DOMAIN_ROOM] ;
      unsigned int n, k ;
      if (!domain_ok(target)) { if (++e->s->voids > MX_SPF_MAX_VOID) goto voids ; return 0 ; }
      r = ask(e, MX_SPF_Q_MX, target) ;
      if (r != 1) goto temp ;
      if (void_over(e)) goto voids ;
      if (e->ans.n > MX_SPF_MAX_NAMES) { why(e, "more than 10 MX names:", target, strlen(target)) ; *res = MX_SPF_PERMERROR ; return -1 ; }
      n = e->ans.n ;
      for (k = 0 ; k < n ; k++)
      {
        size_t len ;
        unsigned char const *rr = record(e, k, &len) ;
        if (!rr || len >= MX_SPFMACRO_DOMAIN_ROOM) len = 0 ;
        if (len) memcpy(names[k], rr, len) ;
        while (len && names[k][len - 1] == '.') len-- ;
        names[k][len] = 0 ;
      }
      for (k = 0 ; k < n ; k++)
      {
        if (!domain_ok(names[k])) continue ;   /* "." (RFC 7505) and the like */
        r = ask(e, e->s->is6 ? MX_SPF_Q_AAAA : MX_SPF_Q_A, names[k]) ;
        if (r != 1) goto temp ;
        if (addr_match(e, t->c4, t->c6)) return 1 ;
      }
      return 0 ;
    }
    case K_PTR:
    {
      char valid[MX_SPF_MAX_NAMES][MX_SPFMACRO_DOMAIN_ROOM] ;
      unsigned int nvalid ;
      int hit = validate(e, target, valid, &nvalid) ;
      if (e->s->voids > MX_SPF_MAX_VOID) goto voids ;
      return hit ;
    }
    default: return 0 ;
  }
 temp:
  why(e, r ? "DNS failure:" : "DNS timeout:", target, strlen(target)) ;
  *res = MX_SPF_TEMPERROR ;
  return -1 ;
 voids:
  why(e, "more than 2 void lookups:", target, strlen(target)) ;
  *res = MX_SPF_PERMERROR ;
  return -1 ;
}

/* exp= of a record that failed (§6.2): its TXT, expanded, or "" */
static void explain (eval *e, term const *t, char const *domain)
{
  char target[MX_SPFMACRO_DOMAIN_ROOM] ;
  mx_spf_macros m ;
  size_t len ;
  unsigned char const *r ;
  char *text ;
  e->s->exp[0] = 0 ;
  macros(e, domain, &m) ;
  if (!mx_spf_expand_domain(t->arg, t->arglen, &m, target) || !domain_ok(target)) return ;
  if (ask(e, MX_SPF_Q_TXT, target) != 1 || e->ans.n != 1) return ;
  r = record(e, 0, &len) ;
  if (!r) return ;
  text = malloc(len + 1) ;
  if (!text) return ;
  memcpy(text, r, len) ; text[len] = 0 ;
  mx_spf_expand_exp(text, len, &m, e->s->exp, sizeof e->s->exp) ;
  free(text) ;
}

/* the next term of rec[*pos..n): 1 with it in [*t0, *t1), 0 at the end */
static int next_term (char const *rec, size_t n, size_t *pos, size_t *t0, size_t *t1)
{
  size_t i = *pos ;
  while (i < n && rec[i] == ' ') i++ ;
  if (i >= n) return 0 ;
  *t0 = i ;
  while (i < n && rec[i] != ' ') i++ ;
  *t1 = i ; *pos = i ;
  return 1 ;
}

static enum mx_spf_result check_host (eval *e, char const *domain, int top)
{
  char *rec = 0 ;
  size_t n = 0, pos, t0, t1 ;
  unsigned int k, found = 0 ;
  term t, redirect, exp ;
  memset(&redirect, 0, sizeof redirect) ; memset(&exp, 0, sizeof exp) ;
  int hasredirect = 0, hasexp = 0, r ;
  enum mx_spf_result res = MX_SPF_NEUTRAL ;

  /* §4.3, §4.4, §4.5: the record */
  if (!domain_ok(domain)) { why(e, "no valid domain:", domain, strlen(domain)) ; return MX_SPF_NONE ; }
  r = ask(e, MX_SPF_Q_TXT, domain) ;
  if (r != 1) { why(e, r ? "DNS failure:" : "DNS timeout:", domain, strlen(domain)) ; return MX_SPF_TEMPERROR ; }
  if (e->ans.rcode == 3) { why(e, "no such domain:", domain, strlen(domain)) ; return MX_SPF_NONE ; }
  for (k = 0 ; k < e->ans.n ; k++)
  {
    size_t len ;
    char const *x = (char const *)record(e, k, &len) ;
    if (!x || len < 6 || !ieq(x, 6, "v=spf1") || (len > 6 && x[6] != ' ')) continue ;
    if (found++) { free(rec) ; why(e, "several SPF records:", domain, strlen(domain)) ; return MX_SPF_PERMERROR ; }
    rec = malloc(len + 1) ;
    if (!rec) { why(e, "out of memory", 0, 0) ; return MX_SPF_TEMPERROR ; }
    memcpy(rec, x, len) ; rec[len] = 0 ; n = len ;
  }
  if (!found) { why(e, "no SPF record:", domain, strlen(domain)) ; return MX_SPF_NONE ; }

  /* §4.6: any syntax error, before anything is evaluated */
  pos = 6 ;
  while (next_term(rec, n, &pos, &t0, &t1))
  {
    if (!parse_term(rec + t0, t1 - t0, &t)) { why(e, "syntax error:", rec + t0, t1 - t0) ; res = MX_SPF_PERMERROR ; goto done ; }
    if (t.kind == K_REDIRECT) { if (hasredirect++) { why(e, "two redirect modifiers", 0, 0) ; res = MX_SPF_PERMERROR ; goto done ; } redirect = t ; }
    if (t.kind == K_EXP) { if (hasexp++) { why(e, "two exp modifiers", 0, 0) ; res = MX_SPF_PERMERROR ; goto done ; } exp = t ; }
  }

  /* §4.6.2: the mechanisms in order */
  pos = 6 ;
  while (next_term(rec, n, &pos, &t0, &t1))
  {
    parse_term(rec + t0, t1 - t0, &t) ;
    if (t.kind == K_REDIRECT || t.kind == K_EXP || t.kind == K_UNKNOWN) continue ;
    r = mechanism(e, &t, domain, &res) ;
    if (r < 0) goto done ;
    if (r)
    {
      res = t.qual == '-' ? MX_SPF_FAIL : t.qual == '~' ? MX_SPF_SOFTFAIL : t.qual == '?' ? MX_SPF_NEUTRAL : MX_SPF_PASS ;
      why(e, "matched", rec + t0, t1 - t0) ;
      if (res == MX_SPF_FAIL && top && hasexp) explain(e, &exp, domain) ;
      goto done ;
    }
  }

  /* §6.1: no mechanism matched */
  if (hasredirect)
  {
    char target[MX_SPFMACRO_DOMAIN_ROOM] ;
    mx_spf_macros m ;
    if (++e->s->terms > MX_SPF_MAX_TERMS) { why(e, "more than 10 DNS-querying terms", 0, 0) ; res = MX_SPF_PERMERROR ; goto done ; }
    macros(e, domain, &m) ;
    mx_spf_expand_domain(redirect.arg, redirect.arglen, &m, target) ;
    free(rec) ; rec = 0 ;
    res = check_host(e, target, top) ;
    if (res == MX_SPF_NONE) { why(e, "redirect to a domain without SPF record:", target, strlen(target)) ; res = MX_SPF_PERMERROR ; }
    goto done ;
  }
  why(e, "no mechanism matched", 0, 0) ;
  res = MX_SPF_NEUTRAL ;
 done:
  free(rec) ;
  return res ;
}

/* the client: an IPv4-mapped IPv6 address is the IPv4 one */
static void client (eval *e)
{
  mx_spf *s = e->s ;
  static unsigned char const mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff } ;
  if (s->is6 && !memcmp(s->ip, mapped, 12)) { memmove(s->ip, s->ip + 12, 4) ; s->is6 = 0 ; }
  if (s->is6)
  {
    static char const hex[] = "0123456789abcdef" ;
    char *q = e->itext ;
    int i ;
    for (i = 0 ; i < 16 ; i++)
    {
      *q++ = hex[s->ip[i] >> 4] ; *q++ = '.' ;
      *q++ = hex[s->ip[i] & 15] ; *q++ = i < 15 ? '.' : 0 ;
    }
    inet_ntop(AF_INET6, s->ip, e->ctext, sizeof e->ctext) ;
  }
  else
  {
    sprintf(e->itext, "%u.%u.%u.%u", s->ip[0], s->ip[1], s->ip[2], s->ip[3]) ;
    strcpy(e->ctext, e->itext) ;
  }
  snprintf(e->ttext, sizeof e->ttext, "%lld", (long long)s->now) ;
}

enum mx_spf_result mx_spf_check_host (mx_spf *s, char const *domain, char const *sender, char const *helo)
{
  eval *e = malloc(sizeof *e) ;
  char *buf ;
  char const *at ;
  size_t n = strlen(sender) ;
  enum mx_spf_result res ;
  s->terms = s->voids = s->queries = 0 ;
  s->exp[0] = 0 ; s->why[0] = 0 ;
  buf = malloc(2 * n + 32) ;
  if (!e || !buf) { free(e) ; free(buf) ; snprintf(s->why, sizeof s->why, "out of memory") ; return MX_SPF_TEMPERROR ; }
  memset(e, 0, sizeof *e) ;
  e->s = s ;
  e->helo = helo ? helo : "unknown" ;
  client(e) ;
  /* §4.3: an empty local-part is "postmaster" */
  at = strrchr(sender, '@') ;
  if (!at || at == sender)
  {
    strcpy(buf, "postmaster@") ;
    strcat(buf, at ? at + 1 : sender) ;
    e->local = "postmaster" ;
    e->sdomain = buf + 11 ;
    e->sender = buf ;
  }
  else
  {
    memcpy(buf, sender, (size_t)(at - sender)) ; buf[at - sender] = 0 ;
    e->local = buf ;
    e->sdomain = at + 1 ;
    e->sender = sender ;
  }
  res = check_host(e, domain, 1) ;
  if (res != MX_SPF_FAIL) s->exp[0] = 0 ;
  free(buf) ;
  free(e) ;
  return res ;
}

enum mx_spf_result mx_spf_check_helo (mx_spf *s, char const *helo)
{
  if (!helo || helo[0] == '[' || !domain_ok(helo))
  {
    s->terms = s->voids = s->queries = 0 ;
    s->exp[0] = 0 ;
    snprintf(s->why, sizeof s->why, "HELO is not a domain name") ;
    return MX_SPF_NONE ;
  }
  return mx_spf_check_host(s, helo, helo, helo) ;
}

enum mx_spf_result mx_spf_check_mailfrom (mx_spf *s, char const *sender, char const *helo)
{
  char const *at ;
  if (!sender[0]) return mx_spf_check_helo(s, helo) ;
  at = strrchr(sender, '@') ;
  return mx_spf_check_host(s, at ? at + 1 : sender, sender, helo) ;
}
