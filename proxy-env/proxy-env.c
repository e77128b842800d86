/* proxy-env: the first link behind a load balancer (HAProxy's
 * send-proxy / send-proxy-v2): reads the PROXY header it sends before
 * the client's first byte and hands the chain the real client.
 *
 * Usage: proxy-env -b addr[/bits][,...] [ -b ... ] [ -t secs ] [ -1 | -2 | -a ] child...
 *
 * -b names the balancers, the only peers whose header is believed
 * (mx_net.h: IPv4 and IPv6 addresses and prefixes, ::ffff:a.b.c.d as
 * the IPv4 address; repeatable). Without -b, or with a malformed list:
 * usage error, exit 100. The peer is TCPREMOTEIP as tcpserver set it;
 * a peer not in the list (or TCPREMOTEIP unset or not an address) is
 * refused before a byte is read: logged, the connection closed, exit
 * 100, child never runs. From a balancer, reads from fd 0 exactly the
 * header's bytes (mx_proxyhdr.h), nothing of what follows (a v1 line is
 * peeked at, on a socket, and taken up to its LF), within -t seconds
 * (default 5, at most 300): -1 takes version 1 only, -2 version 2
 * only, -a (default) either. Then execs
 * child with TCPREMOTEIP, TCPREMOTEPORT, TCPLOCALIP, TCPLOCALPORT and
 * PROTO (TCP or TCP6) set from the header, and TCPREMOTEHOST and
 * TCPREMOTEINFO removed (they were the balancer's).
 * A missing, malformed, oversized or late header: logged, the
 * connection closed, exit 100; child never runs. The balancer's own
 * connection (v2 LOCAL, v1 UNKNOWN: a health check): closed, exit 0.
 * Log: proxy-env: info: pid P ip BALANCER client=A port=PORT version=N result=proxy
 * (and result=local, or a warning with result=refused reason=...;
 * reason=untrusted peer for a peer not named with -b).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "mx_client.h"
#include "mx_exec.h"
#include "mx_ip.h"
#include "mx_log.h"
#include "mx_net.h"
#include "mx_proxyhdr.h"
#include "mx_secs.h"
#include "mx_wait.h"

#define USAGE "proxy-env -b addr[/bits][,addr[/bits]...] [ -t secs ] [ -1 | -2 | -a ] child..."
#define dieusage() strerr_dieusage(100, USAGE)

char const *PROG = "proxy-env" ;

/* A version 1 line ends at its LF, and not a byte past it may be
   taken. Rather than a read per byte: peek at what has come (fd 0 a
   socket) and take up to the LF, or all of it while there is no LF yet
   (every byte before the LF is the header's). Returns how many bytes
   to read; 1 where fd 0 cannot be peeked at (a pipe, a file). */
static size_t v1_take (unsigned char *buf, size_t have)
{
  static int nopeek = 0 ;
  unsigned char const *lf ;
  ssize_t r ;
  if (nopeek || have >= PROXYHDR_V1_MAX) return 1 ;
  r = recv(0, buf + have, PROXYHDR_V1_MAX - have, MSG_PEEK | MSG_DONTWAIT) ;
  if (r <= 0) { if (r < 0 && errno == ENOTSOCK) nopeek = 1 ; return 1 ; }
  lf = memchr(buf + have, '\n', (size_t)r) ;
  return lf ? (size_t)(lf - (buf + have)) + 1 : (size_t)r ;
}

static int refuse (char const *ipt, char const *why)
{
  mx_warn(ipt, "result=refused reason=", why) ;
  return 100 ;
}

