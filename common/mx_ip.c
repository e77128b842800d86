/* mx_ip: strict IPv4/IPv6 parsing on top of skalibs' ip46. */
#include "mx_ip.h"

#include <string.h>
#include <strings.h>

static char const v4mapped_prefix[12] =
  { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (char)0xff, (char)0xff } ;

/* skalibs' ip4_scan takes "256" as 0 and "01" as 1: accept only text
   that formats back to itself, so one address has one spelling. */
static int scan_ip4_strict(char const *s, size_t len, char *ip4)
{
  char back[IP4_FMT] ;
  if (!len || len >= IP4_FMT) return 0 ;
  if (ip4_scan(s, ip4) != len) return 0 ;
  return ip4_fmt(back, ip4) == len && !memcmp(back, s, len) ;
}

int mx_ip_scan(char const *s, size_t len, ip46 *ip)
{
  char buf[IP6_FMT + 1] ;
  char ip6[16] ;
  if (!len || len >= sizeof buf || memchr(s, 0, len)) return 0 ;
  memcpy(buf, s, len) ; buf[len] = 0 ;
  if (!memchr(buf, ':', len))
  {
    char ip4[4] ;
    if (!scan_ip4_strict(buf, len, ip4)) return 0 ;
    ip46_from_ip4(ip, ip4) ;
    return 1 ;
  }
  /* the dotted-quad tail of ::ffff:a.b.c.d is not understood by ip6_scan */
  if (len > 7 && !strncasecmp(buf, "::ffff:", 7) && memchr(buf + 7, '.', len - 7))
  {
    char ip4[4] ;
    if (!scan_ip4_strict(buf + 7, len - 7, ip4)) return 0 ;
    ip46_from_ip4(ip, ip4) ;
    return 1 ;
  }
  if (ip6_scan(buf, ip6) != len) return 0 ;
  if (!memcmp(ip6, v4mapped_prefix, 12)) ip46_from_ip4(ip, ip6 + 12) ;
  else ip46_from_ip6(ip, ip6) ;
  return 1 ;
}

size_t mx_ip_fmt(char *s, ip46 const *ip)
{
  size_t n = ip46_fmt(s, ip) ;
  s[n] = 0 ;
  return n ;
}

int mx_ip_canon(char const *s, ip46 *ip, char *out)
{
  if (!mx_ip_scan(s, strlen(s), ip)) return 0 ;
  mx_ip_fmt(out, ip) ;
  return 1 ;
}
