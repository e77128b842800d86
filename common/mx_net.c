/* mx_net: address/prefix lists (mx_net.h). */
#include "mx_net.h"

#include <string.h>

#include "mx_text.h"

/* 1 if no bit of the 16-byte ip past the first bits is set */
static int host_bits_clear (char const *ip, unsigned int bits, unsigned int total)
{
  unsigned int i ;
  for (i = bits ; i < total ; i++)
    if ((unsigned char)ip[i >> 3] & (0x80u >> (i & 7))) return 0 ;
  return 1 ;
}

int mx_net_scan (char const *s, size_t len, mx_net *net)
{
  char const *slash = memchr(s, '/', len) ;
  size_t alen = slash ? (size_t)(slash - s) : len ;
  unsigned int bits, total ;
  unsigned long b ;
  ip46 ip ;
  if (!mx_ip_scan(s, alen, &ip)) return 0 ;
  total = ip46_is6(&ip) ? 128 : 32 ;
  if (!slash) bits = total ;
  else
  {
    if (!mx_text_decimal(slash + 1, len - alen - 1, 128, &b)) return 0 ;
    bits = (unsigned int)b ;
    if (!ip46_is6(&ip) && memchr(s, ':', alen))
    {
      /* ::ffff:a.b.c.d/N: the prefix counts the 96 bits of ::ffff: */
      if (bits < 96) return 0 ;
      bits -= 96 ;
    }
    if (bits > total) return 0 ;
  }
  if (!host_bits_clear(ip.ip, bits, total)) return 0 ;
  net->ip = ip ;
  net->bits = bits ;
  return 1 ;
}

int mx_netlist_scan (mx_netlist *l, char const *s, size_t len)
{
  unsigned int n = l->n ;
  size_t i = 0 ;
  for (;;)
  {
    char const *comma = memchr(s + i, ',', len - i) ;
    size_t elen = comma ? (size_t)(comma - (s + i)) : len - i ;
    if (n >= MX_NET_MAX || !mx_net_scan(s + i, elen, &l->net[n])) return 0 ;
    n++ ;
    if (!comma) break ;
    i += elen + 1 ;
  }
  l->n = n ;
  return 1 ;
}

int mx_net_match (mx_net const *net, ip46 const *ip)
{
  unsigned int full = net->bits >> 3, rest = net->bits & 7 ;
  if (!ip46_is6(ip) != !ip46_is6(&net->ip)) return 0 ;
  if (memcmp(ip->ip, net->ip.ip, full)) return 0 ;
  if (rest)
  {
    unsigned char mask = (unsigned char)(0xffu << (8 - rest)) ;
    if (((unsigned char)ip->ip[full] ^ (unsigned char)net->ip.ip[full]) & mask) return 0 ;
  }
  return 1 ;
}

int mx_netlist_match (mx_netlist const *l, ip46 const *ip)
{
  unsigned int i ;
  for (i = 0 ; i < l->n ; i++)
    if (mx_net_match(&l->net[i], ip)) return 1 ;
  return 0 ;
}
