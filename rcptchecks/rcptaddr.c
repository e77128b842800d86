/* rcptaddr: see rcptaddr.h. Everything here works on bytes the client
 * sent: every copy is bounded by RCPTADDR_MAX and the sizes in the
 * header.
 */
#include "rcptaddr.h"

#include <string.h>
#include <strings.h>

#include "mx_dnsname.h"
#include "mx_text.h"
#include "mx_utf8.h"

#define MAX_EXTENSION_LEVELS 12

static int is_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ;
}

/* RFC 5321 atext, less '%' and '!' (see rcptaddr.h) */
static int is_atext (char c)
{
  return is_alnum(c) || (c && strchr("#$&'*+-/=?^_`{|}~", c)) ;
}

static int is_8bit (char c)
{
  return (unsigned char)c >= 0x80 ;
}

/* a dot-atom of atext: no leading, trailing or doubled dot; with utf8,
   bytes >= 0x80 are atext too (RFC 6531 3.3: atext =/ UTF8-non-ascii;
   the caller has seen the whole path is well-formed UTF-8) */
static int dot_atom (char const *s, size_t n, int utf8)
{
  size_t i ;
  if (!n || s[0] == '.' || s[n - 1] == '.') return 0 ;
  for (i = 0 ; i < n ; i++)
    if (s[i] == '.') { if (s[i - 1] == '.') return 0 ; }
    else if (!is_atext(s[i]) && !(utf8 && is_8bit(s[i]))) return 0 ;
  return 1 ;
}

/* what 8-bit bytes in a path of n bytes make of it: 0 none, or the
   form that refuses it */
static enum rcptaddr_form eight_bit (char const *p, size_t n, int utf8)
{
  switch (mx_utf8_kind(p, n))
  {
    case MX_UTF8_ASCII : return RCPTADDR_DOMAIN ;
    case MX_UTF8_UTF8 : return utf8 ? RCPTADDR_DOMAIN : RCPTADDR_NEEDUTF8 ;
    default : return RCPTADDR_NOTUTF8 ;
  }
}

/* DNS labels: letters, digits and inner hyphens, 1 to 63 bytes each
   (mx_dnsname's default rule, RFC 5321 4.1.2), at most
   RCPTADDR_DOMAIN_MAX in all */
static int dns_name (char const *s, size_t n)
{
  return mx_dnsname_ok(s, n, RCPTADDR_DOMAIN_MAX, 0) ;
}

/* "[d.d.d.d]" in qmail-smtpd's lenient spelling (any number of digits
   per part: it keeps each modulo 256) or "[IPv6:...]" */
static int literal (char const *s, size_t n)
{
  size_t i = 1 ;
  char const *set = "0123456789." ;
  if (n < 3 || s[0] != '[' || s[n - 1] != ']') return 0 ;
  if (n > 6 && !strncasecmp(s + 1, "IPv6:", 5)) { i = 6 ; set = "0123456789abcdefABCDEF:." ; }
  if (i == n - 1) return 0 ;
  for (; i < n - 1 ; i++) if (!strchr(set, s[i]) || !s[i]) return 0 ;
  return 1 ;
}

/* what follows the path: nothing, or blanks and parameters (judged by
   the caller); sets *params to where they start */
static int tail (char const *arg, size_t len, size_t i, size_t *params, size_t *paramslen)
{
  size_t end = len ;
  if (i < len && arg[i] != ' ') return 0 ;
  while (i < len && arg[i] == ' ') i++ ;
  while (end > i && arg[end - 1] == ' ') end-- ;
  *params = i ;
  *paramslen = end - i ;
  return 1 ;
}

/* skips "KEYWORD:" and blanks; returns the offset of the path or 0 */
static size_t path_start (char const *arg, size_t len, char const *keyword)
{
  size_t k = strlen(keyword), i ;
  if (len < k || strncasecmp(arg, keyword, k)) return 0 ;
  for (i = k ; i < len && arg[i] == ' ' ; i++) ;
  return i ;
}

/* the path's bytes: [*start, *start + *n); returns the offset after it */
static size_t path_span (char const *arg, size_t len, size_t i, size_t *start, size_t *n, int *bracketed)
{
  char const *e ;
  *bracketed = i < len && arg[i] == '<' ;
  if (*bracketed)
  {
    e = memchr(arg + i + 1, '>', len - i - 1) ;
    if (!e) return 0 ;
    *start = i + 1 ;
    *n = (size_t)(e - arg) - i - 1 ;
    return (size_t)(e - arg) + 1 ;
  }
  e = memchr(arg + i, ' ', len - i) ;
  *start = i ;
  *n = (e ? (size_t)(e - arg) : len) - i ;
  return *start + *n ;
}

/* A source route "@d1,@d2:" (RFC 5321 4.1.1.3), each d a DNS name:
   the offset of the mailbox after its colon, or 0. qmail-smtpd skips to
   the first ':' ("if (*arg == '@') while (*arg) if (*arg++ == ':')
   break;"), exim's read_route reads "@" domain ("," "@" domain)* ":"
   and parse_extract_address drops it: both deliver to what follows. */
