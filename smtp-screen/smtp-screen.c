/* smtp-screen: tcpserver's place on port 25, with the screening done
 * before any fork: one process holds every new connection, sends a
 * "220-" teaser line, waits by the client's rDNS class while its DNSBL
 * and DNSWL lookups run, and refuses the clients that talk first;
 * per-client limits only a process that sees every connection can keep;
 * a memory of the clients that passed; the clients that pass are handed
 * to the chain with tcpserver's environment and the verdicts smtp-delay
 * and rblenv would have exported.
 *
 * Usage: smtp-screen [ -1 ] [ -v | -Q | -q ] [ -c n ] [ -b n ] [ -x rules.cdb ] [ -X ]
 *          [ -l name ] [ -u uid ] [ -g gid ] [ -U ] [ -D | -d ] [ -R ] [ -H | -h ] [ -p ]
 *          [ -w secs | -n secs -y secs -k secs ] [ -F patternfile ] [ -B ] [ -e ]
 *          [ -r zone[=filter][*weight] ... ] [ -a zone[=filter][*weight] ... ]
 *          [ -t secs ] [ -s score ] [ -W score ] [ -E ] [ -m text ] [ -Y ]
 *          [ -f cachefile ] [ -M n ] [ -j secs ] [ -J secs ]
 *          [ -C n ] [ -N bits ] [ -L n/secs ] [ -S n ]
 *          [ -P addr[/bits][,...] ] host port child...
 *
 * Listens on host (an IPv4 or IPv6 address; 0 or :: for every address
 * of both families) and port (a number; 0: any, printed with -1),
 * backlog -b (default 1024). -u/-g (or -U: $UID/$GID) are taken after
 * binding. -H: no remote name is looked up (class none for all); -h, the
 * default: the name is looked up, forward-confirmed (lookup.c). -R -p
 * change nothing: no ident is looked up (TCPREMOTEINFO never set), and
 * without -l TCPLOCALHOST is unset (no lookup either).
 * -D/-d: TCP_NODELAY on/off (off by default).
 *
 * Each client, in one epoll loop (conn.c, a state machine per client):
 *   - from a balancer named with -P: its PROXY v1/v2 header is read
 *     first (within 10 s; only its bytes); the client it names is the
 *     client from then on. Any other peer is the client itself.
 *   - the rules (-x, tcprules' CDB, looked up as tcpserver -H -R does:
 *     rules.h): deny closes the connection without a word; RELAYCLIENT
 *     set by the rule: handed off at once, no limit, no test; the
 *     rule's variables go to the child. A new rules.cdb is seen within
 *     a second; SIGHUP reopens it at once. Rules unreadable (missing,
 *     without -X): the connection is closed (result=error).
 *   - the limits (clientlimits.h): -C n connections at once per client (an
 *     IPv4 address, or an IPv6 address cut to -N bits, default 64),
 *     -L n/secs new connections per client in a window; over one:
 *     "421 4.7.0 ..." and closed. -S n clients held at once (default
 *     10000; handed-off ones not counted): beyond, 421 at once.
 *   - the cache (-f, cache.h; conn.c): the tests whose passes it holds
 *     are not run; all held: handed off at once (cache=hit); without a
 *     held pregreet pass, no teaser and no wait (cache=partial).
 *   - the wait: "220-name" (the -l name, else smtp-screen.local) at
 *     once, then the wait of the client's rDNS class (smtp-delay's -n
 *     -y -k, defaults 12/6/1 s; -w: one for all; the rule's SMTPDELAY
 *     wins; 0: no teaser, no wait), while the PTR and every DNSBL/DNSWL
 *     zone (-r, -a; rblenv's syntax and scoring, common/mx_rbl.h) are
 *     asked (lookup.c) within -t (default the longest wait). Once every
 *     zone has answered, a score at or under -W ends the wait (the
 *     DNSWL skip). A byte
 *     before the wait ends (peeked at, never taken): by default
 *     smtp-delay's refusal (refuse.c: "220 name", then 451 4.7.1 to
 *     mail commands, at most 60 s and 100 commands); with -e the client
 *     is handed off with RBLSMTPD set to smtp-delay's text, for
 *     rblsmtpd. A hang-up or a reset: logged, closed.
 *   - the hand-off (handoff.c): child... with the socket on fds 0 and 1
 *     and tcpserver's environment (TCPREMOTEHOST the confirmed name),
 *     SMTPDELAY_CLASS and SMTPDELAY_RESULT as smtp-delay sets them,
 *     RBLSCORE RBLLISTS RBLSMTPD RBLLATE as rblenv sets them (-s -W -E
 *     -m -Y: rblenv's -s -w -p -m -L); at most -c children at once
 *     (default 40), clients that passed wait 30 s at most for one (then
 *     421 4.3.2). After the teaser, the server's own "220 " line ends
 *     the greeting.
 * The cache (-f): read at start (a damaged file: a warning, the good
 * lines kept), saved atomically every minute and at SIGTERM; at most -M
 * clients; a DNSBL pass held the lowest TTL of its answers at most -j
 * secs, an rDNS class its TTL at most -J secs, a pregreet pass a day.
 * Signals: SIGTERM stops listening, says 421 to the clients being
 * held, saves the cache and exits 0; children handed off run on. SIGHUP
 * reopens the rules and the -F patterns; nobody waiting is dropped.
 * Children are reaped (signalfd).
 * Log (stderr), one line per connection (not with -q):
 *   smtp-screen: info: pid P ip A port=N id=N [balancer=B] [rules=..]
 *     [limits=untracked] [cache=hit|partial] [skip=dnswl]
 *     [pregreet=pass|fail] [rdns=CLASS[,cached|,unanswered]]
 *     [dnsbl=VERDICT score=N [lists=..] [unanswered=N]] waited=S result=R ...
 *   R: pass child=PID | refused [via=rblsmtpd child=PID] | deny |
 *   limit limit=conn|rate|global | hangup | busy | proxy-refused |
 *   error reason=...; with -v a line per child that ended. A PROXY
 *   LOCAL header (a balancer's health check): proxy=local, and the
 *   balancer is screened as the client.
 * Fail mode: DNS fails open (a zone that does not answer is not listed;
 * a PTR that does not answer is class none); a cache file that cannot
 * be read or saved is logged, never a refusal.
 * Exit: 100 usage or a bad zone spec or pattern; 111 cannot listen,
 * drop privileges, read the pattern file or allocate; 0 after SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <time.h>

#include <sys/random.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "listen.h"
#include "mx_log.h"
#include "mx_secs.h"
#include "mx_text.h"
#include "slots.h"

#define TAG_LISTEN (~(uint64_t)0)
#define TAG_SIGNAL (~(uint64_t)0 - 1)
#define TAG_DNS (~(uint64_t)0 - 2)
#define SAVE_MS 60000
#define DNS_INFLIGHT 100   /* lookups on the wire at once: a socket each (smtp-screen.8) */

