/* mx_dns: libowfat's DNS client under one deadline. Only libowfat
 * headers here (they share names with skalibs'); see mx_dns.h.
 */
#include "mx_dns.h"
#include "mx_dnsseal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include <dns.h>
#include <iopause.h>
#include <stralloc.h>
#include <taia.h>

/* libowfat picks query ids and source ports from a generator that must
   be seeded, or every run of a program asks with the same id from the
   same port, and anyone who can reach that port can forge the answers.
   Seeded once per process from the kernel (time and pid if that fails);
   mx_dnsq.c seeds through here too (mx_dnsseal.h). */
void mx_dns_seed (void)
{
  static int seeded = 0 ;
  char seed[128] ;
  if (seeded) return ;
  if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
  {
    struct timeval tv ;
    pid_t pid = getpid() ;
    gettimeofday(&tv, 0) ;
    memset(seed, 0, sizeof seed) ;
    memcpy(seed, &tv, sizeof tv) ;
    memcpy(seed + sizeof tv, &pid, sizeof pid) ;
  }
  dns_random_init(seed) ;
  seeded = 1 ;
}

/* *start = now, *deadline = now + ms */
static void deadline_in (unsigned int ms, struct taia *start, struct taia *deadline)
{
  struct taia span ;
  taia_now(start) ;
  taia_uint(&span, ms / 1000) ;
  span.nano = (ms % 1000) * 1000000UL ;
  taia_add(deadline, start, &span) ;
}

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
  struct taia start, deadline ;
  char servers[256] ;
  char q4[DNS_NAME4_DOMAIN], q6[DNS_NAME6_DOMAIN] ;
  char *fwd = 0 ;
  stralloc ptr = { 0, 0, 0 }, addrs = { 0, 0, 0 } ;
  size_t alen = is6 ? 16 : 4, i ;
  int r, result = -1 ;

  memset(&tx, 0, sizeof tx) ;
  mx_dns_seed() ;
  deadline_in(ms, &start, &deadline) ;
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

static unsigned int ms_since (struct taia const *start)
{
  struct taia now, d ;
  taia_now(&now) ;
  taia_sub(&d, &now, start) ;
  return (unsigned int)(taia_approx(&d) * 1000.0) ;
}

static void take_answer (mx_dns_query *q, struct dns_transmit const *tx)
{
  stralloc out = { 0, 0, 0 } ;
  q->status = MX_DNS_FAILED ;
  /* the server said NXDOMAIN: the same answer, with no records */
  q->rcode = tx->packetlen >= 4 ? (unsigned char)tx->packet[3] & 15 : 0 ;
  if (q->type == MX_DNS_MX)
  {
    /* records: a 2-byte preference, then the exchange, dotted, NUL-ended */
    size_t i = 0 ;
    if (dns_mx_packet(&out, tx->packet, tx->packetlen) < 0) goto done ;
    while (i + 2 < out.len)
    {
      char const *name = out.s + i + 2 ;
      size_t n = strnlen(name, out.len - i - 2) ;
      q->na++ ;
      if (!n || (n == 1 && name[0] == '.')) q->nullmx = 1 ;
      i += 2 + n + 1 ;
    }
  }
  else if (q->type == MX_DNS_A)
  {
    size_t i ;
    if (dns_ip4_packet(&out, tx->packet, tx->packetlen) < 0) goto done ;
    for (i = 0 ; i + 4 <= out.len && q->na < MX_DNS_MAX_A ; i += 4)
      memcpy(q->a[q->na++], out.s + i, 4) ;
  }
  else if (q->type == MX_DNS_AAAA)
  {
    size_t i ;
    if (dns_ip6_packet(&out, tx->packet, tx->packetlen) < 0) goto done ;
    for (i = 0 ; i + 16 <= out.len && q->na < MX_DNS_MAX_A ; i += 16)
      memcpy(q->aaaa[q->na++], out.s + i, 16) ;
  }
  else
  {
    if (dns_txt_packet(&out, tx->packet, tx->packetlen) < 0) goto done ;
    q->txtlen = out.len < MX_DNS_TXT_MAX ? out.len : MX_DNS_TXT_MAX ;
    if (q->txtlen) memcpy(q->txt, out.s, q->txtlen) ;
  }
  q->status = MX_DNS_ANSWERED ;
 done:
  stralloc_free(&out) ;
}

