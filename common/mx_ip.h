/* mx_ip: client addresses as tcpserver and s6-tcpserver hand them over.
 *
 * Parsing is skalibs' ip46 scanner with the strictness a mail guard needs
 * on top: the whole string must be an address, IPv4 octets are checked
 * by a round trip (skalibs wraps 256 to 0 and accepts leading zeros), and
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, the form ucspi-tcp-ipv6
 * gives IPv4 clients of a v6 socket) become the IPv4 address.
 */
#ifndef MX_IP_H
#define MX_IP_H

#include <stddef.h>
#include <skalibs/ip46.h>

/* Longest canonical text mx_ip_fmt writes, with its NUL. */
#define MX_IP_FMT IP46_FMT

/* Parses all of s (len bytes) into *ip. Returns 1, or 0 if s is not
   exactly one IPv4 or IPv6 address. */
extern int mx_ip_scan(char const *s, size_t len, ip46 *ip);

/* Writes the canonical text of ip (dotted quad, or RFC 5952 IPv6) and a
   NUL into s, which has room for MX_IP_FMT bytes. Returns the length. */
extern size_t mx_ip_fmt(char *s, ip46 const *ip);

/* Parses the NUL-terminated text s into *ip and writes its canonical
   text into out (room for MX_IP_FMT bytes). Returns 1, or 0 if s is not
   an address (out is then untouched). */
extern int mx_ip_canon(char const *s, ip46 *ip, char *out);

#endif
