/* dnsname-test: mx_dnsname_ok, table-driven: each name under the rule
   each caller uses (HELO and sender domains: RFC 5321's Domain in 255
   bytes; RCPT domains: the same in 253; the recipient and sender lists:
   MX_DNSNAME_LIST), and each relaxation alone. */
#include <stdio.h>
#include <string.h>

#include "mx_dnsname.h"
#include "tap.h"

#define L63 "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abc"
#define L64 L63 "d"

/* helo: max 255, no flag; rcpt: max 253, no flag; list: MX_DNSNAME_LIST */
static struct { char const *name ; int helo, rcpt, list ; } const names[] =
{
  { "example.org", 1, 1, 1 },
  { "mx1.example.org", 1, 1, 1 },
  { "localhost", 1, 1, 1 },             /* one label: a Domain (FQDN is the caller's question) */
  { "3com.example", 1, 1, 1 },          /* RFC 1123 2.1: a label may start with a digit */
  { "a-b.example", 1, 1, 1 },
  { "a--b.example", 1, 1, 1 },          /* inner hyphens, any number */
  { "Example.ORG", 1, 1, 0 },           /* the list holds folded text */
  { "-a.example", 0, 0, 1 },            /* Let-dig first ... */
  { "a-.example", 0, 0, 1 },            /* ... and last (RFC 5321 4.1.2) */
  { "a.example-", 0, 0, 1 },
  { "_dmarc.example", 0, 0, 1 },        /* RFC 2181 11: lists take it */
  { "mail_1.example", 0, 0, 1 },
  { "example.org.", 0, 0, 1 },          /* a root dot: the list's alone */
  { "example.org..", 0, 0, 0 },
  { ".", 0, 0, 0 },
  { ".example.org", 0, 0, 0 },          /* empty labels: never */
  { "example..org", 0, 0, 0 },
  { "", 0, 0, 0 },
  { "[192.0.2.7]", 0, 0, 1 },           /* a literal: the list's by its brackets */
  { "[]", 0, 0, 0 },
  { "[192.0.2.7", 0, 0, 0 },
  { "exa mple.org", 0, 0, 0 },
  { "exa\tmple.org", 0, 0, 0 },
  { "ex@mple.org", 0, 0, 0 },
  { "b\xc3\xbc" "cher.example", 0, 0, 0 },   /* U-labels: the callers' A-labels, not this */
  { "xn--bcher-kva.example", 1, 1, 1 },
  { L63 ".example", 1, 1, 1 },          /* RFC 1035 2.3.4: 63 octets a label */
  { L64 ".example", 0, 0, 1 },
} ;

int main (void)
{
  char name[400], big[300] ;
  size_t i ;
  for (i = 0 ; i < sizeof names / sizeof *names ; i++)
  {
    size_t n = strlen(names[i].name) ;
    snprintf(name, sizeof name, "%.80s: helo %d", names[i].name, names[i].helo) ;
    tap_ok(mx_dnsname_ok(names[i].name, n, 255, 0) == names[i].helo, name) ;
    snprintf(name, sizeof name, "%.80s: rcpt %d", names[i].name, names[i].rcpt) ;
    tap_ok(mx_dnsname_ok(names[i].name, n, 253, 0) == names[i].rcpt, name) ;
    snprintf(name, sizeof name, "%.80s: list %d", names[i].name, names[i].list) ;
    tap_ok(mx_dnsname_ok(names[i].name, n, 0, MX_DNSNAME_LIST) == names[i].list, name) ;
  }

  /* the whole name's bound: labels of 63, 63, 63, 58 and the rest */
  memset(big, 'a', sizeof big) ;
  big[63] = big[127] = big[191] = big[250] = '.' ;
  tap_ok(mx_dnsname_ok(big, 253, 253, 0), "253 bytes: a RCPT domain") ;
  tap_ok(!mx_dnsname_ok(big, 254, 253, 0), "254 bytes: not a RCPT domain") ;
  tap_ok(mx_dnsname_ok(big, 255, 255, 0), "255 bytes: a HELO domain (RFC 5321 4.5.3.1.2)") ;
  tap_ok(!mx_dnsname_ok(big, 256, 255, 0), "256 bytes: not a HELO domain") ;
  tap_ok(mx_dnsname_ok(big, 290, 0, MX_DNSNAME_LIST), "290 bytes: the list sets no bound") ;
  tap_ok(!mx_dnsname_ok("example.org", 0, 0, MX_DNSNAME_LIST), "0 bytes: nothing") ;

  /* each relaxation alone */
  tap_ok(mx_dnsname_ok("_a.example", 10, 0, MX_DNSNAME_UNDERSCORE), "UNDERSCORE takes '_'") ;
  tap_ok(!mx_dnsname_ok("-a.example", 10, 0, MX_DNSNAME_UNDERSCORE), "UNDERSCORE alone: no outer hyphen") ;
  tap_ok(mx_dnsname_ok("-a-.example", 11, 0, MX_DNSNAME_HYPHENS), "HYPHENS takes outer hyphens") ;
  tap_ok(!mx_dnsname_ok("_a.example", 10, 0, MX_DNSNAME_HYPHENS), "HYPHENS alone: no '_'") ;
  tap_ok(mx_dnsname_ok(L64 ".example", 72, 0, MX_DNSNAME_LONG), "LONG takes a 64-byte label") ;
  tap_ok(mx_dnsname_ok("example.org.", 12, 0, MX_DNSNAME_ROOTDOT), "ROOTDOT takes one final dot") ;
  tap_ok(!mx_dnsname_ok("example.org..", 13, 0, MX_DNSNAME_ROOTDOT), "ROOTDOT: not two") ;
  tap_ok(!mx_dnsname_ok(".", 1, 0, MX_DNSNAME_ROOTDOT), "ROOTDOT: the root alone is no domain") ;
  tap_ok(mx_dnsname_ok("[x]", 3, 0, MX_DNSNAME_LITERAL), "LITERAL takes [x]") ;
  tap_ok(!mx_dnsname_ok("[x]", 3, 0, 0), "no LITERAL: [x] refused") ;
  tap_ok(!mx_dnsname_ok("A.example", 9, 0, MX_DNSNAME_LOWER), "LOWER refuses upper case") ;
  tap_ok(mx_dnsname_ok("A.example", 9, 0, 0), "without LOWER upper case is a letter") ;
  return tap_done() ;
}
