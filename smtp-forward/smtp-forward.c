/* smtp-forward: the last link of a chain: hands the session to an SMTP
 * server over TCP (an MTA on port 2525, an inner host), and tells that
 * server who the client is.
 *
 * Usage: smtp-forward [ -x [ -H ] | -p 1|2 ] [ -T secs ] [ -t secs ] host port
 *
 * Connects to host (an address, or a name whose AAAA and A records are
 * tried in turn) on port, then:
 *   -x  Postfix XCLIENT (handshake.h): EHLO, then XCLIENT with the
 *       client's ADDR, PORT and NAME (its forward-confirmed DNS name,
 *       looked up here within 5 s or half of -T; [UNAVAILABLE] with
 *       -H, [TEMPUNAVAIL] if the lookup failed); the server's new
 *       greeting goes to the client.
 *   -p  a PROXY header of version 1 or 2 (mx_proxyhdr.h) before any byte.
 *   neither: the server sees the guard's address (smtp-forward.8).
 * Then relays bytes both ways (mx_relay.h) until the server closes, or
 * nothing moves for -t seconds (default 1200).
 * -T (default 30) bounds the connection (every address, in all) and
 * then each reply of the handshake. The server unreachable, slow,
 * refusing XCLIENT or not offering it: the client gets 421 4.3.0,
 * nothing else; exit 111.
 * The client is TCPREMOTEIP and TCPREMOTEPORT; -p also sends
 * TCPLOCALIP and TCPLOCALPORT. Either missing where needed: 421, 111.
 * Exit: 0 after a session; 100 usage; 111 no session.
 * Log, one line per session: smtp-forward: info: pid P ip CLIENT
 *   server=A:PORT mode=M [name=N] up=BYTES down=BYTES result=closed|idle|client-gone
 *      smtp-forward: warning: pid P ip CLIENT server=.. result=unavailable reason=..
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "connect.h"
#include "handshake.h"
#include "mx_client.h"
#include "mx_dns.h"
#include "mx_fifo.h"
#include "mx_linger.h"
#include "mx_log.h"
#include "mx_proxyhdr.h"
#include "mx_relay.h"
#include "mx_secs.h"
#include "mx_wait.h"
#include "mx_smtp.h"

#define USAGE "smtp-forward [ -x [ -H ] | -p 1|2 ] [ -T secs ] [ -t secs ] host port"
#define dieusage() strerr_dieusage(100, USAGE)

char const *PROG = "smtp-forward" ;

static char const *ipt ;        /* the client, for the log */
static char servert[MX_IP_FMT + 16] = "none" ;  /* the server, for the log */

/* No session: the client hears 421, nothing else. */
static int unavailable (char const *why)
{
  static char const msg[] = "421 4.3.0 mail server temporarily unavailable, closing connection\r\n" ;
  mx_warn(ipt, "server=", servert, " result=unavailable reason=", why) ;
  allwrite(1, msg, sizeof msg - 1) ;
  mx_linger(0, 1, 1000) ;
  return 111 ;
}

/* An environment variable holding a TCP port (1 to 65535): 1 with
   *port set, 0 if it is unset (*port untouched), -1 if it holds
   anything else. */
static int env_port (char const *var, unsigned int *port)
{
  char const *s = getenv(var) ;
  unsigned int p ;
  size_t n ;
  if (!s) return 0 ;
  n = uint_scan(s, &p) ;
  if (!n || s[n] || !p || p > 65535) return -1 ;
  *port = p ;
  return 1 ;
}

/* all of s to the non-blocking fd by deadline: 1, or 0 */
static int send_all (int fd, char const *s, size_t len, long long deadline)
{
  while (len)
  {
    ssize_t w ;
    if (mx_wait(fd, POLLOUT, deadline) <= 0) return 0 ;
    w = write(fd, s, len) ;
    if (w < 0) { if (errno == EAGAIN || errno == EINTR) continue ; return 0 ; }
    s += w ; len -= (size_t)w ;
  }
  return 1 ;
}

/* Reads into buf (room bytes, *have read so far) until it holds a
   complete reply, by deadline. Returns the reply's length, or 0 with
   *why set. */
