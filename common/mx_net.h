/* mx_net: address/prefix lists, as an administrator names the peers a
 * program trusts: "192.0.2.10,198.51.100.0/24,2001:db8::/32".
 *
 * Each entry is an address as mx_ip_scan reads it, with an optional
 * "/bits" (decimal, no sign, no leading zero; at most 32 for IPv4, 128
 * for IPv6; absent: the whole address). ::ffff:a.b.c.d/N, N from 96 to
 * 128, is a.b.c.d/(N-96), as the address alone is a.b.c.d. No address
 * bit beyond the prefix may be set (192.0.2.10/24 is refused, a typo
 * for 192.0.2.0/24 or for 192.0.2.10). Entries are separated by single
 * commas, nothing else: no blanks, no empty entry.
 */
#ifndef MX_NET_H
#define MX_NET_H

#include <stddef.h>
#include "mx_ip.h"

/* Most entries one list holds, all options that add to it together. */
#define MX_NET_MAX 64

typedef struct mx_net_s { ip46 ip ; unsigned int bits ; } mx_net ;
typedef struct mx_netlist_s { mx_net net[MX_NET_MAX] ; unsigned int n ; } mx_netlist ;
#define MX_NETLIST_ZERO { .n = 0 }

/* Parses one entry, all of s (len bytes). Returns 1, or 0 if malformed. */
extern int mx_net_scan (char const *s, size_t len, mx_net *net) ;

/* Adds every entry of the list s (len bytes) to l. Returns 1, or 0 with
   l unchanged if an entry is malformed or l would pass MX_NET_MAX. */
extern int mx_netlist_scan (mx_netlist *l, char const *s, size_t len) ;

/* 1 if ip is in net: same family, the first net->bits bits equal. */
extern int mx_net_match (mx_net const *net, ip46 const *ip) ;

/* 1 if ip is in one of l's networks; 0 for an empty list. */
extern int mx_netlist_match (mx_netlist const *l, ip46 const *ip) ;

#endif
