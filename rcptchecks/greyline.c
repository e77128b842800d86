/* greyline: see greyline.h. */
#include "greyline.h"

#include <string.h>

static int field_ok (char const *s, size_t n, size_t max)
{
  size_t i ;
  if (!n || n > max) return 0 ;
  for (i = 0 ; i < n ; i++) if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] >= 127) return 0 ;
  return 1 ;
}

static int number (char const *s, size_t n, uint64_t *v)
{
  uint64_t u = 0 ;
  size_t i ;
  if (!n || n > 20 || (n > 1 && s[0] == '0')) return 0 ;
  for (i = 0 ; i < n ; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0 ;
    if (u > GREY_TS_MAX / 10) return 0 ;
    u = u * 10 + (uint64_t)(s[i] - '0') ;
  }
  if (u > GREY_TS_MAX) return 0 ;
  *v = u ;
  return 1 ;
}

int greyline_net (char const *s)
{
  char const *slash = strchr(s, '/') ;
  char again[GREY_NET_MAX + 1] ;
  ip46 ip ;
  uint64_t bits ;
  size_t n = strlen(s) ;
  if (!slash || n > GREY_NET_MAX || !mx_ip_scan(s, (size_t)(slash - s), &ip)) return 0 ;
  if (!number(slash + 1, strlen(slash + 1), &bits) || bits > (ip46_is6(&ip) ? 128 : 32)) return 0 ;
  /* canonical: the same text as greystore_net gives */
  greystore_net(again, &ip, (unsigned int)bits, (unsigned int)bits) ;
  return !strcmp(again, s) ;
}

enum greyline_kind greyline_parse (char const *s, size_t len, greyline *l, char const **why)
{
  char const *f[7] ;
  size_t fl[7], i = 0, nf = 0 ;
  memset(l, 0, sizeof *l) ;
  *why = 0 ;
  if (!len || s[0] == '#') return GREYLINE_EMPTY ;
  if (len > GREYLINE_MAX) { *why = "line too long" ; return GREYLINE_BAD ; }
  while (i <= len)
  {
    size_t j = i ;
    while (j < len && s[j] != ' ') j++ ;
    if (nf == 7) { *why = "too many fields" ; return GREYLINE_BAD ; }
    f[nf] = s + i ; fl[nf++] = j - i ;
    if (j == i) { *why = "empty field (one blank between fields)" ; return GREYLINE_BAD ; }
    i = j + 1 ;
  }
  if (nf != 6 && nf != 3) { *why = "not 6 fields (a triplet) or 3 (a network)" ; return GREYLINE_BAD ; }
  if (!field_ok(f[0], fl[0], GREY_NET_MAX)) { *why = "bad network" ; return GREYLINE_BAD ; }
  memcpy(l->net, f[0], fl[0]) ; l->net[fl[0]] = 0 ;
  if (!greyline_net(l->net)) { *why = "bad network (address/prefix, host bits clear)" ; return GREYLINE_BAD ; }
  if (nf == 3)
  {
    if (!number(f[1], fl[1], &l->n.passes) || !number(f[2], fl[2], &l->n.last)) { *why = "bad number" ; return GREYLINE_BAD ; }
    return GREYLINE_NET ;
  }
  if (!field_ok(f[1], fl[1], GREY_FIELD_MAX) || !field_ok(f[2], fl[2], GREY_FIELD_MAX)) { *why = "bad sender or recipient" ; return GREYLINE_BAD ; }
  memcpy(l->sender, f[1], fl[1]) ; l->sender[fl[1]] = 0 ;
  memcpy(l->rcpt, f[2], fl[2]) ; l->rcpt[fl[2]] = 0 ;
  if (!number(f[3], fl[3], &l->r.first) || !number(f[4], fl[4], &l->r.passed) || !number(f[5], fl[5], &l->r.count)) { *why = "bad number" ; return GREYLINE_BAD ; }
  if (l->r.passed && l->r.passed < l->r.first) { *why = "passed before first seen" ; return GREYLINE_BAD ; }
  return GREYLINE_TRIPLET ;
}

static size_t put (char *out, size_t n, char const *s)
{
  size_t l = strlen(s) ;
  memcpy(out + n, s, l) ;
  return n + l ;
}

static size_t putnum (char *out, size_t n, uint64_t u)
{
  char b[20] ;
  size_t k = 0 ;
  out[n++] = ' ' ;
  do b[k++] = (char)('0' + u % 10) ; while (u /= 10) ;
  while (k) out[n++] = b[--k] ;
  return n ;
}

size_t greyline_fmt (char *out, char const *net, char const *sender, char const *rcpt, greyrec const *r, greynet const *n)
{
  size_t w = put(out, 0, net) ;
  if (sender)
  {
    out[w++] = ' ' ; w = put(out, w, sender) ;
    out[w++] = ' ' ; w = put(out, w, rcpt) ;
    w = putnum(out, w, r->first) ; w = putnum(out, w, r->passed) ; w = putnum(out, w, r->count) ;
  }
  else { w = putnum(out, w, n->passes) ; w = putnum(out, w, n->last) ; }
  out[w++] = '\n' ;
  out[w] = 0 ;
  return w ;
}
