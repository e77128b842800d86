/* mx_dns: DNS lookups with a deadline, for programs built on skalibs.
 *
 * mx_dns.c and mx_dnsq.c (mx_dnsq.h: the same client under an event
 * loop) are the only place libowfat's DNS client is used. The Makefile
 * links mx_dns.o and mx_dnsq.o with the libowfat members they need
 * into one relocatable object and makes every symbol local but the
 * entry points of both headers (common/LIBRARIES): nothing of libowfat is
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

/* Many queries at once, all sent together and all bounded by one
   deadline (rblenv's DNSBL lookups, smtp-forward's A and AAAA). A query
   may wait for another's answer: it is sent only when that one comes
   back with records (rblenv's TXT, wanted only for a listing), within
   the same deadline; otherwise it ends MX_DNS_UNASKED. */
enum mx_dns_type { MX_DNS_A, MX_DNS_AAAA, MX_DNS_TXT, MX_DNS_MX } ;
enum mx_dns_status { MX_DNS_PENDING, MX_DNS_ANSWERED, MX_DNS_TIMEOUT, MX_DNS_FAILED, MX_DNS_UNASKED } ;

#define MX_DNS_MAX_A 8
#define MX_DNS_TXT_MAX 512

typedef struct mx_dns_query_s mx_dns_query ;
struct mx_dns_query_s
{
  char const *name ;             /* in: dotted name */
  enum mx_dns_type type ;        /* in */
  unsigned int after ;           /* in: 0 (sent at once), or 1 + the index
                                    of the query whose records it waits for */
  enum mx_dns_status status ;    /* out: ANSWERED covers "no such name" */
  unsigned char a[MX_DNS_MAX_A][4] ;  /* out, A: the first addresses */
  unsigned char aaaa[MX_DNS_MAX_A][16] ;  /* out, AAAA: the first addresses */
  unsigned int na ;              /* out, A, AAAA or MX: how many records (0: none) */
  unsigned int nullmx ;          /* out, MX: one of them is "." (RFC 7505) */
  unsigned int rcode ;           /* out, ANSWERED: 0, or 3 (the name does not exist) */
  char txt[MX_DNS_TXT_MAX] ;     /* out, TXT: the strings joined, raw */
  size_t txtlen ;                /* out, TXT */
  unsigned int ms ;              /* out: milliseconds until it ended */
} ;

/* Sends every query of q[0..n) at once and waits at most ms in all for
   the answers; every query's status is set. Returns 0, or -1 if no
   resolver could be found (every status then MX_DNS_FAILED). */
extern int mx_dns_all (mx_dns_query *q, size_t n, unsigned int ms) ;

#endif
