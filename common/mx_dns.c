/* mx_dns: libowfat's DNS client under one deadline. Only libowfat
 * headers here (they share names with skalibs'); see mx_dns.h.
 */
#include "mx_dns.h"

#include <string.h>

#include <dns.h>
#include <iopause.h>
#include <stralloc.h>
#include <taia.h>

/* One query, answered or abandoned by the deadline. Returns 1 with the
   packet in tx, 0 on timeout, -1 on failure. */
static int ask (struct dns_transmit *tx, char const servers[256], char const *q, char const *qtype, struct taia const *deadline)
{
  static char const anylocal[16] = { 0 } ;
  if (dns_transmit_start(tx, servers, 1, q, qtype, anylocal) < 0) return -1 ;
  for (;;)
  {
    struct taia stamp, wake ;
    iopause_fd x ;
    int r ;
    taia_now(&stamp) ;
    if (taia_less(deadline, &stamp)) return 0 ;
    wake = *deadline ;
    dns_transmit_io(tx, &x, &wake) ;
    /* libowfat may ask to wake later than our deadline: never wait past it */
    if (taia_less(deadline, &wake)) wake = *deadline ;
    iopause(&x, 1, &wake, &stamp) ;
    r = dns_transmit_get(tx, &x, &stamp) ;
    if (r < 0) return -1 ;
    if (r == 1) return 1 ;
  }
}

int mx_dns_fcrdns (char const *ip, int is6, unsigned int ms, char *name, size_t max)
{
  struct dns_transmit tx ;
  struct taia deadline, span ;
  char servers[256] ;
  char q4[DNS_NAME4_DOMAIN], q6[DNS_NAME6_DOMAIN] ;
  char *fwd = 0 ;
  stralloc ptr = { 0, 0, 0 }, addrs = { 0, 0, 0 } ;
  size_t alen = is6 ? 16 : 4, i ;
  int r, result = -1 ;

  memset(&tx, 0, sizeof tx) ;
  taia_now(&deadline) ;
  taia_uint(&span, ms / 1000) ;
  span.nano = (ms % 1000) * 1000000UL ;
  taia_add(&deadline, &deadline, &span) ;
  if (dns_resolvconfip(servers) < 0) return -1 ;

  if (is6) dns_name6_domain(q6, ip) ; else dns_name4_domain(q4, ip) ;
  r = ask(&tx, servers, is6 ? q6 : q4, DNS_T_PTR, &deadline) ;
  if (r <= 0) goto done ;
  if (dns_name_packet(&ptr, tx.packet, tx.packetlen) < 0) goto done ;
  dns_transmit_free(&tx) ;
  if (!ptr.len) { result = 0 ; goto done ; }

  /* the name must lead back to the address */
  if (!dns_domain_fromdot(&fwd, ptr.s, ptr.len)) goto done ;
  r = ask(&tx, servers, fwd, is6 ? DNS_T_AAAA : DNS_T_A, &deadline) ;
  if (r <= 0) goto done ;
  if ((is6 ? dns_ip6_packet(&addrs, tx.packet, tx.packetlen) : dns_ip4_packet(&addrs, tx.packet, tx.packetlen)) < 0) goto done ;
  result = 0 ;
  for (i = 0 ; i + alen <= addrs.len ; i += alen)
    if (!memcmp(addrs.s + i, ip, alen)) { result = 1 ; break ; }
  if (result == 1)
  {
    size_t n = ptr.len < max - 1 ? ptr.len : max - 1 ;
    for (i = 0 ; i < n ; i++)
    {
      char c = ptr.s[i] ;
      name[i] = c >= 'A' && c <= 'Z' ? c + 32 : c ;
    }
    name[n] = 0 ;
  }

 done:
  dns_transmit_free(&tx) ;
  dns_domain_free(&fwd) ;
  stralloc_free(&ptr) ;
  stralloc_free(&addrs) ;
  return result ;
}
