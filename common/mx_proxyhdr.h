/* mx_proxyhdr: the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) that a load balancer sends before the client's
 * first byte, read (proxy-env) and written (smtp-forward -p) by one
 * module, as pure functions over bytes: what proxyhdr_make writes,
 * proxyhdr_parse reads back to the same addresses and ports.
 *
 * Version 1: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n", single blanks,
 * 107 bytes at most; "PROXY UNKNOWN...\r\n" carries no addresses.
 * Version 2: a 16-byte head (12-byte signature, version 2 and command,
 * family and transport, length) and that many bytes of addresses and
 * TLVs (TLVs are skipped; more than PROXYHDR_V2_BODY_MAX bytes is
 * refused). Only TCP over IPv4 or IPv6 is taken; addresses are parsed
 * and made canonical by mx_ip (::ffff:a.b.c.d becomes a.b.c.d).
 * Strict where the spec is: ports are decimal without leading zeros
 * ("Heading zeroes are not permitted in front of numbers", section
 * 2.1), 0 to 65535; an IPv4 address in TCP4, an IPv6 one in TCP6.
 */
#ifndef MX_PROXYHDR_H
#define MX_PROXYHDR_H

#include <stddef.h>
#include <stdint.h>
#include "mx_ip.h"

#define PROXYHDR_V1_MAX 107
#define PROXYHDR_V2_BODY_MAX 2048
#define PROXYHDR_V1 1
#define PROXYHDR_V2 2

/* How many bytes the header at buf takes in all, given the len bytes
   read so far: more than len means read up to that many (never past
   the header), len means complete, -1 means this is no header of an
   allowed version (versions: PROXYHDR_V1 | PROXYHDR_V2). Reading by its
   answer takes exactly the header's bytes from the stream. */
extern long proxyhdr_need (unsigned char const *buf, size_t len, unsigned int versions) ;

enum proxyhdr_kind { PROXYHDR_BAD, PROXYHDR_PROXY, PROXYHDR_LOCAL } ;

typedef struct proxyhdr_s proxyhdr ;
struct proxyhdr_s
{
  unsigned int version ;
  ip46 src, dst ;
  uint16_t sport, dport ;
} ;

/* Parses a complete header (len bytes, as proxyhdr_need measured it).
   PROXY: *h holds the client (src) and the address it connected to
   (dst). LOCAL: the balancer's own connection (v2 LOCAL, v1 UNKNOWN):
   no client behind it. */
extern enum proxyhdr_kind proxyhdr_parse (unsigned char const *buf, size_t len, proxyhdr *h) ;

/* Room enough for either version's header as proxyhdr_make writes it. */
#define PROXYHDR_OUT_MAX 108

/* Writes the header of the given version (PROXYHDR_V1: text,
   PROXYHDR_V2: binary) for a connection from src:sport to dst:dport
   into out (PROXYHDR_OUT_MAX bytes), so that a server that takes it
   (Postfix's smtpd_upstream_proxy_protocol = haproxy, proxy-env) sees
   the client and not the guard. Addresses of two families are both
   sent as IPv6 (the IPv4 one as ::ffff:a.b.c.d). Returns the header's
   length. */
extern size_t proxyhdr_make (unsigned char *out, unsigned int version, ip46 const *src, unsigned int sport, ip46 const *dst, unsigned int dport) ;

#endif