/* 1 if q has left (PENDING), 0 if it could not (FAILED) */
static int send_one (mx_dns_query *q, struct dns_transmit *tx, char const servers[256])
{
  static char const anylocal[16] = { 0 } ;
  char *wire = 0 ;
  char const *qtype = q->type == MX_DNS_A ? DNS_T_A : q->type == MX_DNS_AAAA ? DNS_T_AAAA : q->type == MX_DNS_MX ? DNS_T_MX : DNS_T_TXT ;
  q->status = MX_DNS_FAILED ;
  if (!dns_domain_fromdot(&wire, q->name, strlen(q->name))) return 0 ;
  if (dns_transmit_start(tx, servers, 1, wire, qtype, anylocal) == 0) q->status = MX_DNS_PENDING ;
  dns_domain_free(&wire) ;
  return q->status == MX_DNS_PENDING ;
}

int mx_dns_all (mx_dns_query *q, size_t n, unsigned int ms)
{
  struct dns_transmit *tx ;
  iopause_fd *x ;
  size_t *which ;
  struct taia start, deadline ;
  char servers[256] ;
  size_t i, pending = 0 ;
  int r = 0 ;

  for (i = 0 ; i < n ; i++) { q[i].status = MX_DNS_FAILED ; q[i].na = 0 ; q[i].nullmx = 0 ; q[i].rcode = 0 ; q[i].txtlen = 0 ; q[i].ms = 0 ; }
  if (!n) return 0 ;
  mx_dns_seed() ;
  if (dns_resolvconfip(servers) < 0) return -1 ;
  tx = calloc(n, sizeof *tx) ;
  x = calloc(n, sizeof *x) ;
  which = calloc(n, sizeof *which) ;
  if (!tx || !x || !which) { r = -1 ; goto done ; }
  deadline_in(ms, &start, &deadline) ;

  /* all queries leave before any answer is awaited, but those that wait
     for another's records */
  for (i = 0 ; i < n ; i++)
    if (q[i].after && q[i].after <= n) q[i].status = MX_DNS_UNASKED ;
    else pending += send_one(&q[i], &tx[i], servers) ;

  while (pending)
  {
    struct taia stamp, wake = deadline ;
    size_t k = 0 ;
    taia_now(&stamp) ;
    if (taia_less(&deadline, &stamp)) break ;
    for (i = 0 ; i < n ; i++)
      if (q[i].status == MX_DNS_PENDING)
      {
        dns_transmit_io(&tx[i], &x[k], &wake) ;
        which[k++] = i ;
      }
    if (taia_less(&deadline, &wake)) wake = deadline ;
    iopause(x, (unsigned int)k, &wake, &stamp) ;
    for (i = 0 ; i < k ; i++)
    {
      mx_dns_query *qq = &q[which[i]] ;
      int g = dns_transmit_get(&tx[which[i]], &x[i], &stamp) ;
      if (!g) continue ;
      if (g > 0) take_answer(qq, &tx[which[i]]) ;
      else qq->status = MX_DNS_FAILED ;
      qq->ms = ms_since(&start) ;
      pending-- ;
      if (qq->status == MX_DNS_ANSWERED && (qq->na || qq->txtlen))
      {
        size_t j ;
        for (j = 0 ; j < n ; j++)
          if (q[j].status == MX_DNS_UNASKED && q[j].after == which[i] + 1)
            pending += send_one(&q[j], &tx[j], servers) ;
      }
    }
  }
  for (i = 0 ; i < n ; i++)
    if (q[i].status == MX_DNS_PENDING) { q[i].status = MX_DNS_TIMEOUT ; q[i].ms = ms ; }

 done:
  if (tx) for (i = 0 ; i < n ; i++) dns_transmit_free(&tx[i]) ;
  free(tx) ; free(x) ; free(which) ;
  return r ;
}
