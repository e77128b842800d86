/* mx_dnsq: libowfat's non-blocking DNS client under an engine an event
 * loop owns. Only libowfat headers here (they share names with
 * skalibs'); the contract is in mx_dnsq.h.
 *
 * Each lookup has its own struct dns_transmit. Its socket is in the
 * engine's epoll set, registered with the lookup's place in the table
 * and a serial number: libowfat closes and opens sockets inside
 * dns_transmit_get (another server, TCP), so after every call the
 * engine compares what it registered with what libowfat now holds, and
 * registers anew when it changed; an event that carries an old serial
 * is of a socket let go, and is ignored. One binary heap orders every
 * lookup not finished by the time it must be looked at again: its
 * deadline, or libowfat's resend time if sooner.
 */
#include "mx_dnsq.h"
#include "mx_dnsseal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <dns.h>
#include <iopause.h>
#include <stralloc.h>
#include <taia.h>

enum { WAITING, FLYING, DONE } ;

typedef struct lookup_s lookup ;
struct lookup_s
{
  unsigned int index ;         /* its place in q->slot */
  int state ;
  int phase2 ;                 /* FCRDNS: asking the name's A or AAAA */
  int is6 ;
  char ip[16] ;
  char *qname ;                /* the name asked, wire form */
  long long start, deadline, wake ;
  unsigned int hpos ;          /* 1 + its place in q->heap, 0 if not there */
  lookup *prev, *next ;        /* in the waiting or the finished list */
  struct dns_transmit tx ;
  iopause_fd x ;
  /* what is registered in the epoll set: 0 serial if nothing */
  uint32_t serial ;
  int regfd ;
  int regtcp ;
  unsigned int regserver, regloop ;
  /* what mx_dns_q_next gives, kept small: a screen holds thousands of
     lookups, and the name and TXT buffers of mx_dns_q_result (most of
     its 856 bytes) are allocated only for an answer that fills them */
  uint64_t id, tag ;
  enum mx_dns_q_kind kind ;
  enum mx_dns_q_status status ;
  int fcrdns ;
  unsigned int rcode, ttl, ms, na ;
  unsigned char a[MX_DNS_MAX_A][4] ;
  char *name ;                 /* malloc: FCRDNS's PTR name, or 0 */
  char *txt ; size_t txtlen ;  /* malloc: TXT's strings, or 0 */
} ;

typedef struct { lookup *head, *tail ; unsigned int n ; } list ;

struct mx_dns_q_s
{
  int ep ;
  unsigned int maxfly, cap, fly, nfree ;
  lookup **slot ;              /* cap places */
  uint32_t *gen ;              /* per place: bumped when a lookup leaves it */
  unsigned int *freeidx ;      /* nfree free places */
  lookup **heap ;
  unsigned int heapn ;
  list wait, done ;
  uint32_t serial ;
  char servers[256] ;
} ;

/* lists */

static void list_push (list *li, lookup *l)
{
  l->next = 0 ;
  l->prev = li->tail ;
  if (li->tail) li->tail->next = l ; else li->head = l ;
  li->tail = l ;
  li->n++ ;
}

static void list_unlink (list *li, lookup *l)
{
  if (l->prev) l->prev->next = l->next ; else li->head = l->next ;
  if (l->next) l->next->prev = l->prev ; else li->tail = l->prev ;
  l->prev = l->next = 0 ;
  li->n-- ;
}

/* the heap, by wake */

static void heap_put (mx_dns_q *q, unsigned int i, lookup *l)
{
  q->heap[i] = l ;
  l->hpos = i + 1 ;
}

static void heap_up (mx_dns_q *q, unsigned int i)
{
  lookup *l = q->heap[i] ;
  while (i)
  {
    unsigned int p = (i - 1) / 2 ;
    if (q->heap[p]->wake <= l->wake) break ;
    heap_put(q, i, q->heap[p]) ;
    i = p ;
  }
  heap_put(q, i, l) ;
}

