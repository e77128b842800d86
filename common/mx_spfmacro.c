/* mx_spfmacro: see mx_spfmacro.h. */
#include "mx_spfmacro.h"

#include <string.h>

/* an output that keeps at most max - 1 bytes: an explanation keeps
   its first bytes; a domain its last ones, as §7.3 cuts from the left
   (half the buffer dropped at a time, so a long expansion stays
   linear) */
typedef struct sink_s sink ;
struct sink_s { char *buf ; size_t max, len ; int cut, domain ; } ;

static void emit (sink *k, char c)
{
  if (k->len + 1 >= k->max)
  {
    if (!k->domain) { k->cut = 1 ; return ; }
    memmove(k->buf, k->buf + k->max / 2, k->len - k->max / 2) ;
    k->len -= k->max / 2 ;
    k->cut = 1 ;
  }
  k->buf[k->len++] = c ;
}

static int isalpha_ (char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ; }
static int isdigit_ (char c) { return c >= '0' && c <= '9' ; }
static int isdelim (char c) { return c && strchr(".-+,/_=", c) != 0 ; }

static char lower (char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c ; }

/* §7.3: the value's parts (split at any of delims, "." if none),
   reversed with rev, the rightmost digits of them (all if 0), joined
   with "."; URL-escaped (RFC 3986 unreserved kept) if upper */
#define PARTS_MAX 1025
static void emit_value (sink *k, char const *val, unsigned int digits, int rev, char const *delims, size_t ndelims, int upper)
{
  size_t start[PARTS_MAX], len[PARTS_MAX] ;
  size_t n = 0, i, vlen = strlen(val), first ;
  if (vlen > PARTS_MAX - 1) vlen = PARTS_MAX - 1 ;
  start[0] = 0 ;
  for (i = 0 ; i <= vlen ; i++)
  {
    int isd = 0 ;
    if (i < vlen)
    {
      if (ndelims) isd = memchr(delims, val[i], ndelims) != 0 ;
      else isd = val[i] == '.' ;
    }
    if (i == vlen || isd)
    {
      len[n] = i - start[n] ;
      n++ ;
      if (i < vlen) start[n] = i + 1 ;
    }
  }
  if (rev)
    for (i = 0 ; i < n / 2 ; i++)
    {
      size_t ts = start[i], tl = len[i] ;
      start[i] = start[n - 1 - i] ; len[i] = len[n - 1 - i] ;
      start[n - 1 - i] = ts ; len[n - 1 - i] = tl ;
    }
  first = digits && digits < n ? n - digits : 0 ;
  for (i = first ; i < n ; i++)
  {
    size_t j ;
    if (i > first) emit(k, '.') ;
    for (j = 0 ; j < len[i] ; j++)
    {
      unsigned char c = (unsigned char)val[start[i] + j] ;
      if (upper && !(isalpha_((char)c) || isdigit_((char)c) || c == '-' || c == '.' || c == '_' || c == '~'))
      {
        static char const hex[] = "0123456789ABCDEF" ;
        emit(k, '%') ; emit(k, hex[c >> 4]) ; emit(k, hex[c & 15]) ;
      }
      else emit(k, (char)c) ;
    }
  }
}

