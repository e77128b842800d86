/* helo: the name a client gives in HELO or EHLO, judged as Postfix's
 * reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname and a
 * literal check do, as a pure function (no I/O).
 *
 * RFC 5321 4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ) CRLF,
 * helo = "HELO" SP Domain CRLF; 4.1.2: Domain = sub-domain *("."
 * sub-domain), sub-domain = Let-dig [Ldh-str], Let-dig = ALPHA / DIGIT,
 * Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig; 4.1.3: address-literal =
 * "[" ( IPv4-address-literal / IPv6-address-literal /
 * General-address-literal ) "]", IPv4-address-literal = Snum 3("."
 * Snum), Snum = 1*3DIGIT (0 to 255), IPv6-address-literal = "IPv6:"
 * IPv6-addr; RFC 1035 2.3.4: labels of 63 bytes at most, names of 255.
 * A root dot at the end of a Domain ("mail.example.net.") is judged as
 * the name without it, as Postfix's HELO restrictions do (not "..").
 * Blanks before and after the name are ignored (the separator's, as
 * servers split the line); anything else after it is not.
 * A Domain of digits and dots only is an address without its brackets
 * (Postfix's valid_hostname refuses it too).
 */
#ifndef RCPTCHECKS_HELO_H
#define RCPTCHECKS_HELO_H

#include <stddef.h>
#include "mx_ip.h"

enum helo_result
{
  HELO_OK,          /* a Domain with a dot, or a literal of the client's own address */
  HELO_INVALID,     /* none of the grammar above: 501 5.5.2 */
  HELO_NOT_FQDN,    /* a Domain without a dot: 504 5.5.2 */
  HELO_NOT_CLIENT   /* an address literal, but not the client's address: 550 5.7.1 */
} ;

/* Judges the argument of HELO or EHLO (what follows the verb and its
   space, len bytes) given by the client at ip. */
extern enum helo_result helo_judge (char const *arg, size_t len, ip46 const *ip) ;

/* Is s[0..n) a Domain of RFC 5321 (labels of at most 63 bytes, at most
   255 in all)? Also used for sender domains. */
extern int helo_is_domain (char const *s, size_t n) ;

#endif
