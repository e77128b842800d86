/* ip-test: the address forms mx_ip accepts and refuses, table-driven. */
#include <string.h>

#include "mx_ip.h"
#include "tap.h"

static struct { char const *in ; char const *canon ; } const good[] =
{
  { "192.0.2.7", "192.0.2.7" },
  { "0.0.0.0", "0.0.0.0" },
  { "255.255.255.255", "255.255.255.255" },
  { "::ffff:192.0.2.7", "192.0.2.7" },     /* ucspi-tcp-ipv6, v4 client */
  { "::FFFF:10.0.0.1", "10.0.0.1" },
  { "::ffff:c000:207", "192.0.2.7" },      /* the same, all hex */
  { "2001:DB8::1", "2001:db8::1" },
  { "2001:db8:0:0:0:0:0:1", "2001:db8::1" },
  { "::1", "::1" },
  { "fe80::1:2:3:4", "fe80::1:2:3:4" },
} ;

static char const *const bad[] =
{
  "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4",
  "1.2.3.4x", " 1.2.3.4", "1.2.3.4 ", "-1.2.3.4", "1..2.3",
  "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "::ffff:256.1.1.1", "::ffff:1.2.3",
  "2001:db8::g", "localhost", "1.2.3.4/24",
} ;

int main (void)
{
  unsigned int i ;
  for (i = 0 ; i < sizeof good / sizeof *good ; i++)
  {
    char out[MX_IP_FMT] ;
    ip46 ip ;
    int r = mx_ip_canon(good[i].in, &ip, out) ;
    tap_ok(r && !strcmp(out, good[i].canon), good[i].in) ;
  }
  for (i = 0 ; i < sizeof bad / sizeof *bad ; i++)
  {
    char out[MX_IP_FMT] = "untouched" ;
    ip46 ip ;
    tap_ok(!mx_ip_canon(bad[i], &ip, out) && !strcmp(out, "untouched"), bad[i]) ;
  }
  {
    ip46 ip ;
    tap_ok(!mx_ip_scan("1.2.3.4\0" "5", 9, &ip), "NUL inside the length is refused") ;
    tap_ok(mx_ip_scan("1.2.3.4junk", 7, &ip) && !ip46_is6(&ip), "only len bytes are read") ;
  }
  return tap_done() ;
}
