/* listen: see listen.h */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* accept4 */
#endif
#include "listen.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <skalibs/types.h>

#include "mx_ip.h"
#include "mx_text.h"

/* lower-case hex, no leading zeros */
static size_t xfmt16 (char *s, unsigned int g)
{
  static char const hex[] = "0123456789abcdef" ;
  size_t n = 0 ;
  int shift ;
  for (shift = 12 ; shift > 0 && !(g >> shift) ; shift -= 4) ;
  for (; shift >= 0 ; shift -= 4) s[n++] = hex[(g >> shift) & 15] ;
  return n ;
}

static void from_sockaddr (struct sockaddr_storage const *sa, ip46 *ip, uint16_t *port)
{
  static unsigned char const mapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff } ;
  if (sa->ss_family == AF_INET6)
  {
    struct sockaddr_in6 const *s6 = (struct sockaddr_in6 const *)sa ;
    if (!memcmp(s6->sin6_addr.s6_addr, mapped, 12)) ip46_from_ip4(ip, (char const *)s6->sin6_addr.s6_addr + 12) ;
    else ip46_from_ip6(ip, (char const *)s6->sin6_addr.s6_addr) ;
    *port = ntohs(s6->sin6_port) ;
  }
  else if (sa->ss_family == AF_INET)
  {
    struct sockaddr_in const *s4 = (struct sockaddr_in const *)sa ;
    ip46_from_ip4(ip, (char const *)&s4->sin_addr.s_addr) ;
    *port = ntohs(s4->sin_port) ;
  }
  else { memset(ip, 0, sizeof *ip) ; *port = 0 ; }
}

int listen_open (char const *host, char const *port, unsigned int backlog)
{
  struct sockaddr_storage sa ;
  socklen_t len ;
  unsigned long p ;
  ip46 ip ;
  int any = !strcmp(host, "0") || !strcmp(host, "::") ;
  int fd, one = 1, zero = 0 ;
  if (!mx_text_decimal(port, strlen(port), 65535, &p)) return -2 ;
  memset(&sa, 0, sizeof sa) ;
  if (any || (mx_ip_scan(host, strlen(host), &ip) && ip46_is6(&ip)))
  {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa ;
    s6->sin6_family = AF_INET6 ;
    s6->sin6_port = htons((uint16_t)p) ;
    if (!any) memcpy(s6->sin6_addr.s6_addr, ip.ip, 16) ;
    len = sizeof *s6 ;
  }
  else if (mx_ip_scan(host, strlen(host), &ip))
  {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&sa ;
    s4->sin_family = AF_INET ;
    s4->sin_port = htons((uint16_t)p) ;
    memcpy(&s4->sin_addr.s_addr, ip.ip, 4) ;
    len = sizeof *s4 ;
  }
  else return -2 ;
  fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) ;
  if (fd < 0 && any && errno == EAFNOSUPPORT)
  {   /* no IPv6 here: every IPv4 address */
    struct sockaddr_in *s4 = (struct sockaddr_in *)&sa ;
    memset(&sa, 0, sizeof sa) ;
    s4->sin_family = AF_INET ;
    s4->sin_port = htons((uint16_t)p) ;
    len = sizeof *s4 ;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) ;
  }
  if (fd < 0) return -1 ;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
   || (sa.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, any ? &zero : &one, sizeof one) < 0)
   || bind(fd, (struct sockaddr *)&sa, len) < 0
   || listen(fd, (int)backlog) < 0)
  {
    int e = errno ;
    close(fd) ;
    errno = e ;
    return -1 ;
  }
  return fd ;
}

void listen_print_port (int lfd)
{
  struct sockaddr_storage sa ;
  socklen_t len = sizeof sa ;
  ip46 ip ;
  uint16_t port = 0 ;
  char s[UINT16_FMT + 1] ;
  size_t n ;
  memset(&sa, 0, sizeof sa) ;
  if (!getsockname(lfd, (struct sockaddr *)&sa, &len)) from_sockaddr(&sa, &ip, &port) ;
  n = uint16_fmt(s, port) ;
  s[n++] = '\n' ;
  if (write(1, s, n) < 0) return ;
}

int listen_accept (int lfd, ip46 *ip, uint16_t *port)
{
  struct sockaddr_storage sa ;
  socklen_t len = sizeof sa ;
  int fd ;
  memset(&sa, 0, sizeof sa) ;
  fd = accept4(lfd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC) ;
  if (fd >= 0) from_sockaddr(&sa, ip, port) ;
  return fd ;
}

void listen_local (int fd, ip46 *ip, uint16_t *port)
{
  struct sockaddr_storage sa ;
  socklen_t len = sizeof sa ;
  memset(&sa, 0, sizeof sa) ;
  if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) sa.ss_family = AF_UNSPEC ;
  from_sockaddr(&sa, ip, port) ;
}

size_t listen_tcpserver_fmt (char *s, ip46 const *ip)
{
  size_t n = 0 ;
  int compressing = 0, compressed = 0 ;
  unsigned int j ;
  if (!ip46_is6(ip)) { n = mx_ip_fmt(s, ip) ; s[n] = 0 ; return n ; }
  for (j = 0 ; j < 16 ; j += 2)
  {
    unsigned int g = ((unsigned int)(unsigned char)ip->ip[j] << 8) | (unsigned char)ip->ip[j + 1] ;
    if (!g && !compressed)
    {
      if (!compressing) { compressing = 1 ; if (!j) s[n++] = ':' ; }
      continue ;
    }
    if (compressing) { compressing = 0 ; compressed = 1 ; s[n++] = ':' ; }
    n += xfmt16(s + n, g) ;
    if (j < 14) s[n++] = ':' ;
  }
  if (compressing) s[n++] = ':' ;
  s[n] = 0 ;
  return n ;
}

void listen_raise_nofile (unsigned int n)
{
  struct rlimit r ;
  if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur >= n) return ;
  r.rlim_cur = r.rlim_max == RLIM_INFINITY || r.rlim_max > n ? n : r.rlim_max ;
  setrlimit(RLIMIT_NOFILE, &r) ;
}