static void heap_down (mx_dns_q *q, unsigned int i)
{
  lookup *l = q->heap[i] ;
  for (;;)
  {
    unsigned int c = 2 * i + 1 ;
    if (c >= q->heapn) break ;
    if (c + 1 < q->heapn && q->heap[c + 1]->wake < q->heap[c]->wake) c++ ;
    if (l->wake <= q->heap[c]->wake) break ;
    heap_put(q, i, q->heap[c]) ;
    i = c ;
  }
  heap_put(q, i, l) ;
}

/* puts l in the heap, or moves it to where its new wake belongs */
static void heap_set (mx_dns_q *q, lookup *l)
{
  if (!l->hpos) { heap_put(q, q->heapn++, l) ; heap_up(q, q->heapn - 1) ; return ; }
  heap_up(q, l->hpos - 1) ;
  heap_down(q, l->hpos - 1) ;
}

/* the last one takes l's place, then goes up or down as its wake says */
static void heap_del (mx_dns_q *q, lookup *l)
{
  unsigned int i = l->hpos ;
  lookup *m ;
  if (!i--) return ;
  l->hpos = 0 ;
  if (i == --q->heapn) return ;
  m = q->heap[q->heapn] ;
  heap_put(q, i, m) ;
  heap_up(q, i) ;
  heap_down(q, m->hpos - 1) ;
}

/* the packet */

static unsigned long get32 (unsigned char const *p)
{
  return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3] ;
}

/* a TTL with its top bit set counts as 0 (RFC 2181) */
static unsigned long ttl_of (unsigned char const *p)
{
  unsigned long t = get32(p) ;
  return t > 0x7fffffffUL ? 0 : t ;
}

/* mx_dnsseal.h: the lowest TTL of the answer records; with none, the
   lower of the authority SOA's TTL and MINIMUM (RFC 2308); 0 if neither
   is there. Reads only what it needs: the header, the question, the
   answer records (or the authority records up to the first SOA). */
unsigned int mx_dns_ttl (char const *buf, unsigned int len)
{
  unsigned char h[12] ;
  unsigned long low = 0 ;
  unsigned int pos, an, ns, i ;
  pos = dns_packet_copy(buf, len, 0, (char *)h, 12) ;
  if (!pos || h[4] || h[5] != 1) return 0 ;
  an = (unsigned int)h[6] << 8 | h[7] ;
  ns = (unsigned int)h[8] << 8 | h[9] ;
  pos = dns_packet_skipname(buf, len, pos) ;
  if (!pos || pos + 4 > len) return 0 ;
  pos += 4 ;
  for (i = 0 ; i < (an ? an : ns) ; i++)
  {
    unsigned char rr[10] ;
    unsigned long t ;
    unsigned int end ;
    pos = dns_packet_skipname(buf, len, pos) ;
    if (pos) pos = dns_packet_copy(buf, len, pos, (char *)rr, 10) ;
    if (!pos) return 0 ;
    end = pos + ((unsigned int)rr[8] << 8 | rr[9]) ;
    if (end > len) return 0 ;
    t = ttl_of(rr + 4) ;
    if (an) { if (!i || t < low) low = t ; }
    else if (rr[0] == 0 && rr[1] == 6)
    {
      /* MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM, inside
         the record */
      unsigned int p = dns_packet_skipname(buf, len, pos) ;
      if (p) p = dns_packet_skipname(buf, len, p) ;
      if (!p || p + 20 > end) return 0 ;
      t = ttl_of((unsigned char const *)buf + p + 16) < t ? ttl_of((unsigned char const *)buf + p + 16) : t ;
      return (unsigned int)t ;
    }
    pos = end ;
  }
  return (unsigned int)low ;
}

/* the engine */

static uint64_t id_of (mx_dns_q const *q, lookup const *l)
{
  return (uint64_t)q->gen[l->index] << 32 | (l->index + 1) ;
}

/* Registers l's socket anew if libowfat changed it, and sets l's wake:
   its deadline, or libowfat's resend time if sooner (on libowfat's
   clock, the time of day: turned into a span from stamp, added to now
   on the caller's clock). Returns 0 if epoll refused. */
