/* conn: one client's way through smtp-screen (screen.h), driven by the
 * events of its socket and its deadline (slots.h). Nothing here blocks:
 * every read and write is non-blocking; a client that does not take a
 * short reply at once is dropped.
 *
 * Admission, in this order, once the client is known (at accept, or
 * from the balancer's PROXY header): the rules file (deny: closed
 * without a word, as tcpserver does; a rule that sets RELAYCLIENT:
 * trusted, handed off at once, no limit, no test), then the per-client
 * limits (421). Then the tests of the wait stage, from checks[].
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>


#include "mx_log.h"
#include "mx_proxyhdr.h"
#include "mx_secs.h"
#include "mx_text.h"
#include "slots.h"


/* ---------------------------------------------------------------- */
/* the tests of the wait stage: each starts with the wait (if the
   client needs it: c->need), looks at what the client sends before the
   wait ends (a test that deals with the client itself returns 1 from
   data), and gives its verdict when the wait ends. The DNS tests'
   answers come through lookup.c. */

typedef struct check_s check ;
struct check_s
{
  char const *name ;
  void (*start) (client *) ;
  int (*data) (client *, char const *peek, size_t len) ;
  void (*end) (client *) ;
} ;

static int pregreet_data (client *c, char const *peek, size_t len)
{
  c->first = malloc(FIRST_MAX + 1) ;   /* none: logged without first= */
  if (c->first) mx_text_safe(c->first, FIRST_MAX, peek, len) ;
  add_verdict(c, V_PREGREET_FAIL) ;
  rdns_end(c) ;
  dnsbl_end(c) ;
  lookups_cancel(c) ;
  if (S.mem) cache_forget(S.mem, &c->ip) ;
  if (S.cf.handon) { c->early = 1 ; screen_pass(c) ; return 1 ; }
  client_log(c, "refused", 0) ;
  client_watch(c, EPOLLIN | EPOLLRDHUP) ;
  refuse_start(c) ;
  return 1 ;
}

static void pregreet_end (client *c)
{
  if (!(c->need & NEED_PREGREET)) return ;
  add_verdict(c, V_PREGREET_PASS) ;
  if (S.mem) cache_pass(S.mem, &c->ip, CACHE_PREGREET, (uint64_t)time(0), CACHE_PREGREET_LIFE, 0) ;
}

/* the PTR's verdict, held for its TTL capped by -J (an answer only:
   a lookup that failed or timed out is not a verdict) */
static void rdns_verdict (client *c)
{
  if (!(c->need & NEED_RDNS)) return ;
  rdns_end(c) ;
  if (S.mem && c->ptr_answered)
  {
    uint32_t life = c->ptr_ttl && c->ptr_ttl < S.cf.rdns_cap ? c->ptr_ttl : S.cf.rdns_cap ;
    cache_pass(S.mem, &c->ip, CACHE_RDNS, (uint64_t)time(0), life, (int32_t)c->cls) ;
  }
}

/* the DNSBL's verdict: a pass (clean or allowed, every zone answered)
   held for the lowest TTL of the answers capped by -j */
static void dnsbl_verdict (client *c)
{
  enum mx_rbl_result v ;
  if (!(c->need & NEED_DNSBL)) return ;
  dnsbl_end(c) ;
  v = mx_rbl_decide(&S.cf.rbl, c->rbl_listed) ;
  if (S.mem && !c->rbl_faults && (v == MX_RBL_CLEAN || v == MX_RBL_ALLOWED))
  {
    uint32_t life = c->rbl_ttl_unknown || c->rbl_ttl >= S.cf.rbl_cap ? S.cf.rbl_cap : c->rbl_ttl ;
    cache_pass(S.mem, &c->ip, CACHE_DNSBL, (uint64_t)time(0), life, mx_rbl_score(&S.cf.rbl, c->rbl_listed)) ;
  }
}

static check const checks[] =
{
  { "pregreet", 0, &pregreet_data, &pregreet_end },
  { "rdns", &rdns_start, 0, &rdns_verdict },
  { "dnsbl", &dnsbl_start, 0, &dnsbl_verdict },
  { 0, 0, 0, 0 }
} ;

/* ---------------------------------------------------------------- */

static void wait_end (client *c)
{
  check const *k ;
  for (k = checks ; k->name ; k++) if (k->end) k->end(c) ;
  lookups_cancel(c) ;
  screen_pass(c) ;
}

/* The wait ends when every lookup is in and the greeting wait of the
   client's class has run; at once, once every lookup is in, for a
   client the DNSBL/DNSWL score allows (rblenv -w's RBLSMTPD=""). A
   lookup still out moves the deadline to the engine's for it, plus a
   second: the engine ends it first. */