static size_t route (char const *p, size_t n)
{
  size_t i = 0 ;
  for (;;)
  {
    size_t j ;
    if (i >= n || p[i] != '@') return 0 ;
    for (j = ++i ; j < n && p[j] != ',' && p[j] != ':' ; j++) ;
    if (j == n || !dns_name(p + i, j - i)) return 0 ;
    i = j + 1 ;
    if (p[j] == ':') return i ;
  }
}

enum rcptaddr_form rcptaddr_parse (char const *arg, size_t len, rcptaddr *a)
{
  return rcptaddr_parse8(arg, len, 0, a) ;
}

enum rcptaddr_form rcptaddr_parse8 (char const *arg, size_t len, int utf8, rcptaddr *a)
{
  size_t i = path_start(arg, len, "TO:"), start, n, after, at, ll, dl ;
  int bracketed, reduced = 0 ;
  char const *p, *atp, *lp ;
  a->local[0] = a->domain[0] = 0 ;
  a->params = a->paramslen = 0 ;
  if (!i || i == len) return RCPTADDR_BAD ;
  after = path_span(arg, len, i, &start, &n, &bracketed) ;
  if (!after || !n) return RCPTADDR_BAD ;
  if (!tail(arg, len, after, &a->params, &a->paramslen)) return RCPTADDR_BAD ;
  p = arg + start ;
  {
    enum rcptaddr_form f = eight_bit(p, n, utf8) ;
    if (f != RCPTADDR_DOMAIN) return f ;
  }
  if (p[0] == '@')
  {
    size_t r = route(p, n) ;
    if (!r) return RCPTADDR_BAD ;
    p += r ; n -= r ; reduced = 1 ;
  }
  if (n && p[0] == '"')
  {
    /* a quoted local part: both servers deliver to its content (qmail's
       addrparse drops the quotes, exim's deliver_split_address removes
       "any unquoted doublequotes"); only a content that needs no quotes
       (a dot-atom) is taken, so that the two read the same address */
    char const *q = n > 1 ? memchr(p + 1, '"', n - 1) : 0 ;
    if (!q || q == p + 1) return RCPTADDR_BAD ;
    lp = p + 1 ; ll = (size_t)(q - lp) ;
    atp = q + 1 ;
    if (atp == p + n || *atp != '@') return RCPTADDR_BAD ;
    reduced = 1 ;
  }
  else
  {
    atp = memchr(p, '@', n) ;
    lp = p ; ll = atp ? (size_t)(atp - p) : n ;
  }
  if (!atp)
  {
    /* qmail-smtpd's "if (addr.len > 900) return 0;" counts the NUL */
    if (reduced || n > RCPTADDR_MAX || !dot_atom(p, n, utf8)) return RCPTADDR_BAD ;
    memcpy(a->local, p, n) ; a->local[n] = 0 ;
    return n == 10 && !strncasecmp(p, "postmaster", 10) ? RCPTADDR_POSTMASTER : RCPTADDR_NODOMAIN ;
  }
  at = (size_t)(atp - p) ;
  dl = n - at - 1 ;
  /* the address the server reads, local@domain, within its limit */
  if (ll + 1 + dl > RCPTADDR_MAX) return RCPTADDR_BAD ;
  /* one '@' only: qmail-smtpd splits at the last, exim refuses more */
  if (memchr(atp + 1, '@', dl)) return RCPTADDR_BAD ;
  if (!dot_atom(lp, ll, utf8)) return RCPTADDR_BAD ;
  memcpy(a->local, lp, ll) ; a->local[ll] = 0 ;
  if (mx_utf8_kind(atp + 1, dl) == MX_UTF8_UTF8)
  {
    /* U-labels: the lookups' spelling is the A-labels' (RFC 6531 3.3,
       IDNA2008), which must then be a DNS name like any other */
    dl = mx_utf8_domain(atp + 1, dl, a->domain, sizeof a->domain) ;
    if (!dl) { a->local[0] = 0 ; return RCPTADDR_BAD ; }
  }
  else
  {
    memcpy(a->domain, atp + 1, dl) ; a->domain[dl] = 0 ;
    mx_text_lower(a->domain, dl) ;
  }
  if (dns_name(a->domain, dl)) return RCPTADDR_DOMAIN ;
  if (literal(a->domain, dl)) return RCPTADDR_LITERAL ;
  a->local[0] = a->domain[0] = 0 ;
  return RCPTADDR_BAD ;
}

static int is_mail_path_byte (char c)
{
  return is_atext(c) || (c && strchr(".@[]:%!", c)) ;
}

int rcptaddr_mailfrom (char const *arg, size_t len, rcptaddr_from *f)
{
  return rcptaddr_mailfrom8(arg, len, f) == RCPTADDR_MAIL_OK ;
}