int main (int argc, char const *const *argv)
{
  static unsigned char buf[16 + PROXYHDR_V2_BODY_MAX] ;
  static mx_netlist balancers = MX_NETLIST_ZERO ;
  unsigned int ms = 5000, versions = PROXYHDR_V1 | PROXYHDR_V2 ;
  char ipt[MX_CLIENT_IPTEXT] ;
  size_t have = 0 ;
  long long deadline ;
  proxyhdr h ;
  ip46 lb ;

  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "b:t:12a", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'b' : if (!mx_netlist_scan(&balancers, l.arg, strlen(l.arg))) dieusage() ; break ;
        case 't' : if (!mx_secs_scan(l.arg, 300000, &ms) || !ms) dieusage() ; break ;
        case '1' : versions = PROXYHDR_V1 ; break ;
        case '2' : versions = PROXYHDR_V2 ; break ;
        case 'a' : versions = PROXYHDR_V1 | PROXYHDR_V2 ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc || !*argv[0] || !balancers.n) dieusage() ;
  /* the peer, as tcpserver saw it: a header is believed from a balancer only */
  if (!mx_client_ip(&lb, ipt) || !mx_netlist_match(&balancers, &lb))
    return refuse(ipt, "untrusted peer") ;

  deadline = mx_now_ms() + ms ;
  for (;;)
  {
    long need = proxyhdr_need(buf, have, versions) ;
    ssize_t r ;
    if (need < 0) return refuse(ipt, have >= PROXYHDR_V1_MAX ? "no PROXY header, or an overlong one" : "no PROXY header") ;
    if ((size_t)need == have) break ;
    r = mx_wait_readable(0, deadline) ;
    if (r < 0) strerr_diefu1sys(111, "poll") ;
    if (!r) return refuse(ipt, "no complete PROXY header in time") ;
    if ((size_t)need == have + 1 && have >= 8 && !memcmp(buf, "PROXY ", 6)) need = (long)(have + v1_take(buf, have)) ;
    r = read(0, buf + have, (size_t)need - have) ;
    if (r < 0) { if (errno == EINTR || errno == EAGAIN) continue ; return refuse(ipt, "the connection failed") ; }
    if (!r) return refuse(ipt, "the connection ended inside the PROXY header") ;
    have += (size_t)r ;
  }

  switch (proxyhdr_parse(buf, have, &h))
  {
    case PROXYHDR_BAD : return refuse(ipt, "a malformed PROXY header") ;
    case PROXYHDR_LOCAL :
    {
      char v[UINT_FMT] ;
      v[uint_fmt(v, h.version)] = 0 ;
      mx_info(ipt, "version=", v, " result=local") ;
      return 0 ;
    }
    case PROXYHDR_PROXY : break ;
  }
  {
    /* the environment a tcpserver in the balancer's place would give */
    char src[MX_IP_FMT], dst[MX_IP_FMT], sp[UINT_FMT], dp[UINT_FMT], v[UINT_FMT] ;
    char modif[256] ;
    size_t m = 0 ;
    src[mx_ip_fmt(src, &h.src)] = 0 ;
    dst[mx_ip_fmt(dst, &h.dst)] = 0 ;
    sp[uint_fmt(sp, h.sport)] = 0 ;
    dp[uint_fmt(dp, h.dport)] = 0 ;
    v[uint_fmt(v, h.version)] = 0 ;
#define ADD(s) do { size_t n_ = strlen(s) + 1 ; memcpy(modif + m, s, n_) ; m += n_ ; } while (0)
#define ADDKV(k, val) do { size_t k_ = strlen(k), v_ = strlen(val) ; memcpy(modif + m, k, k_) ; memcpy(modif + m + k_, val, v_ + 1) ; m += k_ + v_ + 1 ; } while (0)
    ADDKV("PROTO=", ip46_is6(&h.src) ? "TCP6" : "TCP") ;
    ADDKV("TCPREMOTEIP=", src) ;
    ADDKV("TCPREMOTEPORT=", sp) ;
    ADDKV("TCPLOCALIP=", dst) ;
    ADDKV("TCPLOCALPORT=", dp) ;
    ADD("TCPREMOTEHOST") ;
    ADD("TCPREMOTEINFO") ;
#undef ADD
#undef ADDKV
    mx_info(ipt, "client=", src, " port=", sp, " version=", v, " result=proxy") ;
    mx_exec(argv, modif, m) ;
  }
}
