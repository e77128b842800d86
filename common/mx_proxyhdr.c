/* mx_proxyhdr: see mx_proxyhdr.h. */
#include "mx_proxyhdr.h"

#include <string.h>

#include <skalibs/types.h>

#include "mx_text.h"

static unsigned char const sig2[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a } ;

long proxyhdr_need (unsigned char const *buf, size_t len, unsigned int versions)
{
  int one = !!(versions & PROXYHDR_V1), two = !!(versions & PROXYHDR_V2) ;
  if (len < 8)
  {
    /* the shortest header is 15 bytes: 8 can always be read */
    one = one && !memcmp(buf, "PROXY ", len < 6 ? len : 6) ;
    two = two && !memcmp(buf, sig2, len) ;
    return one || two ? 8 : -1 ;
  }
  if (one && !memcmp(buf, "PROXY ", 6))
  {
    unsigned char const *lf = memchr(buf, '\n', len) ;
    /* an LF inside the first 8 bytes ends no header (15 at least) */
    if (lf) return (size_t)(lf - buf) + 1 == len ? (long)len : -1 ;
    if (len >= PROXYHDR_V1_MAX) return -1 ;
    return (long)len + 1 ;   /* a byte at a time: never past the LF */
  }
  if (two && !memcmp(buf, sig2, len < 12 ? len : 12))
  {
    size_t body ;
    if (len < 16) return 16 ;
    body = ((size_t)buf[14] << 8) | buf[15] ;
    return body > PROXYHDR_V2_BODY_MAX ? -1 : (long)(16 + body) ;
  }
  return -1 ;
}

/* a decimal port, no leading zero, 0 to 65535 */
static int port (char const *s, size_t n, uint16_t *p)
{
  unsigned long v ;
  if (!mx_text_decimal(s, n, 65535, &v)) return 0 ;
  *p = (uint16_t)v ;
  return 1 ;
}

static enum proxyhdr_kind v1 (char const *s, size_t len, proxyhdr *h)
{
  char const *f[6] ;
  size_t fl[6], i = 0, start = 0, n = 0, p ;
  int six ;
  if (len < 8 || s[len - 2] != '\r' || s[len - 1] != '\n') return PROXYHDR_BAD ;
  len -= 2 ;
  if (memchr(s, '\r', len) || memchr(s, '\n', len) || memchr(s, 0, len)) return PROXYHDR_BAD ;
  h->version = 1 ;
  if (len >= 13 && !memcmp(s, "PROXY UNKNOWN", 13) && (len == 13 || s[13] == ' ')) return PROXYHDR_LOCAL ;
  /* six fields, single blanks */
  for (p = 0 ; p <= len ; p++)
    if (p == len || s[p] == ' ')
    {
      if (n == 6 || p == start) return PROXYHDR_BAD ;
      f[n] = s + start ; fl[n] = p - start ; n++ ;
      start = p + 1 ;
    }
  if (n != 6 || fl[0] != 5 || memcmp(f[0], "PROXY", 5) || fl[1] != 4) return PROXYHDR_BAD ;
  if (!memcmp(f[1], "TCP4", 4)) six = 0 ;
  else if (!memcmp(f[1], "TCP6", 4)) six = 1 ;
  else return PROXYHDR_BAD ;
  for (i = 2 ; i < 4 ; i++)
  {
    ip46 *ip = i == 2 ? &h->src : &h->dst ;
    if (!mx_ip_scan(f[i], fl[i], ip)) return PROXYHDR_BAD ;
    /* TCP4 holds dotted quads; TCP6 IPv6 text (which may map IPv4) */
    if (six != (memchr(f[i], ':', fl[i]) != 0)) return PROXYHDR_BAD ;
  }
  if (!port(f[4], fl[4], &h->sport) || !port(f[5], fl[5], &h->dport)) return PROXYHDR_BAD ;
  return PROXYHDR_PROXY ;
}

/* an address from v2's binary form, made canonical as a text one would be */
static int addr2 (unsigned char const *a, int six, ip46 *ip)
{
  ip46 raw ;
  char text[MX_IP_FMT] ;
  if (six) ip46_from_ip6(&raw, (char const *)a) ;
  else ip46_from_ip4(&raw, (char const *)a) ;
  return mx_ip_scan(text, mx_ip_fmt(text, &raw), ip) ;
}

enum proxyhdr_kind proxyhdr_parse (unsigned char const *buf, size_t len, proxyhdr *h)
{
  size_t body ;
  memset(h, 0, sizeof *h) ;
  if (len >= 6 && !memcmp(buf, "PROXY ", 6)) return len <= PROXYHDR_V1_MAX ? v1((char const *)buf, len, h) : PROXYHDR_BAD ;
  if (len < 16 || memcmp(buf, sig2, 12)) return PROXYHDR_BAD ;
  body = ((size_t)buf[14] << 8) | buf[15] ;
  if (len != 16 + body || body > PROXYHDR_V2_BODY_MAX || (buf[12] >> 4) != 2) return PROXYHDR_BAD ;
  h->version = 2 ;
  switch (buf[12] & 0x0f)
  {
    case 0 : return PROXYHDR_LOCAL ;
    case 1 : break ;
    default : return PROXYHDR_BAD ;
  }
  if (buf[13] == 0x11 && body >= 12)
  {
    if (!addr2(buf + 16, 0, &h->src) || !addr2(buf + 20, 0, &h->dst)) return PROXYHDR_BAD ;
    h->sport = (uint16_t)((buf[24] << 8) | buf[25]) ;
    h->dport = (uint16_t)((buf[26] << 8) | buf[27]) ;
    return PROXYHDR_PROXY ;
  }
  if (buf[13] == 0x21 && body >= 36)
  {
    if (!addr2(buf + 16, 1, &h->src) || !addr2(buf + 32, 1, &h->dst)) return PROXYHDR_BAD ;
    h->sport = (uint16_t)((buf[48] << 8) | buf[49]) ;
    h->dport = (uint16_t)((buf[50] << 8) | buf[51]) ;
    return PROXYHDR_PROXY ;
  }
  return PROXYHDR_BAD ;   /* UDP, UNIX, UNSPEC: no TCP client to name */
}

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

static size_t make1 (unsigned char *out, int six, ip46 const *src, unsigned int sport, ip46 const *dst, unsigned int dport)
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

static size_t make2 (unsigned char *out, int six, ip46 const *src, unsigned int sport, ip46 const *dst, unsigned int dport)
{
  size_t alen = six ? 16 : 4, w = 16 ;
  memcpy(out, sig2, 12) ;
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

size_t proxyhdr_make (unsigned char *out, unsigned int version, ip46 const *src, unsigned int sport, ip46 const *dst, unsigned int dport)
{
  int six = ip46_is6(src) || ip46_is6(dst) ;
  return version == PROXYHDR_V1 ? make1(out, six, src, sport, dst, dport) : make2(out, six, src, sport, dst, dport) ;
}
