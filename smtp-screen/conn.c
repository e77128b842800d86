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
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "mx_log.h"
#include "mx_proxyhdr.h"
#include "mx_secs.h"
#include "mx_text.h"
#include "slots.h"

extern char const *PROG ;

void client_watch (client *c, uint32_t events)
{
  struct epoll_event ev = { .events = events, .data.u64 = slot_tag(c) } ;
  if (epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) strerr_diefu1sys(111, "epoll_ctl") ;
}

static void add_verdict (client *c, char const *test, char const *word)
{
  if (c->nv < VERDICT_MAX) { c->v[c->nv].test = test ; c->v[c->nv].word = word ; c->nv++ ; }
}

/* a short reply, now or never: 1 if all of it went */
int client_say (client *c, char const *s, size_t len)
{
  ssize_t w = send(c->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT) ;
  return w == (ssize_t)len ;
}

static void cat (char *buf, size_t max, size_t *n, char const *s)
{
  size_t l = strlen(s) ;
  if (*n + l >= max) l = max - 1 - *n ;
  memcpy(buf + *n, s, l) ;
  *n += l ;
  buf[*n] = 0 ;
}

/* smtp-screen: info: pid P ip A port=N id=N [balancer=B] test=verdict...
   waited=S result=R [extra] [first=BYTES] */
void client_log (client const *c, char const *result, char const *extra)
{
  char line[512] ;
  char num[ULONG_FMT], waited[MX_SECS_FMT], peer[MX_IP_FMT] ;
  size_t n = 0 ;
  unsigned int i ;
  if (!S.cf.verbosity) return ;
  line[0] = 0 ;
  num[uint_fmt(num, c->port)] = 0 ;
  cat(line, sizeof line, &n, "port=") ; cat(line, sizeof line, &n, num) ;
  num[ulong_fmt(num, c->id)] = 0 ;
  cat(line, sizeof line, &n, " id=") ; cat(line, sizeof line, &n, num) ;
  if (c->viaproxy)
  {
    peer[mx_ip_fmt(peer, &c->peer)] = 0 ;
    cat(line, sizeof line, &n, " balancer=") ; cat(line, sizeof line, &n, peer) ;
  }
  for (i = 0 ; i < c->nv ; i++)
  {
    cat(line, sizeof line, &n, " ") ; cat(line, sizeof line, &n, c->v[i].test) ;
    cat(line, sizeof line, &n, "=") ; cat(line, sizeof line, &n, c->v[i].word) ;
  }
  mx_secs_fmt(waited, (unsigned int)(mx_now_ms() - c->start)) ;
  cat(line, sizeof line, &n, " waited=") ; cat(line, sizeof line, &n, waited) ;
  mx_info(c->iptext, line, " result=", result, extra ? extra : "", *c->first ? " first=" : "", c->first) ;
}

void client_free (client *c)
{
  epoll_ctl(S.epfd, EPOLL_CTL_DEL, c->fd, 0) ;   /* a child may hold the socket too */
  close(c->fd) ;
  if (c->counted) limits_release(&S.lim, &c->key) ;
  free(c->hdr) ;
  free(c->env) ;
  c->hdr = 0 ; c->env = 0 ;
  client_state(c, ST_FREE, 0) ;
  slot_put(c) ;
}

void client_end (client *c, char const *result, char const *extra)
{
  client_log(c, result, extra) ;
  client_free(c) ;
}

void client_drain (client *c)
{
  shutdown(c->fd, SHUT_WR) ;
  client_state(c, ST_DRAIN, DRAIN_MS) ;
  client_watch(c, EPOLLIN | EPOLLRDHUP) ;
}

void client_say_close (client *c, char const *reply, char const *result, char const *extra)
{
  client_log(c, result, extra) ;
  if (!client_say(c, reply, strlen(reply))) { client_free(c) ; return ; }
  client_drain(c) ;
}

/* ---------------------------------------------------------------- */
/* the tests of the wait stage: each looks at the client when the wait
   starts, when it sends something, and when the wait ends. A test that
   deals with the client itself returns 1 from data. */

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
  mx_text_safe(c->first, FIRST_MAX, peek, len) ;
  add_verdict(c, "pregreet", "fail") ;
  if (S.cf.handon) { c->early = 1 ; screen_pass(c) ; return 1 ; }
  client_log(c, "refused", 0) ;
  client_watch(c, EPOLLIN | EPOLLRDHUP) ;
  refuse_start(c) ;
  return 1 ;
}

static void pregreet_end (client *c)
{
  add_verdict(c, "pregreet", "pass") ;
}

static check const checks[] =
{
  { "pregreet", 0, &pregreet_data, &pregreet_end },
  { 0, 0, 0, 0 }
} ;

/* ---------------------------------------------------------------- */

static void start_wait (client *c)
{
  check const *k ;
  if (!S.cf.wait_ms) { screen_pass(c) ; return ; }
  if (!client_say(c, S.cf.teaser, S.cf.teaserlen)) { client_end(c, "hangup", " reason=teaser-unwritten") ; return ; }
  c->teaser = 1 ;
  client_state(c, ST_WAIT, S.cf.wait_ms) ;
  for (k = checks ; k->name ; k++) if (k->start) k->start(c) ;
  client_watch(c, EPOLLIN | EPOLLRDHUP) ;
}

static void admit (client *c)
{
  int deny, r ;
  unsigned int count ;
  c->iptext[mx_ip_fmt(c->iptext, &c->ip)] = 0 ;
  r = screen_rules(c, &deny) ;
  if (r < 0) { client_end(c, "error", " reason=rules-unreadable") ; return ; }
  if (deny) { add_verdict(c, "rules", "deny") ; client_end(c, "deny", 0) ; return ; }
  if (rules_env_has(c->env, c->envlen, "RELAYCLIENT"))
  {
    add_verdict(c, "rules", "relayclient") ;
    c->trusted = 1 ;
    screen_pass(c) ;
    return ;
  }
  limits_key(&c->key, &c->ip, S.cf.v6bits) ;
  switch (limits_admit(&S.lim, &c->key, mx_now_ms(), &count))
  {
    case LIMITS_OK : c->counted = 1 ; break ;
    case LIMITS_UNTRACKED : add_verdict(c, "limits", "untracked") ; break ;
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
    case PROXYHDR_LOCAL : client_end(c, "local", 0) ; return ;
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
static void wait_read (client *c)
{
  char peek[FIRST_MAX] ;
  check const *k ;
  ssize_t r = recv(c->fd, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT) ;
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
    case ST_WAIT : wait_read(c) ; break ;
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
  check const *k ;
  switch (c->state)
  {
    case ST_PROXY : client_end(c, "proxy-refused", " reason=header-timeout") ; break ;
    case ST_WAIT :
      for (k = checks ; k->name ; k++) if (k->end) k->end(c) ;
      screen_pass(c) ;
      break ;
    case ST_QUEUED :
      client_say_close(c, "421 4.3.2 Too busy, try again later\r\n", "busy", " reason=no-free-child") ;
      break ;
    case ST_REFUSE :
    case ST_DRAIN : client_free(c) ; break ;
    case ST_FREE : break ;
  }
}