static int watch (mx_dns_q *q, lookup *l, long long now, struct taia const *stamp)
{
  struct taia far, span ;
  long long w = l->deadline ;
  taia_uint(&span, 86400) ;
  taia_add(&far, stamp, &span) ;
  dns_transmit_io(&l->tx, &l->x, &far) ;
  if (!l->serial || l->x.fd != l->regfd || l->tx.tcpstate != l->regtcp || l->tx.curserver != l->regserver || l->tx.udploop != l->regloop)
  {
    struct epoll_event ev ;
    uint32_t serial = ++q->serial ? q->serial : ++q->serial ;
    ev.events = l->x.events & IOPAUSE_WRITE ? EPOLLOUT : EPOLLIN ;
    ev.data.u64 = (uint64_t)serial << 32 | l->index ;
    /* the same number may be a new socket, which epoll does not know */
    if (epoll_ctl(q->ep, EPOLL_CTL_MOD, l->x.fd, &ev) < 0
     && (errno != ENOENT || epoll_ctl(q->ep, EPOLL_CTL_ADD, l->x.fd, &ev) < 0))
      return 0 ;
    fcntl(l->x.fd, F_SETFD, FD_CLOEXEC) ;
    l->serial = serial ;
    l->regfd = l->x.fd ;
    l->regtcp = l->tx.tcpstate ;
    l->regserver = l->tx.curserver ;
    l->regloop = l->tx.udploop ;
  }
  if (!taia_less(stamp, &far)) w = now ;
  else
  {
    struct taia d ;
    long long lw ;
    taia_sub(&d, &far, stamp) ;
    lw = now + (long long)(taia_approx(&d) * 1000.0) + 1 ;
    if (lw < w) w = lw ;
  }
  l->wake = w ;
  heap_set(q, l) ;
  return 1 ;
}

static void finish (mx_dns_q *q, lookup *l, enum mx_dns_q_status status, long long now)
{
  if (l->state == WAITING) list_unlink(&q->wait, l) ;
  else if (l->state == FLYING) q->fly-- ;
  dns_transmit_free(&l->tx) ;
  heap_del(q, l) ;
  l->serial = 0 ;
  l->status = status ;
  if (status != MX_DNS_Q_ANSWERED) { l->rcode = 0 ; l->ttl = 0 ; l->na = 0 ; l->txtlen = 0 ; }
  if (l->kind == MX_DNS_Q_FCRDNS && l->fcrdns != 1) { free(l->name) ; l->name = 0 ; }
  l->ms = now > l->start ? (unsigned int)(now - l->start < UINT_MAX ? now - l->start : UINT_MAX) : 0 ;
  l->state = DONE ;
  list_push(&q->done, l) ;
}

/* starts l's query (or its second one): 1, or 0 if it could not leave */
static int send_query (mx_dns_q *q, lookup *l, long long now)
{
  static char const anylocal[16] = { 0 } ;
  char const *qtype = l->kind == MX_DNS_Q_A ? DNS_T_A : l->kind == MX_DNS_Q_TXT ? DNS_T_TXT
    : !l->phase2 ? DNS_T_PTR : l->is6 ? DNS_T_AAAA : DNS_T_A ;
  struct taia stamp ;
  l->serial = 0 ;
  if (dns_transmit_start(&l->tx, q->servers, 1, l->qname, qtype, anylocal) < 0) return 0 ;
  taia_now(&stamp) ;
  return watch(q, l, now, &stamp) ;
}

