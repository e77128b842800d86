/* greystore: see greystore.h. The keys and the decision, apart from
 * any store (greystore-any.c calls the one in use).
 */
#include "greystore.h"

#include <string.h>
#include <strings.h>

static char const hex[] = "0123456789abcdef" ;

static char const *const words[] = { "new", "early", "retried", "known", "allowed", "error" } ;

char const *greystore_word (enum grey_verdict v)
{
  return (unsigned int)v <= GREY_ERROR ? words[v] : "error" ;
}

size_t greystore_field (char *out, char const *s, size_t n, int lower)
{
  uint64_t h = UINT64_C(14695981039346656037) ;   /* FNV-1a of the whole */
  size_t w = 0, i ;
  int cut = 0 ;
  for (i = 0 ; i < n ; i++)
  {
    unsigned char c = (unsigned char)s[i] ;
    if (lower && c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32) ;
    h ^= c ; h *= UINT64_C(1099511628211) ;
    if (cut) continue ;
    if (w + 3 > GREY_FIELD_MAX - 17) { cut = 1 ; continue ; }
    if (c > 32 && c < 127 && c != '%') out[w++] = (char)c ;
    else { out[w++] = '%' ; out[w++] = hex[c >> 4] ; out[w++] = hex[c & 15] ; }
  }
  if (cut)
  {
    unsigned int k ;
    out[w++] = '#' ;
    for (k = 0 ; k < 16 ; k++) out[w++] = hex[(h >> (60 - 4 * k)) & 15] ;
  }
  out[w] = 0 ;
  return w ;
}

size_t greystore_sender (char *out, char const *addr)
{
  size_t n = strlen(addr) ;
  if (!n) { memcpy(out, "<>", 3) ; return 2 ; }
  /* BATV: prvs=TAG=local@domain */
  if (n > 5 && !strncasecmp(addr, "prvs=", 5))
  {
    char const *eq = memchr(addr + 5, '=', n - 5), *at = strrchr(addr, '@') ;
    if (eq && at && eq < at && eq + 1 < at) { n -= (size_t)(eq + 1 - addr) ; addr = eq + 1 ; }
  }
  return greystore_field(out, addr, n, 1) ;
}

size_t greystore_net (char *out, ip46 const *ip, unsigned int v4, unsigned int v6)
{
  ip46 m = *ip ;
  unsigned int bits = ip46_is6(ip) ? v6 : v4, total = ip46_is6(ip) ? 128 : 32, i ;
  size_t n ;
  char num[4] ;
  if (bits > total) bits = total ;
  for (i = bits ; i < total ; i++) m.ip[i >> 3] &= (char)~(0x80 >> (i & 7)) ;
  n = mx_ip_fmt(out, &m) ;
  out[n++] = '/' ;
  i = 0 ;
  do num[i++] = (char)('0' + bits % 10) ; while (bits /= 10) ;
  while (i) out[n++] = num[--i] ;
  out[n] = 0 ;
  return n ;
}

int greystore_stale_rec (greyconf const *c, uint64_t now, greyrec const *r)
{
  if (r->passed) return now > r->passed && now - r->passed > c->lifetime ;
  return now > r->first && now - r->first > c->window ;
}

int greystore_stale_net (greyconf const *c, uint64_t now, greynet const *n)
{
  return now > n->last && now - n->last > c->lifetime ;
}

enum grey_verdict greystore_decide (greyconf const *c, uint64_t now, greyrec *r, int found, greynet *n, int *write_r, int *write_n)
{
  *write_r = *write_n = 0 ;
  if (c->autoallow && n->passes >= c->autoallow && !greystore_stale_net(c, now, n)) return GREY_ALLOWED ;
  *write_r = 1 ;
  if (!found || greystore_stale_rec(c, now, r))
  {
    r->first = now ; r->passed = 0 ; r->count = 1 ;
    return GREY_NEW ;
  }
  r->count++ ;
  if (r->passed) { r->passed = now ; return GREY_KNOWN ; }
  if (now < r->first + c->delay) return GREY_EARLY ;
  r->passed = now ;
  if (greystore_stale_net(c, now, n)) n->passes = 0 ;
  n->passes++ ;
  n->last = now ;
  *write_n = 1 ;
  return GREY_RETRIED ;
}