void wait_update (client *c)
{
  long long now = mx_now_ms(), end = c->wait_start ;
  int pending = c->ptr_pending || ((c->need & NEED_DNSBL) && !c->rbl_done) ;
  if (c->state != ST_WAIT) return ;
  if (!pending && (c->need & NEED_DNSBL) && mx_rbl_decide(&S.cf.rbl, c->rbl_listed) == MX_RBL_ALLOWED)
  {
    add_verdict(c, V_SKIP_DNSWL) ;
    c->need &= ~NEED_PREGREET ;   /* no verdict: not a pass to hold */
    wait_end(c) ;
    return ;
  }
  if (c->need & NEED_PREGREET)
  {
    long long w = c->wait_start + (c->cls_known ? c->wait_ms : S.cf.maxwait) ;
    if (w > end) end = w ;
  }
  if (pending)
  {
    long long d = lookup_deadline(c) + 1000 ;
    if (d > end) end = d ;
  }
  if (!pending && end <= now) wait_end(c) ;
  else client_deadline(c, end) ;
}

static void start_wait (client *c)
{
  check const *k ;
  char const *override = rules_env_get(c->env, c->envlen, "SMTPDELAY") ;
  uint64_t now = (uint64_t)time(0) ;
  int32_t v ;
  if (override && *override)
  {
    unsigned int ms ;
    if (mx_secs_scan(override, 300000, &ms)) c->rule_wait = ms + 1 ;
    else mx_warn(c->iptext, "reason=ignoring invalid SMTPDELAY from the rules") ;
  }
  c->need = 0 ;
  if (S.cf.lookup) c->need |= NEED_RDNS ;
  else rdns_class(c, CLASS_NONE) ;
  if (S.cf.rbl.n && !rules_env_has(c->env, c->envlen, "RBLSMTPD")) c->need |= NEED_DNSBL ;
  if (S.mem && (c->need & NEED_RDNS) && cache_valid(S.mem, &c->ip, CACHE_RDNS, now, &v) && v >= CLASS_NONE && v <= CLASS_NAMED)
  {
    rdns_class(c, (enum rdns_class)v) ;
    c->need &= ~NEED_RDNS ; c->cached |= NEED_RDNS ;
  }
  if (S.mem && (c->need & NEED_DNSBL) && cache_valid(S.mem, &c->ip, CACHE_DNSBL, now, &v))
  {
    c->rbl_score = v ; c->rbl_done = 1 ;
    c->need &= ~NEED_DNSBL ; c->cached |= NEED_DNSBL ;
  }
  if (c->cls_known ? c->wait_ms : (c->rule_wait ? c->rule_wait - 1 : S.cf.maxwait))
  {
    if (S.mem && cache_valid(S.mem, &c->ip, CACHE_PREGREET, now, 0)) c->cached |= NEED_PREGREET ;
    else c->need |= NEED_PREGREET ;
  }
  if (c->cached) add_verdict(c, c->need ? V_CACHE_PARTIAL : V_CACHE_HIT) ;
  if (!c->need) { screen_pass(c) ; return ; }
  if (c->need & NEED_PREGREET)
  {
    if (!client_say(c, S.cf.teaser, S.cf.teaserlen)) { client_end(c, "hangup", " reason=teaser-unwritten") ; return ; }
    c->teaser = 1 ;
  }
  c->wait_start = mx_now_ms() ;
  client_state(c, ST_WAIT, S.cf.maxwait + 1000) ;
  for (k = checks ; k->name ; k++) if (k->start) k->start(c) ;
  /* without the teaser the client's bytes are not ours to judge */
  client_watch(c, c->need & NEED_PREGREET ? EPOLLIN | EPOLLRDHUP : EPOLLRDHUP) ;
  wait_update(c) ;
}

static void admit (client *c)
{
  int deny, r ;
  unsigned int count ;
  c->iptext[mx_ip_fmt(c->iptext, &c->ip)] = 0 ;
  r = screen_rules(c, &deny) ;
  if (r < 0) { client_end(c, "error", " reason=rules-unreadable") ; return ; }
  if (deny) { add_verdict(c, V_RULES_DENY) ; client_end(c, "deny", 0) ; return ; }
  if (rules_env_has(c->env, c->envlen, "RELAYCLIENT"))
  {
    add_verdict(c, V_RULES_RELAYCLIENT) ;
    c->trusted = 1 ;
    screen_pass(c) ;
    return ;
  }
  limits_key(&c->key, &c->ip, S.cf.v6bits) ;
  switch (limits_admit(&S.lim, &c->key, mx_now_ms(), &count))
  {
    case LIMITS_OK : c->counted = 1 ; break ;
    case LIMITS_UNTRACKED : add_verdict(c, V_LIMITS_UNTRACKED) ; break ;
    case LIMITS_CONN :
      client_say_close(c, "421 4.7.0 Too many connections from your address or network at once, try again later\r\n", "limit", " limit=conn") ;
      return ;
    case LIMITS_RATE :
      client_say_close(c, "421 4.7.0 Too many new connections from your address or network, try again later\r\n", "limit", " limit=rate") ;
      return ;
  }
  start_wait(c) ;
}

