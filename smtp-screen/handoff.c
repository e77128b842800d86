/* handoff: the chain's start for a client that passed, with
 * tcpserver's environment (Debian's ucspi-tcp-ipv6 tcpserver, -R -H):
 *
 *   PROTO            TCP, or TCP6 for an IPv6 client
 *   TCPLOCALIP, TCPLOCALPORT, TCPREMOTEIP, TCPREMOTEPORT
 *   TCPLOCALHOST     the -l name (unset without -l: no lookup)
 *   TCP6LOCALIP, TCP6LOCALPORT, TCP6REMOTEIP, TCP6REMOTEPORT, and
 *   TCP6LOCALHOST with -l: the same, IPv4 addresses as ::ffff:a.b.c.d
 *   TCPREMOTEHOST, TCPREMOTEINFO, TCP6REMOTEHOST, TCP6REMOTEINFO unset
 *   the rule's variables (they win over all of the above, as tcpserver
 *   sets them last)
 *
 * and RBLSMTPD for an early talker handed on with -e (smtp-delay -r's
 * text: rblsmtpd answers 451 with it). Nothing else of the environment
 * smtp-screen was started with is changed.
 *
 * posix_spawn (vfork and exec in glibc): the socket, made blocking
 * again, on fds 0 and 1,
 * fd 2 ours, every other descriptor close-on-exec, the signal mask
 * empty and the signals we catch back to their defaults.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>

#include <skalibs/stralloc.h>
#include <skalibs/types.h>

#include "listen.h"
#include "screen.h"

extern char **environ ;


static char const *const ours[] =
{
  "PROTO", "TCPLOCALIP", "TCPLOCALPORT", "TCPLOCALHOST", "TCPREMOTEIP", "TCPREMOTEPORT", "TCPREMOTEHOST", "TCPREMOTEINFO",
  "TCP6LOCALIP", "TCP6LOCALPORT", "TCP6LOCALHOST", "TCP6REMOTEIP", "TCP6REMOTEPORT", "TCP6REMOTEHOST", "TCP6REMOTEINFO", 0
} ;

static char **base ;      /* environ less ours */
static size_t nbase ;
static posix_spawnattr_t attr ;

static int named (char const *entry, char const *name, size_t len)
{
  return !strncmp(entry, name, len) && entry[len] == '=' ;
}

int handoff_init (void)
{
  size_t n = 0, i ;
  sigset_t none, dflt ;
  for (i = 0 ; environ[i] ; i++) n++ ;
  base = malloc(sizeof *base * (n + 1)) ;
  if (!base) return 0 ;
  for (i = 0 ; environ[i] ; i++)
  {
    char const *const *o ;
    for (o = ours ; *o ; o++) if (named(environ[i], *o, strlen(*o))) break ;
    if (!*o) base[nbase++] = environ[i] ;
  }
  sigemptyset(&none) ;
  sigemptyset(&dflt) ;
  sigaddset(&dflt, SIGCHLD) ; sigaddset(&dflt, SIGTERM) ; sigaddset(&dflt, SIGHUP) ; sigaddset(&dflt, SIGPIPE) ;
  if (posix_spawnattr_init(&attr)
   || posix_spawnattr_setsigmask(&attr, &none)
   || posix_spawnattr_setsigdefault(&attr, &dflt)
   || posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) return 0 ;
  return 1 ;
}

#define MAXSET 32

typedef struct envb_s { char buf[16384] ; size_t n ; char *set[MAXSET + RULES_ENV_MAX / 2] ; size_t nset ; } envb ;

static void put (envb *e, char const *name, char const *value)
{
  size_t a = strlen(name), b = strlen(value) ;
  if (e->n + a + b + 2 > sizeof e->buf) return ;
  e->set[e->nset++] = e->buf + e->n ;
  memcpy(e->buf + e->n, name, a) ; e->buf[e->n + a] = '=' ;
  memcpy(e->buf + e->n + a + 1, value, b + 1) ;
  e->n += a + b + 2 ;
}

/* the IPv6 text of ip: IPv4 addresses as ::ffff:a.b.c.d */
static void fmt6 (char *s, ip46 const *ip)
{
  if (ip46_is6(ip)) { listen_tcpserver_fmt(s, ip) ; return ; }
  memcpy(s, "::ffff:", 7) ;
  s[7 + mx_ip_fmt(s + 7, ip)] = 0 ;
}

