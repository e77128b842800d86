/* forward-test: smtp-forward's pure parts, table-driven.
   - xclient_offered: the XCLIENT line of an EHLO reply, as Postfix
     3.7 writes it ("250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT
     LOGIN DESTADDR DESTPORT") and in the forms it may take.
   - xtext_encode: RFC 3461 section 4 ("+" and "=" and bytes outside
     "!".."~" become "+XX", upper-case hex).
   - the handshake: each reply sequence and what smtp-forward does.
   The PROXY header it writes (-p) is common/mx_proxyhdr's, tested with
   its reader in proxyhdr-test. */
#include <stdio.h>
#include <string.h>

#include "handshake.h"
#include "tap.h"

static struct { char const *reply ; int found ; unsigned int attrs ; } const offers[] =
{
  { "250-inner.test\r\n250-PIPELINING\r\n250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT\r\n250 CHUNKING\r\n", 1, XCLIENT_ADDR | XCLIENT_NAME | XCLIENT_PORT | XCLIENT_PROTO },
  { "250-inner.test\r\n250 XCLIENT ADDR NAME\r\n", 1, XCLIENT_ADDR | XCLIENT_NAME },
  { "250-inner.test\r\n250 xclient addr name port\r\n", 1, XCLIENT_ADDR | XCLIENT_NAME | XCLIENT_PORT },
  { "250-inner.test\r\n250 XCLIENT  ADDR  NAME\r\n", 1, XCLIENT_ADDR | XCLIENT_NAME },
  { "250-inner.test\r\n250 XCLIENT\r\n", 1, 0 },
  { "250-inner.test\r\n250 XCLIENT ADDRESS NAMES\r\n", 1, 0 },
  { "250-inner.test\r\n250 XCLIENTS ADDR NAME\r\n", 0, 0 },
  { "250-inner.test\r\n250 XFORWARD ADDR NAME\r\n", 0, 0 },
  { "250-inner.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 0, 0 },
  { "250 inner.test XCLIENT ADDR NAME\r\n", 0, 0 },     /* on the greeting line: a name, not a keyword */
  { "250 XCLIENT ADDR NAME\r\n", 0, 0 },                /* a server called XCLIENT offers nothing */
  { "250-xclient\r\n250-PIPELINING\r\n250 XCLIENT ADDR NAME PORT\r\n", 1, XCLIENT_ADDR | XCLIENT_NAME | XCLIENT_PORT },  /* a server called xclient */
  { "250-inner.test\n250 XCLIENT ADDR NAME\n", 1, XCLIENT_ADDR | XCLIENT_NAME },
} ;

static struct { char const *in ; char const *out ; } const xtexts[] =
{
  { "mail.example.com", "mail.example.com" },
  { "[UNAVAILABLE]", "[UNAVAILABLE]" },
  { "a+b=c", "a+2Bb+3Dc" },
  { "a b", "a+20b" },
  { "\x7f\x01~!", "+7F+01~!" },
  { "\xff", "+FF" },
} ;

static struct { char const *name ; int ok ; } const names[] =
{
  { "mail.example.com", 1 }, { "MX1.Example.COM", 1 }, { "a", 1 }, { "[UNAVAILABLE]", 1 }, { "[TEMPUNAVAIL]", 1 },
  { "", 0 }, { "a..b", 0 }, { ".a", 0 }, { "a b", 0 }, { "a_b.example", 0 }, { "[OTHER]", 0 },
  { "a=b", 0 }, { "a+b", 0 }, { "caf\xc3\xa9.example", 0 },
  { "0123456789012345678901234567890123456789012345678901234567890123.example", 0 },   /* a 64-byte label */
} ;

/* A whole handshake: the server's replies in order, and the commands
   expected from smtp-forward after each, ending in PASS or FAIL. */
struct step { char const *reply ; enum handshake_next next ; char const *sent ; } ;
struct hs { char const *what ; int xclient ; char const *ip ; unsigned int port ; char const *name ; struct step s[4] ; } ;

#define EHLO_OK "250-inner.test\r\n250-PIPELINING\r\n250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT\r\n250 CHUNKING\r\n"

static struct hs const hss[] =
{
  { "plain: 220 greeting passed on", 0, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "220 inner.test ESMTP\r\n", HS_NEXT_PASS, 0 } } },
  { "plain: 554 greeting passed on", 0, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "554 5.7.1 go away\r\n", HS_NEXT_PASS, 0 } } },
  { "plain: multi-line greeting passed on", 0, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "220-inner.test\r\n220 ESMTP\r\n", HS_NEXT_PASS, 0 } } },
  { "plain: 250 is no greeting", 0, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "250 inner.test\r\n", HS_NEXT_FAIL, 0 } } },
  { "plain: garbage is no greeting", 0, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "HTTP/1.0 200 OK\r\n", HS_NEXT_FAIL, 0 } } },
  { "plain: mixed codes are no greeting", 0, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "220-inner.test\r\n250 ESMTP\r\n", HS_NEXT_FAIL, 0 } } },
  { "xclient: Postfix's whole exchange", 1, "192.0.2.7", 1234, "mail.example.com",
    { { "220 inner.test ESMTP Postfix\r\n", HS_NEXT_SEND, "EHLO [127.0.0.1]\r\n" },
      { EHLO_OK, HS_NEXT_SEND, "XCLIENT ADDR=192.0.2.7 PORT=1234 NAME=mail.example.com PROTO=SMTP\r\n" },
      { "220 inner.test ESMTP Postfix\r\n", HS_NEXT_PASS, 0 } } },
  { "xclient: IPv6 with the IPV6: prefix, no PORT unknown", 1, "2001:db8::7", 0, "[UNAVAILABLE]",
    { { "220 inner.test ESMTP\r\n", HS_NEXT_SEND, "EHLO [127.0.0.1]\r\n" },
      { EHLO_OK, HS_NEXT_SEND, "XCLIENT ADDR=IPV6:2001:db8::7 NAME=[UNAVAILABLE] PROTO=SMTP\r\n" },
      { "220 inner.test ESMTP\r\n", HS_NEXT_PASS, 0 } } },
  { "xclient: only the attributes offered", 1, "192.0.2.7", 1234, "[TEMPUNAVAIL]",
    { { "220 inner.test ESMTP\r\n", HS_NEXT_SEND, "EHLO [127.0.0.1]\r\n" },
      { "250-inner.test\r\n250 XCLIENT ADDR NAME\r\n", HS_NEXT_SEND, "XCLIENT ADDR=192.0.2.7 NAME=[TEMPUNAVAIL]\r\n" },
      { "220 inner.test ESMTP\r\n", HS_NEXT_PASS, 0 } } },
  { "xclient: greeting 554 fails closed", 1, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "554 5.7.1 not you\r\n", HS_NEXT_FAIL, 0 } } },
  { "xclient: EHLO refused", 1, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "220 inner.test\r\n", HS_NEXT_SEND, "EHLO [127.0.0.1]\r\n" },
      { "502 5.5.2 no\r\n", HS_NEXT_FAIL, 0 } } },
  { "xclient: not offered", 1, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "220 inner.test\r\n", HS_NEXT_SEND, "EHLO [127.0.0.1]\r\n" },
      { "250-inner.test\r\n250 PIPELINING\r\n", HS_NEXT_FAIL, 0 } } },
  { "xclient: offered without NAME", 1, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "220 inner.test\r\n", HS_NEXT_SEND, "EHLO [127.0.0.1]\r\n" },
      { "250-inner.test\r\n250 XCLIENT ADDR PORT\r\n", HS_NEXT_FAIL, 0 } } },
  { "xclient: refused 550", 1, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "220 inner.test\r\n", HS_NEXT_SEND, "EHLO [127.0.0.1]\r\n" },
      { EHLO_OK, HS_NEXT_SEND, "XCLIENT ADDR=192.0.2.7 PORT=1234 NAME=[UNAVAILABLE] PROTO=SMTP\r\n" },
      { "550 5.7.0 Error: insufficient authorization\r\n", HS_NEXT_FAIL, 0 } } },
  { "xclient: answered 250, not a greeting", 1, "192.0.2.7", 1234, "[UNAVAILABLE]",
    { { "220 inner.test\r\n", HS_NEXT_SEND, "EHLO [127.0.0.1]\r\n" },
      { EHLO_OK, HS_NEXT_SEND, "XCLIENT ADDR=192.0.2.7 PORT=1234 NAME=[UNAVAILABLE] PROTO=SMTP\r\n" },
      { "250 2.0.0 Ok\r\n", HS_NEXT_FAIL, 0 } } },
  { "xclient: a name that is not one is not sent", 1, "192.0.2.7", 1234, "evil name",
    { { "220 inner.test\r\n", HS_NEXT_SEND, "EHLO [127.0.0.1]\r\n" },
      { EHLO_OK, HS_NEXT_FAIL, 0 } } },
} ;

