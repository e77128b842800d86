/* helo: see helo.h. */
#include "helo.h"

#include <string.h>
#include <strings.h>

#include "mx_dnsname.h"

static int is_letdig (char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ; }

/* RFC 5321 4.1.2's Domain, 255 octets at most (4.5.3.1.2): the default
   rule of mx_dnsname, no relaxation */
int helo_is_domain (char const *s, size_t n)
{
  return mx_dnsname_ok(s, n, 255, 0) ;
}

/* digits and dots only: an address written without its brackets */
static int all_numeric (char const *s, size_t n)
{
  for (size_t i = 0 ; i < n ; i++) if (s[i] != '.' && (s[i] < '0' || s[i] > '9')) return 0 ;
  return 1 ;
}

/* Snum 3("." Snum), Snum = 1*3DIGIT of value 0 to 255 */
static int ipv4_literal (char const *s, size_t n, ip46 *ip)
{
  char b[4] ;
  size_t i = 0 ;
  for (unsigned int part = 0 ; part < 4 ; part++)
  {
    unsigned int v = 0, digits = 0 ;
    if (part) { if (i >= n || s[i] != '.') return 0 ; i++ ; }
    while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) { v = 10 * v + (unsigned int)(s[i] - '0') ; i++ ; digits++ ; }
    if (!digits || digits > 3 || v > 255) return 0 ;
    b[part] = (char)v ;
  }
  if (i != n) return 0 ;
  ip46_from_ip4(ip, b) ;
  return 1 ;
}

static enum helo_result literal (char const *s, size_t n, ip46 const *client)
{
  ip46 lit ;
  /* s is inside the brackets */
  if (n > 5 && !strncasecmp(s, "IPv6:", 5))   /* ABNF strings: any case */
  {
    /* an IPv6 address (::ffff:a.b.c.d is the IPv4 address, as everywhere) */
    if (!memchr(s + 5, ':', n - 5) || !mx_ip_scan(s + 5, n - 5, &lit)) return HELO_INVALID ;
  }
  else if (!ipv4_literal(s, n, &lit))
  {
    /* General-address-literal: Standardized-tag ":" 1*dcontent, with
       dcontent %d33-90 / %d94-126: syntax, but no address of ours to compare */
    size_t colon = 0, i ;
    while (colon < n && s[colon] != ':') colon++ ;
    if (!colon || colon >= n - 1) return HELO_INVALID ;
    for (i = 0 ; i < colon ; i++) if (!is_letdig(s[i]) && s[i] != '-') return HELO_INVALID ;
    if (!is_letdig(s[colon-1])) return HELO_INVALID ;
    for (i = colon + 1 ; i < n ; i++) if (s[i] < 33 || s[i] > 126 || (s[i] >= 91 && s[i] <= 93)) return HELO_INVALID ;
    return HELO_NOT_CLIENT ;
  }
  if (ip46_is6(&lit) != ip46_is6(client) || memcmp(lit.ip, client->ip, ip46_is6(client) ? 16 : 4)) return HELO_NOT_CLIENT ;
  return HELO_OK ;
}

enum helo_result helo_judge (char const *arg, size_t len, ip46 const *ip)
{
  /* blanks around the name are the separator's, as servers split it */
  while (len && (arg[len-1] == ' ' || arg[len-1] == '\t')) len-- ;
  while (len && (arg[0] == ' ' || arg[0] == '\t')) { arg++ ; len-- ; }
  if (!len) return HELO_INVALID ;
  /* a root dot: judged as the name without it (Postfix's
     dup_if_truncate in smtpd_check.c: "Truncate hostnames ending in dot
     but not dot-dot") */
  if (len > 1 && arg[0] != '[' && arg[len-1] == '.' && arg[len-2] != '.') len-- ;
  if (arg[0] == '[')
  {
    if (len < 3 || arg[len-1] != ']') return HELO_INVALID ;
    return literal(arg + 1, len - 2, ip) ;
  }
  if (!helo_is_domain(arg, len) || all_numeric(arg, len)) return HELO_INVALID ;
  return memchr(arg, '.', len) ? HELO_OK : HELO_NOT_FQDN ;
}