char const *PROG = "smtp-screen" ;
screen S ;

static int lfd = -1 ;
static long long rules_checked = -1000000, paused_until ;

int screen_rules (client *c, int *deny)
{
  char env[RULES_ENV_MAX] ;
  char key[MX_IP_FMT] ;
  int r ;
  long long now = mx_now_ms() ;
  *deny = 0 ;
  if (!S.cf.rulesfile) return 0 ;
  if (now - rules_checked >= 1000)
  {
    rules_checked = now ;
    if (rules_changed(&S.rl, S.cf.rulesfile) && !rules_open(&S.rl, S.cf.rulesfile))
    {
      if (errno == ENOENT && S.cf.rulesoptional) rules_close(&S.rl) ;
      else strerr_warnwu2sys("open ", S.cf.rulesfile) ;
    }
  }
  if (!S.rl.open)
  {
    struct stat st ;   /* tcpserver -X: no file, no rules */
    return S.cf.rulesoptional && stat(S.cf.rulesfile, &st) < 0 && errno == ENOENT ? 0 : -1 ;
  }
  listen_tcpserver_fmt(key, &c->ip) ;   /* tcpserver's text, not iptext's */
  r = rules_find(&S.rl, key, deny, env, sizeof env, &c->envlen) ;
  if (r < 0) { c->envlen = 0 ; return -1 ; }
  if (c->envlen)
  {
    c->env = malloc(c->envlen) ;
    if (!c->env) { c->envlen = 0 ; return -1 ; }
    memcpy(c->env, env, c->envlen) ;
  }
  return r ;
}

