/* greystore-test: greylisting's keys and decision (greystore.h), as
 * rcptchecks-envelope.7 states them: networks of each prefix length,
 * the sender's key (lower case, BATV tag off, <>), the encoding of
 * bytes and long fields, and the decision over time: new, early,
 * retried, known, stale again, auto-allowed. */
#include <stdio.h>
#include <string.h>

#include "greystore.h"
#include "greyline.h"
#include "tap.h"

static int net_is (char const *ip, unsigned int v4, unsigned int v6, char const *want)
{
  char out[GREY_NET_MAX + 1] ;
  ip46 a ;
  if (!mx_ip_scan(ip, strlen(ip), &a)) return 0 ;
  greystore_net(out, &a, v4, v6) ;
  if (strcmp(out, want)) { printf("# %s: %s, not %s\n", ip, out, want) ; return 0 ; }
  return greyline_net(out) ;
}

static int sender_is (char const *addr, char const *want)
{
  char out[GREY_FIELD_MAX + 1] ;
  greystore_sender(out, addr) ;
  if (strcmp(out, want)) { printf("# %s: %s, not %s\n", addr, out, want) ; return 0 ; }
  return 1 ;
}

int main (void)
{
  greyconf c = GREYCONF_DEFAULT ;
  greyrec r = { 0, 0, 0 } ;
  greynet n = { 0, 0 } ;
  int wr, wn ;
  uint64_t t = 1700000000 ;

  tap_ok(net_is("192.0.2.77", 24, 64, "192.0.2.0/24"), "IPv4 /24") ;
  tap_ok(net_is("::ffff:192.0.2.77", 24, 64, "192.0.2.0/24"), "IPv4-mapped: the IPv4 network") ;
  tap_ok(net_is("192.0.2.77", 32, 64, "192.0.2.77/32"), "IPv4 /32") ;
  tap_ok(net_is("192.0.2.77", 20, 64, "192.0.0.0/20"), "IPv4 /20") ;
  tap_ok(net_is("192.0.2.77", 0, 64, "0.0.0.0/0"), "IPv4 /0") ;
  tap_ok(net_is("2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::/64"), "IPv6 /64") ;
  tap_ok(net_is("2001:db8:1:2:3:4:5:6", 24, 48, "2001:db8:1::/48"), "IPv6 /48") ;
  tap_ok(net_is("2001:db8:1:2:3:4:5:6", 24, 128, "2001:db8:1:2:3:4:5:6/128"), "IPv6 /128") ;
  tap_ok(net_is("2001:db8:1:2:3:4:5:6", 24, 60, "2001:db8:1::/60"), "IPv6 /60: a nibble cut") ;

  tap_ok(sender_is("Bob@Example.ORG", "bob@example.org"), "sender: lower case") ;
  tap_ok(sender_is("", "<>"), "null sender: <>") ;
  tap_ok(sender_is("prvs=1234abcd=bob@example.org", "bob@example.org"), "BATV tag removed") ;
  tap_ok(sender_is("PRVS=1234abcd=Bob@example.org", "bob@example.org"), "BATV tag in upper case removed") ;
  tap_ok(sender_is("prvs=x@example.org", "prvs=x@example.org"), "no second '=': no tag") ;
  tap_ok(sender_is("\"a b\"@example.org", "\"a%20b\"@example.org"), "a blank encoded") ;
  tap_ok(sender_is("a%b@example.org", "a%25b@example.org"), "'%' encoded") ;
  {
    char big[600], out[GREY_FIELD_MAX + 1], out2[GREY_FIELD_MAX + 1] ;
    size_t l ;
    memset(big, 'a', sizeof big - 1) ; big[sizeof big - 1] = 0 ;
    l = greystore_field(out, big, strlen(big), 1) ;
    big[500] = 'b' ;
    greystore_field(out2, big, strlen(big), 1) ;
    tap_ok(l <= GREY_FIELD_MAX && out[l - 17] == '#', "a long field: cut, '#' and a hash") ;
    tap_ok(strcmp(out, out2) != 0, "two long fields that differ past the cut: two keys") ;
  }

  tap_ok(greystore_decide(&c, t, &r, 0, &n, &wr, &wn) == GREY_NEW && wr && !wn && r.first == t && !r.passed && r.count == 1, "first sighting: new, recorded") ;
  tap_ok(greystore_decide(&c, t + 299, &r, 1, &n, &wr, &wn) == GREY_EARLY && r.count == 2 && !r.passed, "before the delay: early, counted") ;
  tap_ok(greystore_decide(&c, t + 300, &r, 1, &n, &wr, &wn) == GREY_RETRIED && wn && r.passed == t + 300 && n.passes == 1, "at the delay: retried, the network counted") ;
  tap_ok(greystore_decide(&c, t + 400, &r, 1, &n, &wr, &wn) == GREY_KNOWN && !wn && r.passed == t + 400 && n.passes == 1, "later: known, the pass refreshed, the network not counted again") ;
  tap_ok(greystore_decide(&c, t + 400 + c.lifetime + 1, &r, 1, &n, &wr, &wn) == GREY_NEW && r.first == t + 400 + c.lifetime + 1, "a pass older than the lifetime: new again") ;
  {
    greyrec s = { t, 0, 5 } ;
    tap_ok(greystore_decide(&c, t + c.window + 1, &s, 1, &n, &wr, &wn) == GREY_NEW && s.count == 1, "not retried within the window: new again") ;
  }
  {
    greynet a = { 5, t } ;
    greyrec s = { 0, 0, 0 } ;
    tap_ok(greystore_decide(&c, t + 10, &s, 0, &a, &wr, &wn) == GREY_ALLOWED && !wr && !wn, "a network with 5 passes: allowed, nothing written") ;
    tap_ok(greystore_decide(&c, t + c.lifetime + 1, &s, 0, &a, &wr, &wn) == GREY_NEW, "its last pass older than the lifetime: no longer") ;
    c.autoallow = 0 ;
    a.last = t ;
    tap_ok(greystore_decide(&c, t + 10, &s, 0, &a, &wr, &wn) == GREY_NEW, "autoallow=0: never allowed") ;
  }
  {
    greyline l ;
    char const *why ;
    char const *ok = "10.0.0.0/8 a@b c@d 5 7 2" ;
    tap_ok(greyline_parse(ok, strlen(ok), &l, &why) == GREYLINE_TRIPLET && l.r.first == 5 && l.r.passed == 7 && l.r.count == 2, "greyline: a triplet") ;
    tap_ok(greyline_parse("10.0.0.1/8 1 2", 14, &l, &why) == GREYLINE_BAD, "greyline: host bits set") ;
    tap_ok(greyline_parse("10.0.0.0/8 01 2", 15, &l, &why) == GREYLINE_BAD, "greyline: a leading zero") ;
  }
  return tap_done() ;
}
