/* utf8-test: mx_utf8_kind against RFC 3629's table, mx_utf8_domain's
 * one spelling of a domain (RFC 5890 A-labels through libidn2). */
#include <string.h>

#include "mx_utf8.h"
#include "tap.h"

static struct { char const *s ; enum mx_utf8_kind k ; char const *why ; } const kinds[] =
{
  { "alice", MX_UTF8_ASCII, "ASCII" },
  { "", MX_UTF8_ASCII, "empty is ASCII" },
  { "d\xc3\xa9lia", MX_UTF8_UTF8, "e acute, two bytes (RFC 3629 UTF8-2)" },
  { "\xe2\x82\xac", MX_UTF8_UTF8, "euro sign, three bytes (UTF8-3)" },
  { "\xf0\x9f\x93\xa7", MX_UTF8_UTF8, "an emoji, four bytes (UTF8-4)" },
  { "\xf4\x8f\xbf\xbf", MX_UTF8_UTF8, "U+10FFFF, the last code point" },
  { "\xc0\xae", MX_UTF8_BAD, "overlong '.' (C0 AE: RFC 3629 section 10)" },
  { "\xc1\xbf", MX_UTF8_BAD, "overlong, C1 lead" },
  { "\xe0\x80\xae", MX_UTF8_BAD, "overlong three-byte '.'" },
  { "\xf0\x80\x80\xae", MX_UTF8_BAD, "overlong four-byte '.'" },
  { "\xed\xa0\x80", MX_UTF8_BAD, "a surrogate (U+D800)" },
  { "\xf4\x90\x80\x80", MX_UTF8_BAD, "above U+10FFFF" },
  { "\xf5\x80\x80\x80", MX_UTF8_BAD, "F5 lead" },
  { "\xff", MX_UTF8_BAD, "FF" },
  { "\x80", MX_UTF8_BAD, "a lone continuation byte" },
  { "d\xc3", MX_UTF8_BAD, "cut in the middle of a character" },
  { "\xe2\x82", MX_UTF8_BAD, "three-byte cut after two" },
  { "\xc3\x28", MX_UTF8_BAD, "lead then ASCII" },
} ;

static struct { char const *in, *out, *why ; } const domains[] =
{
  { "Example.COM", "example.com", "ASCII: lower case only" },
  { "b\xc3\xbc" "cher.example", "xn--bcher-kva.example", "U-label to A-label (RFC 5891)" },
  { "B\xc3\x9c" "CHER.Example", "xn--bcher-kva.example", "capitals mapped (UTS #46)" },
  { "XN--BCHER-KVA.example", "xn--bcher-kva.example", "an A-label as written, lower case" },
  { "bu\xcc\x88" "cher.example", "xn--bcher-kva.example", "decomposed u + diaeresis, NFC first" },
  { "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", "xn--r8jz45g.xn--zckzah", "Japanese, both labels" },
  { "fa\xc3\x9f.de", "xn--fa-hia.de", "sharp s kept (non-transitional, IDNA2008)" },
  { "", 0, "empty" },
  { "b\xc3\xbc\xc3" "cher.example", 0, "not UTF-8" },
  { "a\xe2\x80\x8f" "b.example", 0, "a right-to-left mark inside a label" },
} ;

int main (void)
{
  char out[256], name[300] ;
  size_t i, n ;
  for (i = 0 ; i < sizeof kinds / sizeof *kinds ; i++)
    tap_ok(mx_utf8_kind(kinds[i].s, strlen(kinds[i].s)) == kinds[i].k, kinds[i].why) ;
  tap_ok(mx_utf8_kind("a\0b", 3) == MX_UTF8_ASCII, "NUL is ASCII here") ;
  for (i = 0 ; i < sizeof domains / sizeof *domains ; i++)
  {
    n = mx_utf8_domain(domains[i].in, strlen(domains[i].in), out, sizeof out) ;
    if (domains[i].out) tap_ok(n == strlen(domains[i].out) && !strcmp(out, domains[i].out), domains[i].why) ;
    else tap_ok(!n, domains[i].why) ;
  }
  tap_ok(!mx_utf8_domain("a.example", 9, out, 9), "no room for the NUL: refused") ;
  tap_ok(mx_utf8_domain("a.example", 9, out, 10) == 9, "just room") ;
  tap_ok(!mx_utf8_domain("a\0b", 3, out, sizeof out), "a NUL inside: refused") ;
  memset(name, 'a', 63) ; memcpy(name + 63, "\xc3\xbc.example", 10) ;
  tap_ok(!mx_utf8_domain(name, 73, out, sizeof out), "a label over 63 octets as an A-label: refused") ;
  return tap_done() ;
}