static void spawn (client *c)
{
  char pidtext[PID_FMT + 16] ;
  childrec *k = S.kids + S.nkids ;
  pid_t pid = handoff_spawn(c) ;
  if (!pid)
  {
    strerr_warnwu2sys("spawn ", S.cf.argv[0]) ;
    client_say_close(c, "421 4.3.0 Temporary failure, try again later\r\n", "error", " reason=spawn") ;
    return ;
  }
  k->pid = pid ; k->key = c->key ; k->counted = c->counted ;
  memcpy(k->iptext, c->iptext, sizeof k->iptext) ;
  S.nkids++ ;
  c->counted = 0 ;   /* the child holds the connection now */
  memcpy(pidtext, " child=", 7) ;
  pidtext[7 + pid_fmt(pidtext + 7, pid)] = 0 ;
  if (c->early)
  {
    char t[PID_FMT + 32] ;
    memcpy(t, " via=rblsmtpd", 13) ;
    memcpy(t + 13, pidtext, strlen(pidtext) + 1) ;
    client_log(c, "refused", t) ;
  }
  else client_log(c, "pass", pidtext) ;
  client_free(c) ;
}

void screen_pass (client *c)
{
  if (S.nkids < S.cf.maxchildren) { spawn(c) ; return ; }
  client_state(c, ST_QUEUED, QUEUE_MS) ;
  client_watch(c, EPOLLRDHUP) ;
}

static void reap (void)
{
  int status ;
  pid_t pid ;
  client *q ;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
  {
    unsigned int i ;
    for (i = 0 ; i < S.nkids ; i++) if (S.kids[i].pid == pid) break ;
    if (i == S.nkids) continue ;
    if (S.kids[i].counted) limits_release(&S.lim, &S.kids[i].key) ;
    if (S.cf.verbosity >= 2)
    {
      char p[PID_FMT], st[UINT_FMT] ;
      p[pid_fmt(p, pid)] = 0 ;
      st[uint_fmt(st, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status))] = 0 ;
      mx_info(S.kids[i].iptext, "child=", p, " status=", st, " result=end") ;
    }
    S.kids[i] = S.kids[--S.nkids] ;
  }
  while (S.nkids < S.cf.maxchildren && (q = slots_first(ST_QUEUED))) spawn(q) ;
}

/* the cache into -f, atomically; a failure is logged, the memory kept */
static void save (void)
{
  cache_stat st ;
  char n[SIZE_FMT] ;
  if (!S.mem) return ;
  if (!cache_save(S.mem, S.cf.cachefile, (uint64_t)time(0))) { strerr_warnwu2sys("save the cache into ", S.cf.cachefile) ; return ; }
  cache_stats(S.mem, &st) ;
  n[size_fmt(n, st.entries)] = 0 ;
  if (S.cf.verbosity >= 2) strerr_warn(PROG, ": info: pid ", mx_pidstr(), " cache=", S.cf.cachefile, " clients=", n, " result=saved") ;
}

static void load (void)
{
  cache_loaded st ;
  uint32_t maxlife[CACHE_NTESTS] ;
  char a[SIZE_FMT], b[SIZE_FMT], x[SIZE_FMT], f[SIZE_FMT] ;
  int r ;
  maxlife[CACHE_PREGREET] = CACHE_PREGREET_LIFE ;
  maxlife[CACHE_DNSBL] = S.cf.rbl_cap ;
  maxlife[CACHE_RDNS] = S.cf.rdns_cap ;
  r = cache_load(S.mem, S.cf.cachefile, (uint64_t)time(0), maxlife, &st) ;
  if (r < 0)
  {
    if (errno != ENOENT) strerr_warnwu3sys("read the cache ", S.cf.cachefile, " (starting with an empty one)") ;
    return ;
  }
  if (!r) { strerr_warnw3x("the cache ", S.cf.cachefile, " is not a cache file of this version: ignored, starting with an empty one") ; return ; }
  a[size_fmt(a, st.stored)] = 0 ; b[size_fmt(b, st.bad)] = 0 ;
  x[size_fmt(x, st.expired)] = 0 ; f[size_fmt(f, st.future + st.full)] = 0 ;
  if (st.bad || st.cut)
    strerr_warn(PROG, ": warning: pid ", mx_pidstr(), " cache=", S.cf.cachefile, " stored=", a, " damaged=", b, st.cut ? " cut=1" : "", " reason=damaged lines skipped") ;
  if (S.cf.verbosity)
    strerr_warn(PROG, ": info: pid ", mx_pidstr(), " cache=", S.cf.cachefile, " stored=", a, " expired=", x, " dropped=", f, " damaged=", b, " result=loaded") ;
}