static size_t read_reply (int fd, char *buf, size_t room, size_t *have, long long deadline, char const **why)
{
  for (;;)
  {
    size_t n = smtp_reply_len(buf, *have) ;
    ssize_t r ;
    if (n) return n ;
    if (*have == room) { *why = "reply too long" ; return 0 ; }
    r = mx_wait_readable(fd, deadline) ;
    if (r < 0) { *why = "poll failed" ; return 0 ; }
    if (!r) { *why = "no reply in time" ; return 0 ; }
    r = read(fd, buf + *have, room - *have) ;
    if (r < 0) { if (errno == EAGAIN || errno == EINTR) continue ; *why = "connection failed" ; return 0 ; }
    if (!r) { *why = "the server closed the connection" ; return 0 ; }
    *have += (size_t)r ;
  }
}

/* Has fd something to read at this very moment? */
static int readable_now (int fd)
{
  return mx_wait_readable(fd, 0) > 0 ;
}

/* "[a.b.c.d]" or "[IPv6:...]": the address this end of fd has, as
   the EHLO argument */
static void local_literal (int fd, char *out)
{
  struct sockaddr_storage ss ;
  socklen_t sl = sizeof ss ;
  size_t w = 0 ;
  memset(&ss, 0, sizeof ss) ;
  out[w++] = '[' ;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET6)
  {
    memcpy(out + w, "IPv6:", 5) ; w += 5 ;
    w += ip6_fmt(out + w, (char const *)&((struct sockaddr_in6 *)&ss)->sin6_addr) ;
  }
  else if (ss.ss_family == AF_INET)
    w += ip4_fmt(out + w, (char const *)&((struct sockaddr_in *)&ss)->sin_addr) ;
  else { memcpy(out + w, "127.0.0.1", 9) ; w += 9 ; }
  out[w++] = ']' ;
  out[w] = 0 ;
}

