/* netlist-fuzz: libFuzzer harness for mx_netlist_scan and its match,
 * the list an administrator gives proxy-env -b. The input's first 16
 * bytes (and the 17th's low bit for the family) are an address to
 * match, the rest is the list text. Aborts when a list parses into no
 * entry or past MX_NET_MAX, when a parsed entry has address bits set
 * past its prefix or a prefix longer than its family, when its text
 * form does not parse back to the same entry, or when a match is found
 * for an address that is not within the prefix of the entry said to
 * hold it, computed bit by bit here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx_net.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static int bit (char const *ip, unsigned int i) { return ((unsigned char)ip[i >> 3] >> (7 - (i & 7))) & 1 ; }

static int within (mx_net const *net, ip46 const *ip)
{
  unsigned int i ;
  if (ip46_is6(ip) != ip46_is6(&net->ip)) return 0 ;
  for (i = 0 ; i < net->bits ; i++) if (bit(ip->ip, i) != bit(net->ip.ip, i)) return 0 ;
  return 1 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  mx_netlist l = MX_NETLIST_ZERO ;
  ip46 ip ;
  unsigned int i, any = 0 ;
  if (size < 17) return 0 ;
  if (data[16] & 1) ip46_from_ip6(&ip, (char const *)data) ;
  else ip46_from_ip4(&ip, (char const *)data) ;
  if (!mx_netlist_scan(&l, (char const *)data + 17, size - 17)) { check(!l.n) ; return 0 ; }
  check(l.n >= 1 && l.n <= MX_NET_MAX) ;
  for (i = 0 ; i < l.n ; i++)
  {
    mx_net const *net = &l.net[i] ;
    unsigned int total = ip46_is6(&net->ip) ? 128 : 32, j ;
    char t[MX_IP_FMT + 4] ;
    size_t tl ;
    mx_net back ;
    check(net->bits <= total) ;
    for (j = net->bits ; j < total ; j++) check(!bit(net->ip.ip, j)) ;
    if (!ip46_is6(&net->ip)) for (j = 4 ; j < 16 ; j++) check(!net->ip.ip[j]) ;
    /* the canonical text parses back to the same entry */
    tl = mx_ip_fmt(t, &net->ip) ;
    tl += (size_t)snprintf(t + tl, sizeof t - tl, "/%u", net->bits) ;
    check(mx_net_scan(t, tl, &back) && back.bits == net->bits && ip46_is6(&back.ip) == ip46_is6(&net->ip)
      && !memcmp(back.ip.ip, net->ip.ip, 16)) ;
    /* the net's own address is in it */
    check(mx_net_match(net, &net->ip)) ;
    /* a match means within the prefix, and within means a match */
    check(mx_net_match(net, &ip) == within(net, &ip)) ;
    any |= within(net, &ip) ;
  }
  check(mx_netlist_match(&l, &ip) == (int)any) ;
  return 0 ;
}