static void stop (void)
{
  char n[UINT_FMT], k[UINT_FMT] ;
  unsigned int i, held = S.nused ;
  close(lfd) ;
  for (i = 0 ; i < S.nslots ; i++)
  {
    client *c = S.c + i ;
    if (c->state == ST_WAIT || c->state == ST_QUEUED)
      client_say_final(c, "421 4.3.2 Service shutting down, try again later\r\n") ;
    if (c->state != ST_FREE) close(c->fd) ;
  }
  save() ;
  n[uint_fmt(n, held)] = 0 ;
  k[uint_fmt(k, S.nkids)] = 0 ;
  strerr_warn(PROG, ": info: pid ", mx_pidstr(), " stop clients=", n, " children=", k, " result=stop") ;
  _exit(0) ;
}

/* the -F pattern file, again: a file that does not read or compile
   keeps the patterns in use */
static void patterns_reload (void)
{
  patterns p ;
  char err[512] ;
  patterns_init(&p, S.cf.builtin) ;
  if (patterns_load(&p, S.cf.patfile, err, sizeof err) <= 0)
  {
    patterns_free(&p) ;
    strerr_warnw2x(err, " (the patterns in use are kept)") ;
    return ;
  }
  patterns_free(&S.cf.pats) ;
  S.cf.pats = p ;
  strerr_warn(PROG, ": info: pid ", mx_pidstr(), " patterns=", S.cf.patfile, " result=reopened") ;
}

static void on_signals (int sfd)
{
  struct signalfd_siginfo si ;
  while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
    switch (si.ssi_signo)
    {
      case SIGCHLD : reap() ; break ;
      case SIGHUP :
        rules_checked = -1000000 ;
        if (S.cf.rulesfile && !rules_open(&S.rl, S.cf.rulesfile)) strerr_warnwu2sys("reopen ", S.cf.rulesfile) ;
        else if (S.cf.rulesfile) strerr_warn(PROG, ": info: pid ", mx_pidstr(), " rules=", S.cf.rulesfile, " result=reopened") ;
        if (S.cf.patfile) patterns_reload() ;
        break ;
      case SIGTERM : case SIGINT : stop() ; break ;
    }
}

static void listener (int on)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN } ;
  if (epoll_ctl(S.epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, lfd, &ev) < 0) strerr_diefu1sys(111, "epoll_ctl") ;
}

static void on_accept (void)
{
  unsigned int i ;
  for (i = 0 ; i < 64 ; i++)
  {
    client *c ;
    ip46 peer ; uint16_t port ;
    int fd = listen_accept(lfd, &peer, &port) ;
    if (fd < 0)
    {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ;
      if (errno == EINTR || errno == ECONNABORTED) continue ;
      strerr_warnwu1sys("accept (pausing for 0.1 s)") ;
      listener(0) ; paused_until = mx_now_ms() + 100 ;
      return ;
    }
    c = slot_get() ;
    if (!c)
    {
      char ipt[MX_IP_FMT] ;
      ipt[mx_ip_fmt(ipt, &peer)] = 0 ;
      send(fd, "421 4.7.0 Too many clients at once, try again later\r\n", 53, MSG_NOSIGNAL | MSG_DONTWAIT) ;
      close(fd) ;
      if (S.cf.verbosity) mx_info(ipt, "result=limit limit=global") ;
      continue ;
    }
    c->fd = fd ; c->peer = peer ; c->peerport = port ;
    c->id = ++S.nextid ;
    c->start = mx_now_ms() ;
    listen_local(fd, &c->local, &c->localport) ;
    if (S.cf.nodelay) { int one = 1 ; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ; }
    {
      struct epoll_event ev = { .events = 0, .data.u64 = slot_tag(c) } ;
      if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) strerr_diefu1sys(111, "epoll_ctl") ;
    }
    client_start(c) ;
  }
}

static void loop (int sfd)
{
  struct epoll_event ev[256] ;
  long long swept = mx_now_ms(), saved = swept ;
  for (;;)
  {
    long long now = mx_now_ms() ;
    int n, i, w ;
    slots_expire(now) ;
    if (paused_until && now >= paused_until) { paused_until = 0 ; listener(1) ; }
    if (now - swept >= 10000) { limits_sweep(&S.lim, now) ; swept = now ; }
    if (S.mem)
    {
      cache_expire(S.mem, (uint64_t)time(0), 64) ;
      if (now - saved >= SAVE_MS) { save() ; saved = now ; }
    }
    w = slots_wait(now, paused_until ? 100 : 1000) ;
    if (S.dq)
    {
      int d = mx_dns_q_timeout(S.dq, now) ;
      if (d >= 0 && d < w) w = d ;
    }
    n = epoll_wait(S.epfd, ev, 256, w) ;
    if (n < 0 && errno != EINTR) strerr_diefu1sys(111, "epoll_wait") ;
    for (i = 0 ; i < n ; i++)
    {
      uint64_t tag = ev[i].data.u64 ;
      if (tag == TAG_LISTEN) on_accept() ;
      else if (tag == TAG_SIGNAL) on_signals(sfd) ;
      else if (tag == TAG_DNS) ;   /* below */
      else
      {
        client *c = slot_of_tag(tag) ;
        if (c) client_event(c, ev[i].events) ;
      }
    }
    dns_results() ;
  }
}

