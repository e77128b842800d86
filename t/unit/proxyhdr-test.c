/* proxyhdr-test: PROXY headers (HAProxy's proxy-protocol.txt), version
   1 and 2, table-driven: what each parses to, how many bytes the
   reader takes at each step (never one past the header), and what
   proxyhdr_make writes read back to the same addresses and ports. */
#include <stdio.h>
#include <string.h>

#include "mx_proxyhdr.h"
#include "tap.h"

static struct { char const *line ; enum proxyhdr_kind want ; char const *src ; unsigned int sport ; char const *dst ; unsigned int dport ; } const v1s[] =
{
  { "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n", PROXYHDR_PROXY, "192.0.2.7", 56324, "198.51.100.1", 25 },
  { "PROXY TCP6 2001:db8::7 2001:db8::1 56324 25\r\n", PROXYHDR_PROXY, "2001:db8::7", 56324, "2001:db8::1", 25 },
  { "PROXY TCP6 ::ffff:192.0.2.7 ::ffff:198.51.100.1 1 65535\r\n", PROXYHDR_PROXY, "192.0.2.7", 1, "198.51.100.1", 65535 },
  { "PROXY TCP4 192.0.2.7 198.51.100.1 0 25\r\n", PROXYHDR_PROXY, "192.0.2.7", 0, "198.51.100.1", 25 },
  { "PROXY UNKNOWN\r\n", PROXYHDR_LOCAL, 0, 0, 0, 0 },
  { "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", PROXYHDR_LOCAL, 0, 0, 0, 0 },
  { "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\n", PROXYHDR_BAD, 0, 0, 0, 0 },         /* LF alone */
  { "PROXY TCP4 192.0.2.7  198.51.100.1 56324 25\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },      /* two blanks */
  /* "Heading zeroes are not permitted in front of numbers" (2.1) */
  { "PROXY TCP4 192.0.2.7 198.51.100.1 056324 25\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },
  { "PROXY TCP4 192.0.2.7 198.51.100.1 56324 025\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },
  { "PROXY TCP6 2001:db8::7 2001:db8::1 56324 0025\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },
  { "PROXY TCP4 192.0.2.7 198.51.100.1 00 25\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },
  { "PROXY TCP4 192.0.2.7 198.51.100.1 1 0\r\n", PROXYHDR_PROXY, "192.0.2.7", 1, "198.51.100.1", 0 },
  { "PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },
  { "PROXY TCP4 2001:db8::7 198.51.100.1 1 25\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },         /* v6 in TCP4 */
  { "PROXY TCP6 192.0.2.7 2001:db8::1 1 25\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },            /* v4 in TCP6 */
  { "PROXY TCP4 192.0.2.256 198.51.100.1 1 25\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },
  { "PROXY TCP4 192.0.2.7 198.51.100.1 1 25 extra\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },
  { "PROXY UDP4 192.0.2.7 198.51.100.1 1 25\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },
  { "PROXY tcp4 192.0.2.7 198.51.100.1 1 25\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },
  { "PROXY TCP4 192.0.2.7 198.51.100.1 1 25\r\r\n", PROXYHDR_BAD, 0, 0, 0, 0 },
} ;

static size_t v2 (unsigned char *b, unsigned int cmd, unsigned int fam, unsigned char const *addrs, size_t alen, size_t tlvs)
{
  static unsigned char const sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a } ;
  size_t body = alen + tlvs ;
  memcpy(b, sig, 12) ;
  b[12] = (unsigned char)(0x20 | cmd) ; b[13] = (unsigned char)fam ;
  b[14] = (unsigned char)(body >> 8) ; b[15] = (unsigned char)body ;
  memcpy(b + 16, addrs, alen) ;
  memset(b + 16 + alen, 0x04, tlvs) ;   /* TLV bytes: skipped */
  return 16 + body ;
}

/* reads h (n bytes) as proxy-env does, at most `chunk` bytes at once;
   returns the bytes taken, or -1 if refused */
static long take (unsigned char const *h, size_t n, size_t chunk, unsigned int versions)
{
  size_t have = 0 ;
  for (;;)
  {
    long need = proxyhdr_need(h, have, versions) ;
    size_t r ;
    if (need < 0) return -1 ;
    if ((size_t)need == have) return (long)have ;
    r = (size_t)need - have ;
    if (r > chunk) r = chunk ;
    if (have + r > n) return -2 ;   /* would read past what was sent */
    have += r ;
  }
}

/* what proxyhdr_make writes, proxyhdr_need measures to its end and
   proxyhdr_parse reads back to the same addresses and ports */
static void round_trips (void)
{
  static struct { char const *src ; unsigned int sport ; char const *dst ; unsigned int dport ; char const *want_src ; char const *want_dst ; } const rt[] =
  {
    { "192.0.2.7", 56324, "198.51.100.1", 25, "192.0.2.7", "198.51.100.1" },
    { "2001:db8::7", 1, "2001:db8::1", 65535, "2001:db8::7", "2001:db8::1" },
    { "192.0.2.7", 0, "2001:db8::1", 25, "192.0.2.7", "2001:db8::1" },     /* two families: sent as IPv6 */
    { "2001:db8::7", 65535, "198.51.100.1", 0, "2001:db8::7", "198.51.100.1" },
    { "::ffff:192.0.2.9", 10, "::ffff:198.51.100.1", 20, "192.0.2.9", "198.51.100.1" },
    { "127.0.0.5", 40000, "127.0.0.1", 2525, "127.0.0.5", "127.0.0.1" },
    { "0.0.0.0", 0, "255.255.255.255", 65535, "0.0.0.0", "255.255.255.255" },
    { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, "::", 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::" },
  } ;
  size_t i ;
  unsigned int v ;
  for (v = PROXYHDR_V1 ; v <= PROXYHDR_V2 ; v++)
    for (i = 0 ; i < sizeof rt / sizeof *rt ; i++)
    {
      unsigned char hdr[PROXYHDR_OUT_MAX] ;
      ip46 a, b ;
      proxyhdr h ;
      char s[MX_IP_FMT], d[MX_IP_FMT], name[160] ;
      size_t n ;
      int good ;
      mx_ip_scan(rt[i].src, strlen(rt[i].src), &a) ;
      mx_ip_scan(rt[i].dst, strlen(rt[i].dst), &b) ;
      n = proxyhdr_make(hdr, v, &a, rt[i].sport, &b, rt[i].dport) ;
      good = n <= PROXYHDR_OUT_MAX && (v == PROXYHDR_V2 || n <= PROXYHDR_V1_MAX)
        && take(hdr, n, 4096, v) == (long)n && proxyhdr_parse(hdr, n, &h) == PROXYHDR_PROXY ;
      if (good)
      {
        s[mx_ip_fmt(s, &h.src)] = 0 ;
        d[mx_ip_fmt(d, &h.dst)] = 0 ;
        good = h.version == v && !strcmp(s, rt[i].want_src) && !strcmp(d, rt[i].want_dst) && h.sport == rt[i].sport && h.dport == rt[i].dport ;
      }
      snprintf(name, sizeof name, "made v%u %s:%u -> %s:%u reads back", v, rt[i].src, rt[i].sport, rt[i].dst, rt[i].dport) ;
      tap_ok(good, name) ;
    }
  {
    unsigned char hdr[PROXYHDR_OUT_MAX] ;
    ip46 a, b ;
    size_t n ;
    mx_ip_scan("192.0.2.7", 9, &a) ;
    mx_ip_scan("198.51.100.1", 12, &b) ;
    n = proxyhdr_make(hdr, PROXYHDR_V1, &a, 56324, &b, 25) ;
    tap_ok(n == 44 && !memcmp(hdr, "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n", 44), "made v1 text as the spec's example writes it") ;
  }
}

int main (void)
{
  char name[300], a[MX_IP_FMT] ;
  size_t i ;
  proxyhdr h ;
  for (i = 0 ; i < sizeof v1s / sizeof *v1s ; i++)
  {
    size_t n = strlen(v1s[i].line) ;
    enum proxyhdr_kind k = proxyhdr_parse((unsigned char const *)v1s[i].line, n, &h) ;
    int ok = k == v1s[i].want ;
    if (ok && k == PROXYHDR_PROXY)
    {
      a[mx_ip_fmt(a, &h.src)] = 0 ; ok = !strcmp(a, v1s[i].src) ;
      a[mx_ip_fmt(a, &h.dst)] = 0 ; ok = ok && !strcmp(a, v1s[i].dst) ;
      ok = ok && h.sport == v1s[i].sport && h.dport == v1s[i].dport && h.version == 1 ;
    }
    snprintf(name, sizeof name, "v1 header %zu: %s", i, k == PROXYHDR_PROXY ? "proxy" : k == PROXYHDR_LOCAL ? "local" : "bad") ;
    tap_ok(ok, name) ;
  }
  {
    /* the line and the client's first bytes in one buffer: the reader
       takes the line and not one byte more, a byte at a time or not */
    static char const both[] = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\nEHLO early\r\n" ;
    tap_ok(take((unsigned char const *)both, sizeof both - 1, 1, 3) == 44, "v1: the reader stops at the LF, byte by byte") ;
    tap_ok(take((unsigned char const *)both, sizeof both - 1, 4096, 3) == 44, "v1: ... and asking for all it may") ;
    tap_ok(take((unsigned char const *)both, sizeof both - 1, 4096, PROXYHDR_V2) == -1, "v1 refused when only v2 is taken") ;
  }
  {
    char over[200] ;
    memset(over, 'x', sizeof over) ;
    memcpy(over, "PROXY TCP4 ", 11) ;
    tap_ok(take((unsigned char const *)over, sizeof over, 4096, 3) == -1, "a v1 line over 107 bytes is refused") ;
    tap_ok(take((unsigned char const *)"EHLO x\r\n", 8, 4096, 3) == -1, "no header at all: refused after 8 bytes at most") ;
    tap_ok(take((unsigned char const *)"GET / HTTP/1.0\r\n", 16, 1, 3) == -1, "garbage: refused at its first byte") ;
  }
  {
    static unsigned char b[16 + PROXYHDR_V2_BODY_MAX + 64] ;
    static unsigned char const a4[12] = { 192, 0, 2, 7, 198, 51, 100, 1, 0xdc, 0x04, 0, 25 } ;
    unsigned char a6[36] = { 0x20, 0x01, 0x0d, 0xb8 } ;
    size_t n = v2(b, 1, 0x11, a4, sizeof a4, 0) ;
    tap_ok(take(b, n, 3, 3) == (long)n && proxyhdr_parse(b, n, &h) == PROXYHDR_PROXY && h.sport == 56324 && h.dport == 25 && h.version == 2, "v2 TCP4") ;
    a[mx_ip_fmt(a, &h.src)] = 0 ;
    tap_ok(!strcmp(a, "192.0.2.7"), "v2 TCP4: the client's address") ;
    n = v2(b, 1, 0x11, a4, sizeof a4, 300) ;
    tap_ok(take(b, n, 4096, 3) == (long)n && proxyhdr_parse(b, n, &h) == PROXYHDR_PROXY, "v2 with 300 bytes of TLVs") ;
    a6[15] = 7 ; a6[16] = 0x20 ; a6[17] = 0x01 ; a6[18] = 0x0d ; a6[19] = 0xb8 ; a6[31] = 1 ; a6[33] = 2 ; a6[35] = 25 ;
    n = v2(b, 1, 0x21, a6, sizeof a6, 0) ;
    tap_ok(proxyhdr_parse(b, n, &h) == PROXYHDR_PROXY && h.sport == 2 && h.dport == 25, "v2 TCP6") ;
    a[mx_ip_fmt(a, &h.src)] = 0 ;
    tap_ok(!strcmp(a, "2001:db8::7"), "v2 TCP6: the client's address") ;
    memset(a6, 0, sizeof a6) ; a6[10] = a6[11] = 0xff ; a6[12] = 192 ; a6[13] = 0 ; a6[14] = 2 ; a6[15] = 9 ;
    n = v2(b, 1, 0x21, a6, sizeof a6, 0) ;
    tap_ok(proxyhdr_parse(b, n, &h) == PROXYHDR_PROXY && !ip46_is6(&h.src), "v2 TCP6 with ::ffff:192.0.2.9: the IPv4 address") ;
    n = v2(b, 0, 0x00, a4, 0, 0) ;
    tap_ok(proxyhdr_parse(b, n, &h) == PROXYHDR_LOCAL, "v2 LOCAL (a health check)") ;
    n = v2(b, 1, 0x12, a4, sizeof a4, 0) ;
    tap_ok(proxyhdr_parse(b, n, &h) == PROXYHDR_BAD, "v2 UDP: refused") ;
    n = v2(b, 1, 0x00, a4, 0, 0) ;
    tap_ok(proxyhdr_parse(b, n, &h) == PROXYHDR_BAD, "v2 PROXY without an address family: refused") ;
    n = v2(b, 1, 0x11, a4, 8, 0) ;
    tap_ok(proxyhdr_parse(b, n, &h) == PROXYHDR_BAD, "v2 TCP4 with too short a body: refused") ;
    n = v2(b, 2, 0x11, a4, sizeof a4, 0) ;
    tap_ok(proxyhdr_parse(b, n, &h) == PROXYHDR_BAD, "v2 with an unknown command: refused") ;
    n = v2(b, 1, 0x11, a4, sizeof a4, PROXYHDR_V2_BODY_MAX) ;
    tap_ok(take(b, n, 4096, 3) == -1, "v2 longer than the limit: refused before its body is read") ;
    n = v2(b, 1, 0x11, a4, sizeof a4, 0) ;
    b[12] = 0x11 ;
    tap_ok(proxyhdr_parse(b, n, &h) == PROXYHDR_BAD, "v2 head with version 1: refused") ;
    b[12] = 0x21 ;
    tap_ok(take(b, n, 4096, PROXYHDR_V1) == -1, "v2 refused when only v1 is taken") ;
  }
  round_trips() ;
  return tap_done() ;
}
