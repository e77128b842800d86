/* connect: the server smtp-forward hands the session to, reached by
 * address or by name, every address tried, all under one deadline. */
#ifndef SMTPFORWARD_CONNECT_H
#define SMTPFORWARD_CONNECT_H

#include <stddef.h>
#include "mx_ip.h"

/* Most addresses of a name that are tried. */
#define FWD_ADDR_MAX 16

/* Puts host's addresses in addrs (room for max): host itself if it is
   an IPv4 or IPv6 address; otherwise its AAAA, then its A records,
   asked of the DNS at once (mx_dns; /etc/hosts is not read), answered
   by deadline (mx_now_ms). Returns how many; 0 with *why set when
   there are none. */
extern size_t fwd_resolve (char const *host, ip46 *addrs, size_t max, long long deadline, char const **why) ;

/* Connects to addrs[0..n) on port, in turn, until one takes the
   connection; each try may use an equal share of the time left before
   deadline, so one silent address cannot use the others' time.
   Returns the connected socket (non-blocking) with *used set to the
   address's index, or -1 with errno from the last try. */
extern int fwd_connect (ip46 const *addrs, size_t n, unsigned int port, long long deadline, size_t *used) ;

#endif