/* Walks s[0..n): checks it and, with k, expands it. 1 if valid. */
static int walk (char const *s, size_t n, int exp, mx_spf_macros const *m, sink *k)
{
  size_t i = 0 ;
  while (i < n)
  {
    unsigned char c = (unsigned char)s[i] ;
    if (c == ' ' && exp) { if (k) emit(k, ' ') ; i++ ; continue ; }
    if (c < 0x21 || c > 0x7e) return 0 ;
    if (c != '%') { if (k) emit(k, (char)c) ; i++ ; continue ; }
    if (i + 1 >= n) return 0 ;
    c = (unsigned char)s[i + 1] ;
    if (c == '%') { if (k) emit(k, '%') ; i += 2 ; continue ; }
    if (c == '_') { if (k) emit(k, ' ') ; i += 2 ; continue ; }
    if (c == '-') { if (k) { emit(k, '%') ; emit(k, '2') ; emit(k, '0') ; } i += 2 ; continue ; }
    if (c != '{') return 0 ;
    {
      char letter ;
      unsigned int digits = 0 ;
      int rev = 0, hasdigits = 0 ;
      size_t d0, nd ;
      i += 2 ;
      if (i >= n) return 0 ;
      letter = s[i++] ;
      if (!strchr(exp ? "slodiphcrtvSLODIPHCRTV" : "slodiphvSLODIPHV", letter) || !letter) return 0 ;
      while (i < n && isdigit_(s[i]))
      {
        hasdigits = 1 ;
        if (digits < 100000) digits = digits * 10 + (unsigned int)(s[i] - '0') ;
        i++ ;
      }
      if (hasdigits && !digits) return 0 ;  /* §7.3: nonzero */
      if (i < n && lower(s[i]) == 'r') { rev = 1 ; i++ ; }
      d0 = i ;
      while (i < n && isdelim(s[i])) i++ ;
      nd = i - d0 ;
      if (i >= n || s[i] != '}') return 0 ;
      i++ ;
      if (k)
      {
        char const *val ;
        switch (lower(letter))
        {
          case 's': val = m->s ; break ;
          case 'l': val = m->l ; break ;
          case 'o': val = m->o ; break ;
          case 'd': val = m->d ; break ;
          case 'i': val = m->i ; break ;
          case 'v': val = m->v ; break ;
          case 'h': val = m->h ; break ;
          case 'c': val = m->c ; break ;
          case 'r': val = m->r ; break ;
          case 't': val = m->t ; break ;
          default: val = m->p ? m->p(m->pctx, m->d) : "unknown" ; break ;
        }
        if (!val) val = "unknown" ;
        emit_value(k, val, digits, rev, s + d0, nd, letter >= 'A' && letter <= 'Z') ;
      }
    }
  }
  return 1 ;
}

int mx_spf_macro_valid (char const *s, size_t n, int exp)
{
  return walk(s, n, exp, 0, 0) ;
}

static int alnum (char c) { return isalpha_(c) || isdigit_(c) ; }

/* toplabel = ( *alphanum ALPHA *alphanum ) /
              ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int toplabel (char const *s, size_t n)
{
  size_t i ;
  int alpha = 0, hyphen = 0 ;
  if (!n) return 0 ;
  for (i = 0 ; i < n ; i++)
  {
    if (s[i] == '-') hyphen = 1 ;
    else if (isalpha_(s[i])) alpha = 1 ;
    else if (!isdigit_(s[i])) return 0 ;
  }
  if (!hyphen) return alpha ;
  return alnum(s[0]) && alnum(s[n - 1]) ;
}

int mx_spf_domainspec_valid (char const *s, size_t n)
{
  size_t e = n, i ;
  if (!n || !walk(s, n, 0, 0, 0)) return 0 ;
  /* ends with a macro-expand: "}" closing one, or %% %_ %- (counted
     back: an odd run of "%" before the last byte) */
  if (s[n - 1] == '}')
  {
    i = n - 1 ;
    while (i && s[i - 1] != '{') i-- ;
    if (i >= 2 && s[i - 2] == '%') return 1 ;
  }
  if (n >= 2 && strchr("%_-", s[n - 1]))
  {
    size_t run = 0 ;
    i = n - 1 ;
    while (i && s[i - 1] == '%') { run++ ; i-- ; }
    if (run % 2) return 1 ;
  }
  if (s[e - 1] == '.') e-- ;
  i = e ;
  while (i && s[i - 1] != '.') i-- ;
  if (!i) return 0 ;
  return toplabel(s + i, e - i) ;
}

int mx_spf_expand_domain (char const *s, size_t n, mx_spf_macros const *m, char *out)
{
  char work[2048] ;
  sink k = { work, sizeof work, 0, 0, 1 } ;
  size_t from = 0 ;
  if (!walk(s, n, 0, m, &k)) return 0 ;
  if (k.len && work[k.len - 1] == '.') k.len-- ;
  if (k.cut)
  {
    /* the first label may have lost its start: drop it */
    while (from < k.len && work[from] != '.') from++ ;
    if (from < k.len) from++ ;
  }
  while (k.len - from > MX_SPFMACRO_DOMAIN_ROOM - 1)
  {
    while (from < k.len && work[from] != '.') from++ ;
    if (from < k.len) from++ ;
  }
  memcpy(out, work + from, k.len - from) ;
  out[k.len - from] = 0 ;
  return 1 ;
}

int mx_spf_expand_exp (char const *s, size_t n, mx_spf_macros const *m, char *out, size_t max)
{
  sink k = { out, max, 0, 0, 0 } ;
  if (!max) return 0 ;
  if (!walk(s, n, 1, m, &k)) { out[0] = 0 ; return 0 ; }
  out[k.len] = 0 ;
  return 1 ;
}
