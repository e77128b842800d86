/* proxyout: see proxyout.h. */
#include "proxyout.h"

#include <string.h>

#include <skalibs/types.h>

/* the 16-byte IPv6 form of ip (IPv4 as ::ffff:a.b.c.d) */
static void as6 (unsigned char out[16], ip46 const *ip)
{
  if (ip46_is6(ip)) { memcpy(out, ip->ip, 16) ; return ; }
  memset(out, 0, 10) ;
  out[10] = out[11] = 0xff ;
  memcpy(out + 12, ip->ip, 4) ;
}

/* one address in v1's text: a dotted quad, or IPv6 (a mapped IPv4
   address too: TCP6 wants both in IPv6 form) */
static size_t addr_fmt (char *s, int six, ip46 const *ip)
{
  unsigned char x[16] ;
  if (!six) return ip4_fmt(s, ip->ip) ;
  as6(x, ip) ;
  return ip6_fmt(s, (char const *)x) ;
}

static size_t v1 (unsigned char *out, int six, ip46 const *src, unsigned int sport, ip46 const *dst, unsigned int dport)
{
  char *s = (char *)out ;
  size_t w ;
  memcpy(s, six ? "PROXY TCP6 " : "PROXY TCP4 ", 11) ; w = 11 ;
  w += addr_fmt(s + w, six, src) ;
  s[w++] = ' ' ;
  w += addr_fmt(s + w, six, dst) ;
  s[w++] = ' ' ;
  w += uint_fmt(s + w, sport) ;
  s[w++] = ' ' ;
  w += uint_fmt(s + w, dport) ;
  s[w++] = '\r' ;
  s[w++] = '\n' ;
  return w ;
}

static size_t v2 (unsigned char *out, int six, ip46 const *src, unsigned int sport, ip46 const *dst, unsigned int dport)
{
  static unsigned char const sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a } ;
  size_t alen = six ? 16 : 4, w = 16 ;
  memcpy(out, sig, 12) ;
  out[12] = 0x21 ;                      /* version 2, PROXY */
  out[13] = six ? 0x21 : 0x11 ;         /* AF_INET6 or AF_INET, STREAM */
  out[14] = 0 ;
  out[15] = (unsigned char)(2 * alen + 4) ;
  if (six) { as6(out + w, src) ; as6(out + w + 16, dst) ; }
  else { memcpy(out + w, src->ip, 4) ; memcpy(out + w + 4, dst->ip, 4) ; }
  w += 2 * alen ;
  out[w++] = (unsigned char)(sport >> 8) ; out[w++] = (unsigned char)sport ;
  out[w++] = (unsigned char)(dport >> 8) ; out[w++] = (unsigned char)dport ;
  return w ;
}

size_t proxyout_make (unsigned char *out, unsigned int version, ip46 const *src, unsigned int sport, ip46 const *dst, unsigned int dport)
{
  int six = ip46_is6(src) || ip46_is6(dst) ;
  return version == 1 ? v1(out, six, src, sport, dst, dport) : v2(out, six, src, sport, dst, dport) ;
}
