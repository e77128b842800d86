/* listen: smtp-screen's listening socket and what it accepts, over the
 * BSD socket calls, with addresses as ip46 (an IPv4 client of an IPv6
 * socket, ::ffff:a.b.c.d, as the IPv4 address, as tcpserver shows it).
 */
#ifndef SMTPSCREEN_LISTEN_H
#define SMTPSCREEN_LISTEN_H

#include <stdint.h>
#include <skalibs/ip46.h>

/* A non-blocking, close-on-exec socket listening on host ("0" or "::":
   every address of both families; else an IPv4 or IPv6 address) and
   port (decimal, 0 to 65535), backlog as given. Returns the fd, -2 if
   host or port is not of that form, -1 with errno on a system error. */
extern int listen_open (char const *host, char const *port, unsigned int backlog) ;

/* Writes the port lfd listens on and a newline to stdout. */
extern void listen_print_port (int lfd) ;

/* accept4, non-blocking and close-on-exec; the peer into *ip, *port.
   Returns the fd, or -1 with errno. */
extern int listen_accept (int lfd, ip46 *ip, uint16_t *port) ;

/* The local address of fd into *ip, *port (zero if it cannot be had). */
extern void listen_local (int fd, ip46 *ip, uint16_t *port) ;

/* Writes ip's text as Debian's tcpserver (ucspi-tcp-ipv6, fefe's
   ip6_fmt) writes TCPREMOTEIP and looks it up in the rules: IPv4 as a
   dotted quad; IPv6 in lower-case hex without leading zeros, the FIRST
   run of zero groups (even a single one) written "::" -- not RFC 5952's
   longest run -- and a NUL. s has room for MX_IP_FMT bytes. Returns
   the length. */
extern size_t listen_tcpserver_fmt (char *s, ip46 const *ip) ;

/* Raises the soft limit on open files to n, or as near as the hard
   limit allows. */
extern void listen_raise_nofile (unsigned int n) ;

#endif