/* the first PTR name, then whether its addresses hold the client's */
static int take_fcrdns (mx_dns_q *q, lookup *l, char const *p, unsigned int n, unsigned int ttl, long long now)
{
  stralloc out = { 0, 0, 0 } ;
  size_t i, alen = l->is6 ? 16 : 4 ;
  int ok = 0 ;
  if (!l->phase2)
  {
    if (dns_name_packet(&out, p, n) < 0) goto done ;
    l->rcode = n >= 4 ? (unsigned char)p[3] & 15 : 0 ;
    l->ttl = ttl ;
    if (!out.len) { l->fcrdns = 0 ; finish(q, l, MX_DNS_Q_ANSWERED, now) ; ok = 1 ; goto done ; }
    {
      size_t k = out.len < MX_DNS_Q_NAME_MAX - 1 ? out.len : MX_DNS_Q_NAME_MAX - 1 ;
      l->name = malloc(k + 1) ;
      if (!l->name) goto done ;
      for (i = 0 ; i < k ; i++)
      {
        char c = out.s[i] ;
        l->name[i] = c >= 'A' && c <= 'Z' ? c + 32 : c ;
      }
      l->name[k] = 0 ;
    }
    dns_domain_free(&l->qname) ;
    if (!dns_domain_fromdot(&l->qname, out.s, out.len)) goto done ;
    l->phase2 = 1 ;
    ok = send_query(q, l, now) ;
    goto done ;
  }
  if ((l->is6 ? dns_ip6_packet(&out, p, n) : dns_ip4_packet(&out, p, n)) < 0) goto done ;
  l->fcrdns = 0 ;
  for (i = 0 ; i + alen <= out.len ; i += alen)
    if (!memcmp(out.s + i, l->ip, alen)) { l->fcrdns = 1 ; break ; }
  if (ttl < l->ttl) l->ttl = ttl ;
  finish(q, l, MX_DNS_Q_ANSWERED, now) ;
  ok = 1 ;
 done:
  stralloc_free(&out) ;
  return ok ;
}

/* l's query has its answer in l->tx.packet */
static void answered (mx_dns_q *q, lookup *l, long long now)
{
  char const *p = l->tx.packet ;
  unsigned int n = l->tx.packetlen ;
  unsigned int ttl = mx_dns_ttl(p, n) ;
  stralloc out = { 0, 0, 0 } ;
  size_t i ;
  if (l->kind == MX_DNS_Q_FCRDNS)
  {
    if (!take_fcrdns(q, l, p, n, ttl, now)) finish(q, l, MX_DNS_Q_FAILED, now) ;
    return ;
  }
  if (l->kind == MX_DNS_Q_A)
  {
    if (dns_ip4_packet(&out, p, n) < 0) goto fail ;
    for (i = 0 ; i + 4 <= out.len && l->na < MX_DNS_MAX_A ; i += 4)
      memcpy(l->a[l->na++], out.s + i, 4) ;
  }
  else
  {
    if (dns_txt_packet(&out, p, n) < 0) goto fail ;
    l->txtlen = out.len < MX_DNS_TXT_MAX ? out.len : MX_DNS_TXT_MAX ;
    if (l->txtlen)
    {
      l->txt = malloc(l->txtlen) ;
      if (!l->txt) { l->txtlen = 0 ; goto fail ; }
      memcpy(l->txt, out.s, l->txtlen) ;
    }
  }
  l->rcode = n >= 4 ? (unsigned char)p[3] & 15 : 0 ;
  l->ttl = ttl ;
  finish(q, l, MX_DNS_Q_ANSWERED, now) ;
  stralloc_free(&out) ;
  return ;
 fail:
  stralloc_free(&out) ;
  finish(q, l, MX_DNS_Q_FAILED, now) ;
}

/* one call of dns_transmit_get: revents from epoll, or 0 when a
   resend may be due */
static void step (mx_dns_q *q, lookup *l, short revents, long long now)
{
  struct taia stamp ;
  int r ;
  taia_now(&stamp) ;
  l->x.revents = revents ;
  r = dns_transmit_get(&l->tx, &l->x, &stamp) ;
  if (r > 0) answered(q, l, now) ;
  else if (r < 0 || !watch(q, l, now, &stamp)) finish(q, l, MX_DNS_Q_FAILED, now) ;
}

/* sends what waits, oldest first, while there is room */
static void fill (mx_dns_q *q, long long now)
{
  while (q->fly < q->maxfly && q->wait.head)
  {
    lookup *l = q->wait.head ;
    if (l->deadline <= now) { finish(q, l, MX_DNS_Q_TIMEOUT, now) ; continue ; }
    list_unlink(&q->wait, l) ;
    l->state = FLYING ;
    q->fly++ ;
    if (!send_query(q, l, now)) finish(q, l, MX_DNS_Q_FAILED, now) ;
  }
}