pid_t handoff_spawn (client const *c)
{
  static envb e ;
  char lip[MX_IP_FMT], rip[MX_IP_FMT], lip6[MX_IP_FMT + 8], rip6[MX_IP_FMT + 8], lport[UINT_FMT], rport[UINT_FMT] ;
  char **envp ;
  size_t i, k = 0 ;
  posix_spawn_file_actions_t fa ;
  pid_t pid ;
  int r ;

  e.n = 0 ; e.nset = 0 ;
  listen_tcpserver_fmt(lip, &c->local) ;
  listen_tcpserver_fmt(rip, &c->ip) ;
  fmt6(lip6, &c->local) ;
  fmt6(rip6, &c->ip) ;
  lport[uint_fmt(lport, c->localport)] = 0 ;
  rport[uint_fmt(rport, c->port)] = 0 ;
  put(&e, "PROTO", ip46_is6(&c->ip) ? "TCP6" : "TCP") ;
  put(&e, "TCPLOCALIP", lip) ; put(&e, "TCP6LOCALIP", lip6) ;
  put(&e, "TCPLOCALPORT", lport) ; put(&e, "TCP6LOCALPORT", lport) ;
  if (S.cf.localname) { put(&e, "TCPLOCALHOST", S.cf.localname) ; put(&e, "TCP6LOCALHOST", S.cf.localname) ; }
  put(&e, "TCPREMOTEIP", rip) ; put(&e, "TCP6REMOTEIP", rip6) ;
  put(&e, "TCPREMOTEPORT", rport) ; put(&e, "TCP6REMOTEPORT", rport) ;
  if (c->host) { put(&e, "TCPREMOTEHOST", c->host) ; put(&e, "TCP6REMOTEHOST", c->host) ; }
  if (!c->trusted && c->cls_known)
  {
    /* smtp-delay's: its class and result */
    put(&e, "SMTPDELAY_CLASS", class_name((enum rdns_class)c->cls)) ;
    put(&e, "SMTPDELAY_RESULT", c->early ? "early" : "pass") ;
  }
  if (!c->trusted && ((c->need | c->cached) & NEED_DNSBL))
  {
    /* rblenv's: RBLSCORE, RBLLISTS, and RBLSMTPD or RBLLATE */
    char score[INT_FMT] ;
    if (c->cached & NEED_DNSBL)
    {
      /* a held pass: its score; the lists are not held */
      score[int_fmt(score, c->rbl_score)] = 0 ;
      put(&e, "RBLSCORE", score) ;
      put(&e, "RBLLISTS", "") ;
      if (c->rbl_score <= S.cf.rbl.allow_threshold) put(&e, "RBLSMTPD", "") ;
    }
    else
    {
      static stralloc sa = STRALLOC_ZERO ;
      enum mx_rbl_result v ;
      int h = mx_rbl_heaviest(&S.cf.rbl, c->rbl_listed) ;
      int t = h >= 0 && c->rbl_txtzone == h ;
      size_t j ;
      sa.len = 0 ;
      if (mx_rbl_env(&S.cf.rbl, c->rbl_listed, t ? c->rbltxt : 0, t ? c->rbltxtlen : 0, c->iptext, 0, &sa, &v))
        for (j = 0 ; j < sa.len ; j += strlen(sa.s + j) + 1)
        {
          char *eq = strchr(sa.s + j, '=') ;
          *eq = 0 ;
          put(&e, sa.s + j, eq + 1) ;
          *eq = '=' ;
        }
    }
  }
  if (c->early) put(&e, "RBLSMTPD", MX_REFUSE_TEXT) ;
  /* the rule's variables, last: they win */
  for (i = 0 ; i < c->envlen ; i += strlen(c->env + i) + 1)
    if (e.nset < sizeof e.set / sizeof *e.set) e.set[e.nset++] = (char *)c->env + i ;

  envp = malloc(sizeof *envp * (nbase + e.nset + 1)) ;
  if (!envp) return 0 ;
  /* a later setting of a name hides the earlier ones and environ's */
  for (i = 0 ; i < e.nset ; i++)
  {
    size_t len = strchr(e.set[i], '=') - e.set[i], j ;
    for (j = i + 1 ; j < e.nset ; j++) if (named(e.set[j], e.set[i], len)) break ;
    if (j == e.nset) envp[k++] = e.set[i] ;
  }
  for (i = 0 ; i < nbase ; i++)
  {
    size_t len = strchr(base[i], '=') - base[i], j ;
    for (j = 0 ; j < e.nset ; j++) if (named(e.set[j], base[i], len)) break ;
    if (j == e.nset) envp[k++] = base[i] ;
  }
  envp[k] = 0 ;

  {
    int fl = fcntl(c->fd, F_GETFL) ;
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) < 0) { free(envp) ; return 0 ; }
  }
  if (posix_spawn_file_actions_init(&fa)) { free(envp) ; return 0 ; }
  if (posix_spawn_file_actions_adddup2(&fa, c->fd, 0) || posix_spawn_file_actions_adddup2(&fa, c->fd, 1))
  {
    posix_spawn_file_actions_destroy(&fa) ; free(envp) ; return 0 ;
  }
  r = posix_spawnp(&pid, S.cf.argv[0], &fa, &attr, (char *const *)S.cf.argv, envp) ;
  posix_spawn_file_actions_destroy(&fa) ;
  free(envp) ;
  if (r) { errno = r ; return 0 ; }
  return pid ;
}