/* whether the parameters (n bytes) hold the keyword SMTPUTF8 */
static int declares_utf8 (char const *s, size_t n)
{
  size_t i = 0 ;
  while (i < n)
  {
    size_t j = i ;
    while (j < n && s[j] != ' ') j++ ;
    if (j - i == 8 && !strncasecmp(s + i, "SMTPUTF8", 8)) return 1 ;
    for (i = j ; i < n && s[i] == ' ' ; i++) ;
  }
  return 0 ;
}

enum rcptaddr_mail rcptaddr_mailfrom8 (char const *arg, size_t len, rcptaddr_from *f)
{
  size_t i = path_start(arg, len, "FROM:"), start, n, after, k ;
  int bracketed, eight = 0 ;
  f->path = f->pathlen = f->params = f->paramslen = 0 ;
  f->utf8 = 0 ;
  if (!i || i == len) return RCPTADDR_MAIL_BAD ;
  after = path_span(arg, len, i, &start, &n, &bracketed) ;
  if (!after || (!n && !bracketed)) return RCPTADDR_MAIL_BAD ;
  for (k = 0 ; k < n ; k++)
    if (is_8bit(arg[start + k])) eight = 1 ;
    else if (!is_mail_path_byte(arg[start + k])) return RCPTADDR_MAIL_BAD ;
  /* qmail-smtpd would take the sender from a '<' after a bare path
     ("FROM:a@b AUTH=<>") */
  if (!bracketed && memchr(arg + after, '<', len - after)) return RCPTADDR_MAIL_BAD ;
  if (!tail(arg, len, after, &f->params, &f->paramslen)) return RCPTADDR_MAIL_BAD ;
  f->path = start ;
  f->pathlen = n ;
  f->utf8 = declares_utf8(arg + f->params, f->paramslen) ;
  if (eight)
    switch (eight_bit(arg + start, n, f->utf8))
    {
      case RCPTADDR_NEEDUTF8 : return RCPTADDR_MAIL_NEEDUTF8 ;
      case RCPTADDR_NOTUTF8 : return RCPTADDR_MAIL_NOTUTF8 ;
      default : break ;
    }
  return RCPTADDR_MAIL_OK ;
}

/* appends local[0..llen) + suffix + "@" + domain as the next key */
static void add_key (rcptaddr_keys *k, size_t *used, char const *local, size_t llen, char const *suffix, char const *domain)
{
  size_t sl = strlen(suffix), dl = strlen(domain) ;
  char *p = k->buf + *used ;
  if (k->n >= sizeof k->key / sizeof *k->key || *used + llen + sl + 1 + dl + 1 > sizeof k->buf) return ;
  memcpy(p, local, llen) ;
  memcpy(p + llen, suffix, sl) ;
  p[llen + sl] = '@' ;
  memcpy(p + llen + sl + 1, domain, dl + 1) ;
  k->key[k->n++] = p ;
  *used += llen + sl + 1 + dl + 1 ;
}

int rcptaddr_keys_make (char const *addr, char delimiter, int keep_case, rcptaddr_keys *k)
{
  char local[RCPTADDR_MAX + 1], domain[RCPTADDR_MAX + 1] ;
  char const *at = strrchr(addr, '@') ;
  size_t llen, dlen, used = 0, cut[MAX_EXTENSION_LEVELS] ;
  unsigned int levels = 0, i ;
  k->n = 0 ;
  k->domain = 0 ;
  if (!at || strlen(addr) > RCPTADDR_MAX) return 0 ;
  llen = (size_t)(at - addr) ;
  dlen = strlen(at + 1) ;
  if (!dlen) return 0 ;
  memcpy(local, addr, llen) ; local[llen] = 0 ;
  memcpy(domain, at + 1, dlen) ; domain[dlen] = 0 ;
  mx_text_lower(domain, dlen) ;
  if (!keep_case) mx_text_lower(local, llen) ;

  /* the domain first, for the caller's "is it local?" question */
  memcpy(k->buf, domain, dlen + 1) ;
  k->domain = k->buf ;
  used = dlen + 1 ;

  add_key(k, &used, local, llen, "", domain) ;
  /* delimiters, rightmost first: a-b-c gives a-b-default, a-default */
  for (i = (unsigned int)llen ; i-- > 0 && levels < MAX_EXTENSION_LEVELS ; )
    if (local[i] == delimiter && i > 0) cut[levels++] = i ;
  for (i = 0 ; i < levels ; i++)
  {
    char suffix[9] = { delimiter, 'd', 'e', 'f', 'a', 'u', 'l', 't', 0 } ;
    add_key(k, &used, local, cut[i], suffix, domain) ;
  }
  if (levels)
  {
    /* the user is what precedes the first delimiter, however many
       extension levels there are */
    char const *first = memchr(local + 1, delimiter, llen - 1) ;
    add_key(k, &used, local, (size_t)(first - local), "", domain) ;
  }
  add_key(k, &used, "", 0, "", domain) ;   /* catch-all: @domain */
  return 1 ;
}