/* l leaves the engine: nothing of it remains */
static void drop (mx_dns_q *q, lookup *l)
{
  if (l->state == WAITING) list_unlink(&q->wait, l) ;
  else if (l->state == FLYING) q->fly-- ;
  else list_unlink(&q->done, l) ;
  heap_del(q, l) ;
  dns_transmit_free(&l->tx) ;
  dns_domain_free(&l->qname) ;
  free(l->name) ;
  free(l->txt) ;
  q->slot[l->index] = 0 ;
  q->gen[l->index]++ ;
  q->freeidx[q->nfree++] = l->index ;
  free(l) ;
}

static uint64_t submit (mx_dns_q *q, enum mx_dns_q_kind kind, char *qname, uint64_t tag, long long now, long long deadline, lookup **made)
{
  lookup *l ;
  if (!q->nfree) { dns_domain_free(&qname) ; errno = EAGAIN ; return 0 ; }
  l = calloc(1, sizeof *l) ;
  if (!l) { dns_domain_free(&qname) ; errno = ENOMEM ; return 0 ; }
  l->index = q->freeidx[--q->nfree] ;
  q->slot[l->index] = l ;
  l->qname = qname ;
  l->state = WAITING ;
  l->start = now ;
  l->deadline = deadline ;
  l->wake = deadline ;
  l->regfd = -1 ;
  l->id = id_of(q, l) ;
  l->tag = tag ;
  l->kind = kind ;
  l->fcrdns = -1 ;
  *made = l ;
  list_push(&q->wait, l) ;
  heap_set(q, l) ;
  return l->id ;
}

uint64_t mx_dns_q_fcrdns (mx_dns_q *q, char const *ip, int is6, uint64_t tag, long long now, long long deadline)
{
  char wire[DNS_NAME6_DOMAIN > DNS_NAME4_DOMAIN ? DNS_NAME6_DOMAIN : DNS_NAME4_DOMAIN] ;
  char *qname = 0 ;
  lookup *l ;
  uint64_t id ;
  if (is6) dns_name6_domain(wire, ip) ; else dns_name4_domain(wire, ip) ;
  if (!dns_domain_copy(&qname, wire)) { errno = ENOMEM ; return 0 ; }
  id = submit(q, MX_DNS_Q_FCRDNS, qname, tag, now, deadline, &l) ;
  if (!id) return 0 ;
  l->is6 = !!is6 ;
  memcpy(l->ip, ip, is6 ? 16 : 4) ;
  fill(q, now) ;
  return id ;
}

uint64_t mx_dns_q_lookup (mx_dns_q *q, enum mx_dns_q_kind kind, char const *name, uint64_t tag, long long now, long long deadline)
{
  char *qname = 0 ;
  lookup *l ;
  uint64_t id ;
  size_t len = strlen(name) ;
  if ((kind != MX_DNS_Q_A && kind != MX_DNS_Q_TXT) || !len || len > 253) { errno = EINVAL ; return 0 ; }
  errno = EINVAL ;
  if (!dns_domain_fromdot(&qname, name, len)) return 0 ;
  id = submit(q, kind, qname, tag, now, deadline, &l) ;
  if (id) fill(q, now) ;
  return id ;
}

int mx_dns_q_cancel (mx_dns_q *q, uint64_t id)
{
  uint32_t low = (uint32_t)id ;
  unsigned int i = low - 1 ;
  if (!low || i >= q->cap || !q->slot[i] || q->gen[i] != (uint32_t)(id >> 32)) return 0 ;
  drop(q, q->slot[i]) ;
  return 1 ;
}

int mx_dns_q_timeout (mx_dns_q const *q, long long now)
{
  long long d ;
  if (q->done.n || (q->wait.n && q->fly < q->maxfly)) return 0 ;
  if (!q->heapn) return -1 ;
  d = q->heap[0]->wake - now ;
  return d <= 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d ;
}