int main (int argc, char const *const *argv)
{
  static char upbuf[131072], downbuf[131072] ;
  mx_fifo up = MX_FIFO(upbuf), down = MX_FIFO(downbuf) ;
  unsigned int ms = 30000, idle_ms = 1200000, proxy = 0, port, cport = 0 ;
  int xclient = 0, lookup = 1, sfd ;
  char iptext[MX_CLIENT_IPTEXT], name[HANDSHAKE_NAME_MAX + 1] = "[UNAVAILABLE]" ;
  ip46 client, local, addrs[FWD_ADDR_MAX] ;
  unsigned int lport = 0 ;
  size_t naddrs, used = 0 ;
  long long deadline ;
  int have_client ;

  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "xHp:T:t:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'x' : xclient = 1 ; break ;
        case 'H' : lookup = 0 ; break ;
        case 'p' :
          if (!strcmp(l.arg, "1")) proxy = 1 ;
          else if (!strcmp(l.arg, "2")) proxy = 2 ;
          else dieusage() ;
          break ;
        case 'T' : if (!mx_secs_scan(l.arg, 3600000, &ms) || !ms) dieusage() ; break ;
        case 't' : if (!mx_secs_scan(l.arg, 86400000, &idle_ms) || !idle_ms) dieusage() ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc != 2 || !*argv[0] || (xclient && proxy)) dieusage() ;
  {
    size_t n = uint_scan(argv[1], &port) ;
    if (!n || argv[1][n] || !port || port > 65535) dieusage() ;
  }
  signal(SIGPIPE, SIG_IGN) ;
  have_client = mx_client_ip(&client, iptext) ;
  ipt = iptext ;

  /* what the server is told of the client must be true, or nothing is */
  if (xclient || proxy)
  {
    int r = env_port("TCPREMOTEPORT", &cport) ;
    if (!have_client) return unavailable("no client address (TCPREMOTEIP)") ;
    /* without a port XCLIENT sends none; a wrong one is never sent */
    if (r < 0 || (!r && proxy)) return unavailable("no client port (TCPREMOTEPORT)") ;
  }
  if (proxy)
  {
    /* checked before the server sees a connection without a header */
    char const *l = getenv("TCPLOCALIP") ;
    if (!l || !mx_ip_scan(l, strlen(l), &local) || env_port("TCPLOCALPORT", &lport) <= 0)
      return unavailable("no local address (TCPLOCALIP, TCPLOCALPORT)") ;
  }
  if (xclient && lookup)
  {
    /* NAME is what Postfix's own lookup would have found: the name
       that leads back to the address, or none */
    int r = mx_dns_fcrdns((char const *)client.ip, ip46_is6(&client), ms / 2 < 5000 ? ms / 2 : 5000, name, sizeof name) ;
    if (r < 0) strcpy(name, "[TEMPUNAVAIL]") ;
    else if (!r || !xclient_name_ok(name)) strcpy(name, "[UNAVAILABLE]") ;
  }

  deadline = mx_now_ms() + ms ;   /* the connection's, after the name lookup */
  {
    char const *why = 0 ;
    naddrs = fwd_resolve(argv[0], addrs, FWD_ADDR_MAX, deadline, &why) ;
    if (!naddrs) return unavailable(why) ;
  }
  sfd = fwd_connect(addrs, naddrs, port, deadline, &used) ;
  {
    size_t w = mx_ip_fmt(servert, &addrs[used < naddrs ? used : 0]) ;
    servert[w++] = ':' ;
    servert[w + uint_fmt(servert + w, port)] = 0 ;
  }
  if (sfd < 0) return unavailable(errno == ETIMEDOUT ? "connect timed out" : "connect failed") ;

  if (proxy)
  {
    unsigned char hdr[PROXYHDR_OUT_MAX] ;
    if (!send_all(sfd, (char const *)hdr, proxyhdr_make(hdr, proxy, &client, cport, &local, lport), deadline))
      return unavailable("the PROXY header could not be sent") ;
  }

  {
    /* the handshake: every reply by its own -T deadline */
    char buf[8192], out[HANDSHAKE_LINE_MAX], helo[MX_IP_FMT + 8] ;
    size_t have = 0 ;
    handshake h ;
    local_literal(sfd, helo) ;
    handshake_start(&h, xclient, helo, &client, cport, name) ;
    for (;;)
    {
      char const *why = 0 ;
      size_t n = read_reply(sfd, buf, sizeof buf, &have, mx_now_ms() + ms, &why), outlen ;
      enum handshake_next next ;
      if (!n) return unavailable(why) ;
      next = handshake_reply(&h, buf, n, out, sizeof out, &outlen) ;
      if (next == HS_NEXT_FAIL) return unavailable(h.why) ;
      if (next == HS_NEXT_PASS)
      {
        /* the greeting, and whatever came after it, is the client's */
        mx_fifo_put(&down, buf, have) ;
        break ;
      }
      /* a server that speaks before it is asked is out of step: bytes
         beyond the reply, or waiting to be read, before the command */
      if (have > n || readable_now(sfd)) return unavailable("the server spoke out of turn") ;
      have = 0 ;
      if (!send_all(sfd, out, outlen, mx_now_ms() + ms)) return unavailable("the server stopped reading") ;
    }
  }

  {
    char const *mode = xclient ? "xclient" : proxy == 1 ? "proxy1" : proxy == 2 ? "proxy2" : "plain" ;
    mx_relay_io cside = { .rfd = 0, .wfd = 1 }, sside = { .rfd = sfd, .wfd = sfd } ;
    mx_relay_count count = { 0, 0 } ;
    enum mx_relay_end end ;
    char u[UINT64_FMT], d[UINT64_FMT] ;
    mx_fifo_nonblocking(0) ;
    mx_fifo_nonblocking(1) ;
    end = mx_relay_run(&cside, &sside, &up, &down, idle_ms, 0, 0, &count) ;
    u[uint64_fmt(u, count.up)] = 0 ;
    d[uint64_fmt(d, count.down)] = 0 ;
    /* one line per session, at its end, as rcptchecks and smtp-tls */
    mx_info(ipt, "server=", servert, " mode=", mode, xclient ? " name=" : "", xclient ? name : "",
            " up=", u, " down=", d,
            " result=", end == MX_RELAY_SERVER_CLOSED ? "closed" : end == MX_RELAY_IDLE ? "idle" : "client-gone") ;
  }
  return 0 ;
}
