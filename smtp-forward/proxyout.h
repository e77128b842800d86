/* proxyout: the PROXY protocol header (HAProxy's proxy-protocol.txt)
 * that smtp-forward -p sends before any other byte, so that a server
 * that takes it (Postfix's smtpd_upstream_proxy_protocol = haproxy,
 * proxy-env) sees the client and not the guard.
 */
#ifndef SMTPFORWARD_PROXYOUT_H
#define SMTPFORWARD_PROXYOUT_H

#include <stddef.h>
#include "mx_ip.h"

/* Room enough for either version's header. */
#define PROXYOUT_MAX 108

/* Writes the header of the given version (1: text, 2: binary) for a
   connection from src:sport to dst:dport into out (PROXYOUT_MAX
   bytes). Addresses of two families are both sent as IPv6 (the IPv4
   one as ::ffff:a.b.c.d). Returns the header's length. */
extern size_t proxyout_make (unsigned char *out, unsigned int version, ip46 const *src, unsigned int sport, ip46 const *dst, unsigned int dport) ;

#endif
