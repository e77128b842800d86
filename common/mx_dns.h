/* mx_dns: DNS lookups with a deadline, for programs built on skalibs.
 *
 * This file and mx_dns.c are the only place libowfat's DNS client is
 * used. The Makefile links mx_dns.o with the libowfat members it needs
 * into one relocatable object and makes every symbol local but the
 * mx_dns_* entry points (common/LIBRARIES): nothing of libowfat is
 * visible to the rest of a program, so its buffer_put, taia_now, ... can
 * never meet skalibs' functions of the same names. This header therefore
 * uses plain C types only.
 *
 * The resolver is DNSCACHEIP (djbdns convention) or /etc/resolv.conf.
 */
#ifndef MX_DNS_H
#define MX_DNS_H

#include <stddef.h>

/* Forward-confirmed reverse DNS of ip (4 bytes, or 16 if is6): the PTR
   name of ip whose own A (AAAA) records include ip. At most ms
   milliseconds in all. Returns 1 with the name (dotted, lower case,
   NUL-terminated, cut to max - 1 bytes) in name; 0 when there is no
   such name (no PTR, or a PTR that does not point back); -1 when the
   lookup failed (timeout, no resolver, server failure). */
extern int mx_dns_fcrdns (char const *ip, int is6, unsigned int ms, char *name, size_t max) ;

#endif