static void handshakes (void)
{
  size_t i, k ;
  for (i = 0 ; i < sizeof hss / sizeof *hss ; i++)
  {
    handshake h ;
    ip46 ip ;
    int good = 1 ;
    mx_ip_scan(hss[i].ip, strlen(hss[i].ip), &ip) ;
    handshake_start(&h, hss[i].xclient, "[127.0.0.1]", &ip, hss[i].port, hss[i].name) ;
    for (k = 0 ; k < 4 && hss[i].s[k].reply ; k++)
    {
      char out[HANDSHAKE_LINE_MAX] ;
      size_t outlen ;
      enum handshake_next n = handshake_reply(&h, hss[i].s[k].reply, strlen(hss[i].s[k].reply), out, sizeof out, &outlen) ;
      if (n != hss[i].s[k].next) { good = 0 ; fprintf(stderr, "# %s: step %zu gave %d (%s)\n", hss[i].what, k, (int)n, h.why ? h.why : "") ; break ; }
      if (n == HS_NEXT_SEND && (outlen != strlen(hss[i].s[k].sent) || memcmp(out, hss[i].s[k].sent, outlen)))
      { good = 0 ; fprintf(stderr, "# %s: sent %.*s", hss[i].what, (int)outlen, out) ; break ; }
    }
    /* after the end, nothing more is taken */
    if (good)
    {
      char out[HANDSHAKE_LINE_MAX] ;
      size_t outlen ;
      good = handshake_reply(&h, "220 again\r\n", 11, out, sizeof out, &outlen) == HS_NEXT_FAIL ;
    }
    tap_ok(good, hss[i].what) ;
  }
}

