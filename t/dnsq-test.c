/* dnsq-test: drives mx_dnsq (common/mx_dnsq.h) the way an event loop
 * does, for t/dnsq.t, which serves the zones from a real tinydns.
 *
 * Linked as a program of the chain is (skalibs beside the sealed DNS
 * object). The engine's fd sits in an epoll set of the driver's own;
 * the loop sleeps as long as mx_dns_q_timeout allows, then runs the
 * engine. After every step it checks that no more than max_inflight
 * lookups are on the wire (else it says "violation" and exits 1).
 *
 * The arguments are commands, done in order; K is a submission's
 * number (1, 2, ... in the order of the commands), used as its tag:
 *
 *   new INFLIGHT WAITING   a new engine (the old one freed)
 *   a NAME MS | txt NAME MS | ptr IP MS
 *                          submits with a deadline MS from now:
 *                          "submit K ok" or "submit K error EAGAIN"
 *   bulk N KIND FMT MS     N submissions of FMT with its "%" turned into
 *                          1..N: "bulk ok X refused Y"
 *   cancel K               "cancel K 1" or "cancel K 0"
 *   cancelid ID            the same with a raw id: "cancelid ID 0|1"
 *   run MS                 runs the loop MS milliseconds, takes nothing
 *   settle MS              runs until nothing is waiting or on the wire
 *                          (MS at most), takes nothing: "settled ..."
 *   take                   takes every finished lookup: "result ..."
 *   take1                  takes one: "result ..." or "none"
 *   drain MS               runs and takes until the engine holds nothing
 *                          (MS at most): results, then "drained ..."
 *   counts                 "counts inflight=N waiting=N done=N"
 *
 * A result line: result K status=answered|timeout|failed rcode=N ttl=N
 * ms=N seen=N [fcrdns=N name=NAME] [a=IP,...] [txt=TEXT]; ms is the
 * engine's, seen the driver's own time from submission to the take.
 * Exit 0, or 1 on a violation, 100 on a bad command, 111 if no engine.
 */
#include "mx_dnsq.h"
#include "mx_secs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define MAXSUB 20000

static mx_dns_q *q ;
static int outer = -1 ;
static unsigned int maxfly_allowed, maxfly_seen ;
static uint64_t ids[MAXSUB + 1] ;     /* the ids not yet taken */
static uint64_t subid[MAXSUB + 1] ;   /* every id given */
static long long sent_at[MAXSUB + 1] ;
static unsigned int nsub ;

static void usage (char const *why)
{
  fprintf(stderr, "dnsq-test: usage: %s\n", why) ;
  exit(100) ;
}

static void check (void)
{
  unsigned int fly, wait, done ;
  mx_dns_q_counts(q, &fly, &wait, &done) ;
  if (fly > maxfly_seen) maxfly_seen = fly ;
  if (fly > maxfly_allowed)
  {
    printf("violation inflight=%u max=%u\n", fly, maxfly_allowed) ;
    exit(1) ;
  }
}

static void need_engine (void)
{
  if (!q) usage("new before any lookup") ;
}

static void show (mx_dns_q_result const *r)
{
  unsigned int k = (unsigned int)r->tag, i ;
  static char const *const st[] = { "answered", "timeout", "failed" } ;
  if (!k || k > nsub || ids[k] != r->id) { printf("violation result of an unknown id\n") ; exit(1) ; }
  printf("result %u status=%s rcode=%u ttl=%u ms=%u seen=%lld", k, st[r->status], r->rcode, r->ttl, r->ms, mx_now_ms() - sent_at[k]) ;
  if (r->kind == MX_DNS_Q_FCRDNS) printf(" fcrdns=%d name=%s", r->fcrdns, r->name) ;
  if (r->kind == MX_DNS_Q_A)
  {
    printf(" a=") ;
    for (i = 0 ; i < r->na ; i++) printf("%s%u.%u.%u.%u", i ? "," : "", r->a[i][0], r->a[i][1], r->a[i][2], r->a[i][3]) ;
  }
  if (r->kind == MX_DNS_Q_TXT) printf(" txt=%.*s", (int)r->txtlen, r->txt) ;
  printf("\n") ;
  ids[k] = 0 ;
}

/* one turn of the loop: sleep as long as the engine allows (at most
   until end), then run it */
static void turn (long long end)
{
  struct epoll_event ev ;
  long long now = mx_now_ms() ;
  int t = mx_dns_q_timeout(q, now) ;
  long long left = end - now ;
  if (left < 0) left = 0 ;
  if (t < 0 || t > left) t = (int)left ;
  epoll_wait(outer, &ev, 1, t) ;
  mx_dns_q_run(q, mx_now_ms()) ;
  check() ;
}

static uint64_t submit (char const *kind, char const *name, long long ms)
{
  long long now = mx_now_ms() ;
  uint64_t id ;
  unsigned int k ;
  if (nsub >= MAXSUB) usage("too many submissions") ;
  k = ++nsub ;
  sent_at[k] = now ;
  if (!strcmp(kind, "ptr"))
  {
    char ip[16] ;
    int is6 = !!strchr(name, ':') ;
    if (inet_pton(is6 ? AF_INET6 : AF_INET, name, ip) != 1) usage("ptr IP") ;
    id = mx_dns_q_fcrdns(q, ip, is6, k, now, now + ms) ;
  }
  else if (!strcmp(kind, "a")) id = mx_dns_q_lookup(q, MX_DNS_Q_A, name, k, now, now + ms) ;
  else if (!strcmp(kind, "txt")) id = mx_dns_q_lookup(q, MX_DNS_Q_TXT, name, k, now, now + ms) ;
  else { usage("kind a, txt or ptr") ; return 0 ; }
  ids[k] = subid[k] = id ;
  check() ;
  return id ;
}