void client_start (client *c)
{
  if (S.cf.balancers.n && mx_netlist_match(&S.cf.balancers, &c->peer))
  {
    c->iptext[mx_ip_fmt(c->iptext, &c->peer)] = 0 ;
    c->hdr = malloc(16 + PROXYHDR_V2_BODY_MAX) ;
    if (!c->hdr) { client_end(c, "error", " reason=out-of-memory") ; return ; }
    client_state(c, ST_PROXY, PROXY_MS) ;
    client_watch(c, EPOLLIN | EPOLLRDHUP) ;
    return ;
  }
  c->ip = c->peer ; c->port = c->peerport ;
  admit(c) ;
}

/* ST_PROXY: takes the header's bytes and no more (proxy-env's way: a v1
   line is peeked at and taken up to its LF) */
static void proxy_read (client *c)
{
  long need = proxyhdr_need(c->hdr, c->have, PROXYHDR_V1 | PROXYHDR_V2) ;
  ssize_t r ;
  proxyhdr h ;
  if (need < 0) { client_end(c, "proxy-refused", " reason=no-header") ; return ; }
  if ((size_t)need == c->have + 1 && c->have >= 8 && !memcmp(c->hdr, "PROXY ", 6) && c->have < PROXYHDR_V1_MAX)
  {
    r = recv(c->fd, c->hdr + c->have, PROXYHDR_V1_MAX - c->have, MSG_PEEK | MSG_DONTWAIT) ;
    if (r > 0)
    {
      unsigned char const *lf = memchr(c->hdr + c->have, '\n', (size_t)r) ;
      need = (long)c->have + (lf ? (long)(lf - (c->hdr + c->have)) + 1 : (long)r) ;
    }
  }
  r = recv(c->fd, c->hdr + c->have, (size_t)need - c->have, MSG_DONTWAIT) ;
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return ;
  if (r <= 0) { client_end(c, "proxy-refused", " reason=ended-in-header") ; return ; }
  c->have += (size_t)r ;
  need = proxyhdr_need(c->hdr, c->have, PROXYHDR_V1 | PROXYHDR_V2) ;
  if (need < 0) { client_end(c, "proxy-refused", " reason=no-header") ; return ; }
  if ((size_t)need > c->have) return ;
  switch (proxyhdr_parse(c->hdr, c->have, &h))
  {
    case PROXYHDR_BAD : client_end(c, "proxy-refused", " reason=malformed-header") ; return ;
    case PROXYHDR_LOCAL :
      /* the balancer's own connection (its health check): the PROXY
         spec has it taken as valid, with the connection's own
         addresses; it is screened as the balancer (a rule for the
         balancer's address can set SMTPDELAY=0) */
      free(c->hdr) ; c->hdr = 0 ;
      c->ip = c->peer ; c->port = c->peerport ;
      add_verdict(c, V_PROXY_LOCAL) ;
      admit(c) ;
      return ;
    case PROXYHDR_PROXY : break ;
  }
  free(c->hdr) ; c->hdr = 0 ;
  c->viaproxy = 1 ;
  c->ip = h.src ; c->port = h.sport ;
  c->local = h.dst ; c->localport = h.dport ;
  admit(c) ;
}

/* ST_WAIT: anything from the client before the wait ends (peeked at:
   the bytes stay for the child or the refusal) */
static void wait_read (client *c, uint32_t events)
{
  char peek[FIRST_MAX] ;
  check const *k ;
  ssize_t r ;
  if (!(c->need & NEED_PREGREET))
  {
    if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) client_end(c, "hangup", " reason=closed") ;
    return ;
  }
  r = recv(c->fd, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT) ;
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return ;
  if (r < 0) { client_end(c, "hangup", " reason=reset") ; return ; }
  if (!r) { client_end(c, "hangup", " reason=closed") ; return ; }
  for (k = checks ; k->name ; k++)
    if (k->data && k->data(c, peek, (size_t)r)) return ;
}

static void drain_read (client *c)
{
  char buf[4096] ;
  ssize_t r = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT) ;
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return ;
  if (r <= 0) client_free(c) ;
}

void client_event (client *c, uint32_t events)
{
  switch (c->state)
  {
    case ST_PROXY : proxy_read(c) ; break ;
    case ST_WAIT : wait_read(c, events) ; break ;
    case ST_QUEUED :
      /* passed, its bytes are the child's: only a hang-up is looked at */
      if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) client_end(c, "hangup", " reason=closed-in-queue") ;
      break ;
    case ST_REFUSE : refuse_read(c) ; break ;
    case ST_DRAIN : drain_read(c) ; break ;
    case ST_FREE : break ;
  }
}

void client_timeout (client *c)
{
  switch (c->state)
  {
    case ST_PROXY : client_end(c, "proxy-refused", " reason=header-timeout") ; break ;
    case ST_WAIT : wait_end(c) ; break ;
    case ST_QUEUED :
      client_say_close(c, "421 4.3.2 Too busy, try again later\r\n", "busy", " reason=no-free-child") ;
      break ;
    case ST_REFUSE :
    case ST_DRAIN : client_free(c) ; break ;
    case ST_FREE : break ;
  }
}
