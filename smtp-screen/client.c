/* client: what every stage of a client's way (conn.c, refuse.c,
 * lookup.c) does with it: watch its socket, say a short reply (now or
 * never: nothing here blocks), log its one line, end it, drain it after
 * a last reply, free its slot.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>

#include "mx_log.h"
#include "mx_secs.h"
#include "slots.h"

void client_watch (client *c, uint32_t events)
{
  struct epoll_event ev = { .events = events, .data.u64 = slot_tag(c) } ;
  if (epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) strerr_diefu1sys(111, "epoll_ctl") ;
}

static char const *const verdict_text[][2] =
{
  [V_PREGREET_FAIL] = { "pregreet", "fail" }, [V_PREGREET_PASS] = { "pregreet", "pass" },
  [V_SKIP_DNSWL] = { "skip", "dnswl" },
  [V_CACHE_PARTIAL] = { "cache", "partial" }, [V_CACHE_HIT] = { "cache", "hit" },
  [V_RULES_DENY] = { "rules", "deny" }, [V_RULES_RELAYCLIENT] = { "rules", "relayclient" },
  [V_LIMITS_UNTRACKED] = { "limits", "untracked" }, [V_PROXY_LOCAL] = { "proxy", "local" },
} ;

void add_verdict (client *c, enum verdict v)
{
  if (c->nv < VERDICT_MAX) c->v[c->nv++] = (unsigned char)v ;
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
  char line[1024] ;
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
    cat(line, sizeof line, &n, " ") ; cat(line, sizeof line, &n, verdict_text[c->v[i]][0]) ;
    cat(line, sizeof line, &n, "=") ; cat(line, sizeof line, &n, verdict_text[c->v[i]][1]) ;
  }
  if (c->cls_known && !c->trusted)
  {
    cat(line, sizeof line, &n, " rdns=") ; cat(line, sizeof line, &n, class_name((enum rdns_class)c->cls)) ;
    if (c->cached & NEED_RDNS) cat(line, sizeof line, &n, ",cached") ;
    else if (!c->ptr_answered && (c->need & NEED_RDNS)) cat(line, sizeof line, &n, ",unanswered") ;
  }
  if ((c->need | c->cached) & NEED_DNSBL && c->rbl_done)
  {
    int score = c->cached & NEED_DNSBL ? c->rbl_score : mx_rbl_score(&S.cf.rbl, c->rbl_listed) ;
    num[int_fmt(num, score)] = 0 ;
    cat(line, sizeof line, &n, " dnsbl=") ;
    cat(line, sizeof line, &n, c->cached & NEED_DNSBL ? "cached" : mx_rbl_word(mx_rbl_decide(&S.cf.rbl, c->rbl_listed))) ;
    cat(line, sizeof line, &n, " score=") ; cat(line, sizeof line, &n, num) ;
    if (c->rbl_listed)
    {
      stralloc sa = STRALLOC_ZERO ;
      if (mx_rbl_lists(&S.cf.rbl, c->rbl_listed, &sa) && stralloc_0(&sa))
      {
        cat(line, sizeof line, &n, " lists=") ; cat(line, sizeof line, &n, sa.s) ;
      }
      stralloc_free(&sa) ;
    }
    if (c->rbl_faults)
    {
      num[uint_fmt(num, c->rbl_faults)] = 0 ;
      cat(line, sizeof line, &n, " unanswered=") ; cat(line, sizeof line, &n, num) ;
    }
  }
  mx_secs_fmt(waited, (unsigned int)(mx_now_ms() - c->start)) ;
  cat(line, sizeof line, &n, " waited=") ; cat(line, sizeof line, &n, waited) ;
  mx_info(c->iptext, line, " result=", result, extra ? extra : "", c->first ? " first=" : "", c->first ? c->first : "") ;
}

void client_free (client *c)
{
  epoll_ctl(S.epfd, EPOLL_CTL_DEL, c->fd, 0) ;   /* a child may hold the socket too */
  close(c->fd) ;
  if (c->counted) limits_release(&S.lim, &c->key) ;
  free(c->hdr) ;
  free(c->env) ;
  lookups_cancel(c) ;
  free(c->host) ;
  free(c->rbltxt) ;
  free(c->first) ;
  c->hdr = 0 ; c->env = 0 ; c->host = 0 ; c->rbltxt = 0 ; c->first = 0 ;
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

/* A last reply of smtp-screen's own. After the "220-" teaser the
   greeting is first ended with a "220 " line of the same text: every
   line of a reply carries one code (RFC 5321 4.2.1), and a client that
   reads the first line's code would take "220-" then "421" for a
   greeting. The 421 then answers the client's first command, as RFC
   5321 3.8 lets a server that must close say. */
int client_say_final (client *c, char const *reply)
{
  char buf[NAME_MAX_TEXT + 8 + 200] ;
  size_t n = 0, len = strlen(reply) ;
  if (c->teaser)
  {
    memcpy(buf, S.cf.teaser, S.cf.teaserlen) ;
    buf[3] = ' ' ;
    n = S.cf.teaserlen ;
  }
  if (len > sizeof buf - n) len = sizeof buf - n ;
  memcpy(buf + n, reply, len) ;
  return client_say(c, buf, n + len) ;
}

void client_say_close (client *c, char const *reply, char const *result, char const *extra)
{
  client_log(c, result, extra) ;
  if (!client_say_final(c, reply)) { client_free(c) ; return ; }
  client_drain(c) ;
}