int main (void)
{
  size_t i ;
  char name[256] ;
  for (i = 0 ; i < sizeof offers / sizeof *offers ; i++)
  {
    unsigned int attrs ;
    int found = xclient_offered(offers[i].reply, strlen(offers[i].reply), &attrs) ;
    snprintf(name, sizeof name, "XCLIENT offer %zu: found %d attrs %x", i, offers[i].found, offers[i].attrs) ;
    tap_ok(found == offers[i].found && (!found || attrs == offers[i].attrs), name) ;
  }
  for (i = 0 ; i < sizeof xtexts / sizeof *xtexts ; i++)
  {
    char out[64] ;
    size_t n = xtext_encode(out, xtexts[i].in, strlen(xtexts[i].in)) ;
    snprintf(name, sizeof name, "xtext of case %zu is %s", i, xtexts[i].out) ;
    tap_ok(n == strlen(xtexts[i].out) && !memcmp(out, xtexts[i].out, n), name) ;
  }
  for (i = 0 ; i < sizeof names / sizeof *names ; i++)
  {
    snprintf(name, sizeof name, "NAME %zu (%.40s) %s", i, names[i].name, names[i].ok ? "taken" : "refused") ;
    tap_ok(xclient_name_ok(names[i].name) == names[i].ok, name) ;
  }
  handshakes() ;
  return tap_done() ;
}
