/* mx_spfdns: mx_spf's questions asked of libowfat's DNS client, under
 * the one deadline of an evaluation. In the sealed DNS object beside
 * mx_dns.c (common/LIBRARIES): libowfat headers only, see mx_spf.h.
 */
#include "mx_spf.h"
#include "mx_dnsseal.h"

#include <string.h>
#include <time.h>

#include <dns.h>
#include <iopause.h>
#include <stralloc.h>
#include <taia.h>

static long long now_ms (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_MONOTONIC, &ts) ;
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 ;
}

void mx_dns_spf_start (mx_spf_dnsctx *c, unsigned int ms)
{
  c->deadline_ms = now_ms() + ms ;
}

/* appends one record of n bytes to out, if it fits */
static void put (mx_spf_answer *out, char const *s, size_t n)
{
  if (n > 65535 || out->len + 2 + n > sizeof out->buf) return ;
  out->buf[out->len++] = (unsigned char)(n >> 8) ;
  out->buf[out->len++] = (unsigned char)n ;
  memcpy(out->buf + out->len, s, n) ;
  out->len += n ;
  out->n++ ;
}

/* the name at pos of the packet, dotted, without the last dot */
static int putname (mx_spf_answer *out, char const *buf, unsigned int len, unsigned int pos)
{
  char *d = 0 ;
  stralloc sa = { 0, 0, 0 } ;
  int ok = 0 ;
  if (!dns_packet_getname(buf, len, pos, &d)) return 0 ;
  if (dns_domain_todot_cat(&sa, d))
  {
    size_t n = sa.len ;
    if (n && sa.s[n - 1] == '.') n-- ;
    put(out, sa.s, n) ;
    ok = 1 ;
  }
  dns_domain_free(&d) ;
  stralloc_free(&sa) ;
  return ok ;
}

/* the records of type qtype (class IN) in the answer section */
static int parse (char const *buf, unsigned int len, char const *qtype, mx_spf_answer *out)
{
  char header[12] ;
  unsigned int pos, numanswers ;
  pos = dns_packet_copy(buf, len, 0, header, 12) ; if (!pos) return -1 ;
  out->rcode = (unsigned char)header[3] & 15 ;
  if (out->rcode != 0 && out->rcode != 3) return -1 ;
  numanswers = ((unsigned char)header[6] << 8) | (unsigned char)header[7] ;
  pos = dns_packet_skipname(buf, len, pos) ; if (!pos) return -1 ;
  pos += 4 ;
  while (numanswers--)
  {
    unsigned int datalen ;
    pos = dns_packet_skipname(buf, len, pos) ; if (!pos) return -1 ;
    pos = dns_packet_copy(buf, len, pos, header, 10) ; if (!pos) return -1 ;
    datalen = ((unsigned char)header[8] << 8) | (unsigned char)header[9] ;
    if (pos + datalen > len) return -1 ;
    if (!memcmp(header, qtype, 2) && !memcmp(header + 2, DNS_C_IN, 2))
    {
      if (!memcmp(qtype, DNS_T_TXT, 2))
      {
        char rec[65536] ;
        size_t n = 0 ;
        unsigned int i = 0 ;
        while (i < datalen)
        {
          unsigned int k = (unsigned char)buf[pos + i] ;
          if (i + 1 + k > datalen) return -1 ;
          memcpy(rec + n, buf + pos + i + 1, k) ;
          n += k ; i += 1 + k ;
        }
        put(out, rec, n) ;
      }
      else if (!memcmp(qtype, DNS_T_A, 2)) { if (datalen == 4) put(out, buf + pos, 4) ; }
      else if (!memcmp(qtype, DNS_T_AAAA, 2)) { if (datalen == 16) put(out, buf + pos, 16) ; }
      else if (!memcmp(qtype, DNS_T_MX, 2)) { if (datalen < 3 || !putname(out, buf, len, pos + 2)) return -1 ; }
      else if (!putname(out, buf, len, pos)) return -1 ;
    }
    pos += datalen ;
  }
  return 1 ;
}

int mx_dns_spf_ask (void *ctx, enum mx_spf_qtype type, char const *name, mx_spf_answer *out)
{
  static char const anylocal[16] = { 0 } ;
  mx_spf_dnsctx *c = ctx ;
  struct dns_transmit tx ;
  struct taia deadline, span ;
  char servers[256] ;
  char *wire = 0 ;
  char const *qtype = type == MX_SPF_Q_A ? DNS_T_A : type == MX_SPF_Q_AAAA ? DNS_T_AAAA : type == MX_SPF_Q_MX ? DNS_T_MX : type == MX_SPF_Q_PTR ? DNS_T_PTR : DNS_T_TXT ;
  long long left = c->deadline_ms - now_ms() ;
  int r = -1 ;

  out->rcode = 0 ; out->n = 0 ; out->len = 0 ;
  if (left <= 0) return 0 ;
  mx_dns_seed() ;
  if (dns_resolvconfip(servers) < 0) return -1 ;
  if (!dns_domain_fromdot(&wire, name, strlen(name))) return -1 ;
  memset(&tx, 0, sizeof tx) ;
  taia_now(&deadline) ;
  taia_uint(&span, (unsigned int)(left / 1000)) ;
  span.nano = (unsigned long)(left % 1000) * 1000000UL ;
  taia_add(&deadline, &deadline, &span) ;
  if (dns_transmit_start(&tx, servers, 1, wire, qtype, anylocal) < 0) goto done ;
  for (;;)
  {
    struct taia stamp, wake ;
    iopause_fd x ;
    int g ;
    taia_now(&stamp) ;
    if (taia_less(&deadline, &stamp)) { r = 0 ; break ; }
    wake = deadline ;
    dns_transmit_io(&tx, &x, &wake) ;
    if (taia_less(&deadline, &wake)) wake = deadline ;
    iopause(&x, 1, &wake, &stamp) ;
    g = dns_transmit_get(&tx, &x, &stamp) ;
    if (g < 0) break ;
    if (g == 1) { r = parse(tx.packet, tx.packetlen, qtype, out) ; break ; }
  }
 done:
  dns_transmit_free(&tx) ;
  dns_domain_free(&wire) ;
  if (r < 0) { out->n = 0 ; out->len = 0 ; }
  return r ;
}
