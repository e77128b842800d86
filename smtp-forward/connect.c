/* connect: see connect.h. */
#include "connect.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mx_dns.h"
#include "mx_secs.h"
#include "mx_wait.h"

size_t fwd_resolve (char const *host, ip46 *addrs, size_t max, long long deadline, char const **why)
{
  mx_dns_query q[2] ;
  long long left ;
  size_t n = 0, i, k ;
  if (!max) return 0 ;
  if (mx_ip_scan(host, strlen(host), &addrs[0])) return 1 ;
  memset(q, 0, sizeof q) ;
  q[0].name = q[1].name = host ;
  q[0].type = MX_DNS_AAAA ;
  q[1].type = MX_DNS_A ;
  left = deadline - mx_now_ms() ;
  if (left <= 0) { *why = "no time left to look up the server's name" ; return 0 ; }
  if (mx_dns_all(q, 2, (unsigned int)left) < 0) { *why = "no DNS resolver" ; return 0 ; }
  for (k = 0 ; k < 2 ; k++)
    for (i = 0 ; i < q[k].na && n < max ; i++)
    {
      if (q[k].type == MX_DNS_AAAA)
      {
        /* a mapped IPv4 address is connected to as IPv4 */
        static unsigned char const mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff } ;
        if (!memcmp(q[k].aaaa[i], mapped, 12)) ip46_from_ip4(&addrs[n], (char const *)q[k].aaaa[i] + 12) ;
        else ip46_from_ip6(&addrs[n], (char const *)q[k].aaaa[i]) ;
      }
      else ip46_from_ip4(&addrs[n], (char const *)q[k].a[i]) ;
      n++ ;
    }
  if (!n)
    *why = q[0].status == MX_DNS_TIMEOUT || q[1].status == MX_DNS_TIMEOUT ? "the server's name was not resolved in time"
         : q[0].status == MX_DNS_FAILED && q[1].status == MX_DNS_FAILED ? "the server's name could not be looked up"
         : "the server's name has no address" ;
  return n ;
}

/* One try: 1 connected (*fd), 0 failed (errno) */
static int try_one (ip46 const *ip, unsigned int port, long long until, int *fd)
{
  struct sockaddr_storage ss ;
  socklen_t sl ;
  int s, e ;
  memset(&ss, 0, sizeof ss) ;
  if (ip46_is6(ip))
  {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss ;
    a->sin6_family = AF_INET6 ;
    a->sin6_port = htons((unsigned short)port) ;
    memcpy(&a->sin6_addr, ip->ip, 16) ;
    sl = sizeof *a ;
  }
  else
  {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss ;
    a->sin_family = AF_INET ;
    a->sin_port = htons((unsigned short)port) ;
    memcpy(&a->sin_addr, ip->ip, 4) ;
    sl = sizeof *a ;
  }
  s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) ;
  if (s < 0) return 0 ;
  if (connect(s, (struct sockaddr *)&ss, sl) == 0) { *fd = s ; return 1 ; }
  if (errno != EINPROGRESS) goto err ;
  for (;;)
  {
    int r = mx_wait(s, POLLOUT, until) ;
    socklen_t el = sizeof e ;
    if (!r) { errno = ETIMEDOUT ; goto err ; }
    if (r < 0) goto err ;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) < 0) goto err ;
    if (e) { errno = e ; goto err ; }
    *fd = s ;
    return 1 ;
  }
 err:
  e = errno ;
  close(s) ;
  errno = e ;
  return 0 ;
}

/* the relay writes what it has read at once: Nagle's wait for an
   acknowledgement would only delay the server's view of a command */
static int nodelay (int fd)
{
  int one = 1 ;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ;
  return fd ;
}

int fwd_connect (ip46 const *addrs, size_t n, unsigned int port, long long deadline, size_t *used)
{
  size_t i ;
  errno = EADDRNOTAVAIL ;
  for (i = 0 ; i < n ; i++)
  {
    long long now = mx_now_ms(), left = deadline - now ;
    int fd ;
    if (left <= 0) { errno = ETIMEDOUT ; break ; }
    if (try_one(&addrs[i], port, now + left / (long long)(n - i), &fd)) { *used = i ; return nodelay(fd) ; }
  }
  return -1 ;
}
