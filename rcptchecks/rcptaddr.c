/* rcptaddr: see rcptaddr.h. Everything here works on bytes the client
 * sent: every copy is bounded by RCPTADDR_MAX and the sizes in the
 * header.
 */
#include "rcptaddr.h"

#include <string.h>

#include "mx_text.h"

#define MAX_EXTENSION_LEVELS 12

int rcptaddr_parse (char const *arg, size_t len, char *out)
{
  char const *end = arg + len ;
  char const *x = memchr(arg, '<', len) ;
  char terminator = '>' ;
  int quoted = 0, escaped = 0 ;
  size_t n = 0 ;
  if (x) x++ ;
  else
  {
    /* no brackets: the first word after the colon, if there is one */
    terminator = ' ' ;
    x = memchr(arg, ':', len) ;
    x = x ? x + 1 : arg ;
    while (x < end && *x == ' ') x++ ;
  }
  if (x < end && *x == '@')   /* source route: @a,@b:user@d */
    while (x < end) if (*x++ == ':') break ;
  for (; x < end ; x++)
  {
    char c = *x ;
    if (!c || c == '\r' || c == '\n') return -1 ;
    if (escaped) escaped = 0 ;
    else if (!quoted && c == terminator) break ;
    /* comments and blanks: qmail-smtpd keeps them in the address, other
       servers drop them, so "a@example.org(x)" or "a@ example.org"
       would be a foreign domain here and a local one there */
    else if (!quoted && (c == '(' || c == ')' || c == ' ' || c == '\t')) return -1 ;
    else if (c == '\\') { escaped = 1 ; continue ; }
    else if (c == '"') { quoted = !quoted ; continue ; }
    if (n >= RCPTADDR_MAX) return -1 ;
    out[n++] = c ;
  }
  out[n] = 0 ;
  return (int)n ;
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
  if (dlen && at[dlen] == '.') dlen-- ;    /* example.org. is example.org */
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