int main (int argc, char const *const *argv)
{
  char const *host, *port ;
  sigset_t set ;
  int sfd ;
  char const *me ;
  lfd = screen_options(argc, argv, &host, &port) ;
  me = S.cf.localname && *S.cf.localname && strcmp(S.cf.localname, "0") ? S.cf.localname : "smtp-screen.local" ;
  mx_text_safe(S.cf.name, NAME_MAX_TEXT, me, strlen(me)) ;
  S.cf.teaserlen = strlen(S.cf.name) + 6 ;
  memcpy(S.cf.teaser, "220-", 4) ; memcpy(S.cf.teaser + 4, S.cf.name, S.cf.teaserlen - 6) ;
  memcpy(S.cf.teaser + S.cf.teaserlen - 2, "\r\n", 2) ;
  listen_raise_nofile(S.cf.maxscreen + S.cf.maxchildren + 64) ;
  if (S.cf.rulesfile && !rules_open(&S.rl, S.cf.rulesfile) && !(errno == ENOENT && S.cf.rulesoptional))
    strerr_warnwu2sys("open ", S.cf.rulesfile) ;
  rules_checked = mx_now_ms() ;
  if (!slots_init(S.cf.maxscreen)) strerr_diefu1sys(111, "allocate the client table") ;
  S.kids = calloc(S.cf.maxchildren, sizeof *S.kids) ;
  if (!S.kids || !limits_init(&S.lim, 2 * (S.cf.maxscreen + S.cf.maxchildren), (uint32_t)getpid() ^ (uint32_t)mx_now_ms()))
    strerr_diefu1sys(111, "allocate the limits table") ;
  if (!handoff_init()) strerr_diefu1sys(111, "prepare the hand-off") ;
  patterns_init(&S.cf.pats, S.cf.builtin) ;
  if (S.cf.patfile)
  {
    char err[512] ;
    int r = patterns_load(&S.cf.pats, S.cf.patfile, err, sizeof err) ;
    if (r <= 0) strerr_dief(r < 0 ? 111 : 100, err) ;
  }
  if (S.cf.lookup || S.cf.rbl.n)
  {
    /* a client asks at most a PTR, and an A and a TXT per zone */
    S.dq = mx_dns_q_new(DNS_INFLIGHT, S.cf.maxscreen * (2 * S.cf.rbl.n + 1)) ;
    if (!S.dq) strerr_warnwu1sys("start the DNS engine (no resolver?): every client is class none and listed nowhere") ;
  }
  if (S.cf.cachefile)
  {
    char key[CACHE_KEYLEN] ;
    if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key) strerr_diefu1sys(111, "get random bytes for the cache") ;
    S.mem = cache_init(S.cf.cachemax, key) ;
    if (!S.mem) strerr_diefu1sys(111, "allocate the cache") ;
    load() ;
  }
  sigemptyset(&set) ;
  sigaddset(&set, SIGCHLD) ; sigaddset(&set, SIGTERM) ; sigaddset(&set, SIGHUP) ; sigaddset(&set, SIGINT) ;
  if (sigprocmask(SIG_BLOCK, &set, 0) < 0) strerr_diefu1sys(111, "block signals") ;
  signal(SIGPIPE, SIG_IGN) ;
  sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC) ;
  S.epfd = epoll_create1(EPOLL_CLOEXEC) ;
  if (sfd < 0 || S.epfd < 0) strerr_diefu1sys(111, "create the event loop") ;
  {
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_SIGNAL } ;
    if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, sfd, &ev) < 0) strerr_diefu1sys(111, "epoll_ctl") ;
  }
  if (S.dq)
  {
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_DNS } ;
    if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, mx_dns_q_fd(S.dq), &ev) < 0) strerr_diefu1sys(111, "epoll_ctl") ;
  }
  listener(1) ;
  loop(sfd) ;
}
