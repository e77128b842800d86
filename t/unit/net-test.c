/* net-test: the address/prefix lists of mx_net (proxy-env -b), in the
 * text administrators type: which lists parse, and which addresses each
 * one matches and does not. Table-driven. */
#include <stdio.h>
#include <string.h>

#include "mx_net.h"
#include "tap.h"

/* a list, then addresses in it ("+") and out of it ("-") */
static struct { char const *list ; char const *const in[6] ; char const *const out[6] ; } const good[] =
{
  { "192.0.2.10", { "192.0.2.10", "::ffff:192.0.2.10" }, { "192.0.2.11", "192.0.2.1", "::ffff:c000:20b", "2001:db8::a" } },
  { "192.0.2.0/24", { "192.0.2.0", "192.0.2.255", "::ffff:192.0.2.77" }, { "192.0.3.0", "192.0.1.255", "::c000:200" } },
  { "10.0.0.0/8", { "10.0.0.1", "10.255.255.255" }, { "11.0.0.0", "9.255.255.255" } },
  { "198.51.100.128/25", { "198.51.100.128", "198.51.100.255" }, { "198.51.100.127", "198.51.101.128" } },
  { "192.0.2.10/32", { "192.0.2.10" }, { "192.0.2.11" } },
  { "0.0.0.0/0", { "0.0.0.0", "255.255.255.255", "192.0.2.1" }, { "::1", "2001:db8::1" } },
  { "::1", { "::1" }, { "::2", "127.0.0.1", "::" } },
  { "::/120", { "::1", "::ff" }, { "::100", "0.0.0.1" } },
  { "2001:db8::/32", { "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" }, { "2001:db9::", "2001:db7:ffff::", "32.1.13.184" } },
  { "2001:DB8:0:0:0:0:0:0/33", { "2001:db8::", "2001:db8:7fff::1" }, { "2001:db8:8000::" } },
  { "::/0", { "::1", "2001:db8::1", "fe80::1" }, { "0.0.0.0", "192.0.2.1" } },
  { "::ffff:192.0.2.10", { "192.0.2.10" }, { "192.0.2.11" } },
  { "::ffff:192.0.2.0/120", { "192.0.2.1", "192.0.2.255" }, { "192.0.3.1" } },
  { "::ffff:c000:200/119", { "192.0.2.1", "192.0.3.255" }, { "192.0.4.0" } },
  { "::ffff:0.0.0.0/96", { "1.2.3.4" }, { "::1" } },
  { "192.0.2.10,192.0.2.20,2001:db8::/48", { "192.0.2.10", "192.0.2.20", "2001:db8:0:1::" }, { "192.0.2.15", "2001:db8:1::" } },
} ;

static char const *const bad[] =
{
  "", ",", "192.0.2.10,", ",192.0.2.10", "192.0.2.10,,192.0.2.11", "192.0.2.10 ", " 192.0.2.10",
  "192.0.2.10, 192.0.2.11", "192.0.2.10;192.0.2.11", "192.0.2.0/", "/24", "192.0.2.0/33",
  "192.0.2.0/024", "192.0.2.0/+24", "192.0.2.0/-1", "192.0.2.0/2 4", "192.0.2.0/24/24",
  "192.0.2.0/1000", "192.0.2.0/4294967320", "192.0.2.10/24", "10.0.0.1/8", "0.0.0.1/0",
  "2001:db8::/129", "2001:db8::1/64", "::1/0", "::ffff:192.0.2.0/95", "::ffff:192.0.2.0/64",
  "::ffff:192.0.2.0/129", "::ffff:192.0.2.10/120", "192.0.2", "192.0.2.256", "192.0.02.1",
  "localhost", "fe80::1%lo", "192.0.2.0/0x18", "192.0.2.*", "192.0.2.0-255",
} ;

int main (void)
{
  unsigned int i, j ;
  char name[200] ;
  for (i = 0 ; i < sizeof good / sizeof *good ; i++)
  {
    mx_netlist l = MX_NETLIST_ZERO ;
    int r = mx_netlist_scan(&l, good[i].list, strlen(good[i].list)) ;
    snprintf(name, sizeof name, "%s parses", good[i].list) ;
    if (!tap_ok(r && l.n, name)) continue ;
    for (j = 0 ; j < 6 && good[i].in[j] ; j++)
    {
      ip46 ip ;
      snprintf(name, sizeof name, "%s holds %s", good[i].list, good[i].in[j]) ;
      tap_ok(mx_ip_scan(good[i].in[j], strlen(good[i].in[j]), &ip) && mx_netlist_match(&l, &ip), name) ;
    }
    for (j = 0 ; j < 6 && good[i].out[j] ; j++)
    {
      ip46 ip ;
      snprintf(name, sizeof name, "%s does not hold %s", good[i].list, good[i].out[j]) ;
      tap_ok(mx_ip_scan(good[i].out[j], strlen(good[i].out[j]), &ip) && !mx_netlist_match(&l, &ip), name) ;
    }
  }
  for (i = 0 ; i < sizeof bad / sizeof *bad ; i++)
  {
    mx_netlist l = MX_NETLIST_ZERO ;
    snprintf(name, sizeof name, "'%s' is refused", bad[i]) ;
    tap_ok(!mx_netlist_scan(&l, bad[i], strlen(bad[i])) && !l.n, name) ;
  }
  {
    mx_netlist l = MX_NETLIST_ZERO ;
    ip46 ip ;
    char big[MX_NET_MAX * 16] ;
    size_t n = 0 ;
    tap_ok(!mx_netlist_match(&l, (mx_ip_scan("192.0.2.1", 9, &ip), &ip)), "an empty list holds nothing") ;
    tap_ok(mx_netlist_scan(&l, "192.0.2.1", 9) && mx_netlist_scan(&l, "2001:db8::/32", 13) && l.n == 2,
      "a second list adds to the first (-b repeated)") ;
    tap_ok(!mx_netlist_scan(&l, "192.0.2.2,junk", 14) && l.n == 2, "a bad list leaves the earlier entries alone") ;
    tap_ok(mx_netlist_match(&l, &ip), "the first list's entry still matches") ;
    tap_ok(mx_netlist_scan(&l, "192.0.2.9/32junk", 12) && l.n == 3, "only len bytes are read") ;
    l.n = 0 ;
    for (i = 0 ; i < MX_NET_MAX ; i++) n += (size_t)snprintf(big + n, sizeof big - n, "%s10.0.0.%u", i ? "," : "", i) ;
    tap_ok(mx_netlist_scan(&l, big, n) && l.n == MX_NET_MAX, "MX_NET_MAX entries fit") ;
    tap_ok(!mx_netlist_scan(&l, "10.0.1.0", 8) && l.n == MX_NET_MAX, "one more is refused") ;
    l.n = 0 ;
    tap_ok(!mx_netlist_scan(&l, "10.0.1.0\0" "1", 10) && !l.n, "a NUL inside the length is refused") ;
  }
  return tap_done() ;
}