int main (int argc, char **argv)
{
  int i = 1 ;
  setvbuf(stdout, 0, _IOLBF, 0) ;
  outer = epoll_create1(EPOLL_CLOEXEC) ;
  if (outer < 0) { perror("dnsq-test: epoll_create1") ; return 111 ; }
  while (i < argc)
  {
    char const *c = argv[i++] ;
    if (!strcmp(c, "new"))
    {
      struct epoll_event ev ;
      if (i + 2 > argc) usage("new INFLIGHT WAITING") ;
      if (q) { epoll_ctl(outer, EPOLL_CTL_DEL, mx_dns_q_fd(q), 0) ; mx_dns_q_free(q) ; }
      maxfly_allowed = (unsigned int)atoi(argv[i]) ;
      maxfly_seen = 0 ;
      q = mx_dns_q_new(maxfly_allowed, (unsigned int)atoi(argv[i + 1])) ;
      i += 2 ;
      if (!q) { perror("dnsq-test: mx_dns_q_new") ; return 111 ; }
      ev.events = EPOLLIN ;
      ev.data.u64 = 0 ;
      if (epoll_ctl(outer, EPOLL_CTL_ADD, mx_dns_q_fd(q), &ev) < 0) { perror("dnsq-test: epoll_ctl") ; return 111 ; }
    }
    else if (!strcmp(c, "a") || !strcmp(c, "txt") || !strcmp(c, "ptr"))
    {
      if (i + 2 > argc) usage("KIND NAME MS") ;
      need_engine() ;
      if (submit(c, argv[i], atoll(argv[i + 1]))) printf("submit %u ok\n", nsub) ;
      else printf("submit %u error %s\n", nsub, errno == EAGAIN ? "EAGAIN" : errno == EINVAL ? "EINVAL" : strerror(errno)) ;
      i += 2 ;
    }
    else if (!strcmp(c, "bulk"))
    {
      unsigned int n, j, ok = 0, no = 0 ;
      char const *fmt, *pct ;
      if (i + 4 > argc) usage("bulk N KIND FMT MS") ;
      need_engine() ;
      n = (unsigned int)atoi(argv[i]) ;
      fmt = argv[i + 2] ;
      pct = strchr(fmt, '%') ;
      if (!pct) usage("bulk: FMT without %") ;
      for (j = 1 ; j <= n ; j++)
      {
        char name[300] ;
        snprintf(name, sizeof name, "%.*s%u%s", (int)(pct - fmt), fmt, j, pct + 1) ;
        if (submit(argv[i + 1], name, atoll(argv[i + 3]))) ok++ ; else no++ ;
      }
      printf("bulk ok %u refused %u\n", ok, no) ;
      i += 4 ;
    }
    else if (!strcmp(c, "cancel") || !strcmp(c, "cancelid"))
    {
      uint64_t id ;
      if (i + 1 > argc) usage("cancel K") ;
      need_engine() ;
      if (!strcmp(c, "cancel"))
      {
        unsigned int k = (unsigned int)atoi(argv[i]) ;
        if (!k || k > nsub) usage("cancel K: no such submission") ;
        id = subid[k] ;
      }
      else id = strtoull(argv[i], 0, 0) ;
      printf("%s %s %d\n", c, argv[i], mx_dns_q_cancel(q, id)) ;
      check() ;
      i++ ;
    }
    else if (!strcmp(c, "run") || !strcmp(c, "settle") || !strcmp(c, "drain"))
    {
      long long end ;
      unsigned int fly, wait, done, taken = 0 ;
      int draining = !strcmp(c, "drain") ;
      if (i + 1 > argc) usage("run MS") ;
      need_engine() ;
      end = mx_now_ms() + atoll(argv[i++]) ;
      for (;;)
      {
        mx_dns_q_result r ;
        if (draining) while (mx_dns_q_next(q, &r)) { show(&r) ; taken++ ; }
        mx_dns_q_counts(q, &fly, &wait, &done) ;
        if (c[0] == 's' && !fly && !wait) break ;
        if (draining && !fly && !wait && !done) break ;
        if (mx_now_ms() >= end) break ;
        turn(end) ;
      }
      if (c[0] == 's') printf("settled inflight=%u waiting=%u done=%u\n", fly, wait, done) ;
      if (draining) printf("drained %u inflight=%u waiting=%u done=%u maxfly=%u\n", taken, fly, wait, done, maxfly_seen) ;
    }
    else if (!strcmp(c, "take") || !strcmp(c, "take1"))
    {
      mx_dns_q_result r ;
      int one = c[4] == '1', n = 0 ;
      need_engine() ;
      while (mx_dns_q_next(q, &r)) { show(&r) ; n++ ; if (one) break ; }
      if (!n) printf("none\n") ;
    }
    else if (!strcmp(c, "counts"))
    {
      unsigned int fly, wait, done ;
      need_engine() ;
      mx_dns_q_counts(q, &fly, &wait, &done) ;
      printf("counts inflight=%u waiting=%u done=%u\n", fly, wait, done) ;
    }
    else usage("unknown command") ;
  }
  mx_dns_q_free(q) ;
  return 0 ;
}