void mx_dns_q_run (mx_dns_q *q, long long now)
{
  struct epoll_event ev[64] ;
  unsigned int rounds = q->fly / 64 + 2, guard = 2 * q->cap + 2 ;
  for (;;)
  {
    int n = epoll_wait(q->ep, ev, 64, 0), i ;
    for (i = 0 ; i < n ; i++)
    {
      unsigned int k = (uint32_t)ev[i].data.u64 ;
      lookup *l = k < q->cap ? q->slot[k] : 0 ;
      if (!l || l->state != FLYING || l->serial != (uint32_t)(ev[i].data.u64 >> 32)) continue ;
      step(q, l, (short)(ev[i].events & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP)), now) ;
    }
    if (n < 64 || !--rounds) break ;
  }
  /* due: a deadline (the end), or libowfat's resend time */
  while (q->heapn && q->heap[0]->wake <= now && guard--)
  {
    lookup *l = q->heap[0] ;
    if (l->deadline <= now) finish(q, l, MX_DNS_Q_TIMEOUT, now) ;
    else step(q, l, 0, now) ;
  }
  fill(q, now) ;
}

int mx_dns_q_next (mx_dns_q *q, mx_dns_q_result *r)
{
  lookup *l = q->done.head ;
  if (!l) return 0 ;
  memset(r, 0, sizeof *r) ;
  r->id = l->id ; r->tag = l->tag ; r->kind = l->kind ; r->status = l->status ;
  r->fcrdns = l->fcrdns ; r->rcode = l->rcode ; r->ttl = l->ttl ; r->ms = l->ms ;
  r->na = l->na ; memcpy(r->a, l->a, sizeof r->a) ;
  if (l->name) memcpy(r->name, l->name, strlen(l->name) + 1) ;
  if (l->txtlen) memcpy(r->txt, l->txt, l->txtlen) ;
  r->txtlen = l->txtlen ;
  drop(q, l) ;
  return 1 ;
}

void mx_dns_q_counts (mx_dns_q const *q, unsigned int *inflight, unsigned int *waiting, unsigned int *done)
{
  *inflight = q->fly ;
  *waiting = q->wait.n ;
  *done = q->done.n ;
}

int mx_dns_q_fd (mx_dns_q const *q)
{
  return q->ep ;
}

void mx_dns_q_free (mx_dns_q *q)
{
  unsigned int i ;
  if (!q) return ;
  if (q->slot) for (i = 0 ; i < q->cap ; i++) if (q->slot[i]) drop(q, q->slot[i]) ;
  close(q->ep) ;
  free(q->slot) ; free(q->gen) ; free(q->freeidx) ; free(q->heap) ;
  free(q) ;
}

mx_dns_q *mx_dns_q_new (unsigned int max_inflight, unsigned int max_waiting)
{
  mx_dns_q *q ;
  unsigned int i ;
  if (!max_inflight || max_inflight > (1U << 24) || max_waiting > (1U << 24)) { errno = EINVAL ; return 0 ; }
  mx_dns_seed() ;
  q = calloc(1, sizeof *q) ;
  if (!q) return 0 ;
  q->ep = -1 ;
  q->maxfly = max_inflight ;
  q->cap = max_inflight + max_waiting ;
  if (dns_resolvconfip(q->servers) < 0) goto err ;
  q->ep = epoll_create1(EPOLL_CLOEXEC) ;
  if (q->ep < 0) goto err ;
  q->slot = calloc(q->cap, sizeof *q->slot) ;
  q->gen = calloc(q->cap, sizeof *q->gen) ;
  q->freeidx = calloc(q->cap, sizeof *q->freeidx) ;
  q->heap = calloc(q->cap, sizeof *q->heap) ;
  if (!q->slot || !q->gen || !q->freeidx || !q->heap) { errno = ENOMEM ; goto err ; }
  /* the lowest places first */
  for (i = 0 ; i < q->cap ; i++) q->freeidx[i] = q->cap - 1 - i ;
  q->nfree = q->cap ;
  return q ;
 err:
  {
    int e = errno ;
    mx_dns_q_free(q) ;
    errno = e ;
  }
  return 0 ;
}
