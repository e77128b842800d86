/* sender: the reverse-path of MAIL FROM, as the sender checks see it
 * (a pure function, no I/O). rcptaddr_mailfrom8 has already judged the
 * syntax and found the path (rcptaddr.h: MAIL's path is parsed once,
 * there); this finds the address and its domain in that span.
 *
 * Postfix's reject_non_fqdn_sender: an address without a domain, or
 * whose domain is a name without a dot, is not in fully-qualified form
 * (553 5.1.7). An address literal is (it names a host). The null
 * reverse-path "<>" (bounces, RFC 5321 4.5.5) is never refused by a
 * sender check. A root dot at the end of the domain is dropped (as
 * Postfix's address rewriting does): the address and the domain every
 * check sees are the name without it. A domain in U-labels (SMTPUTF8)
 * is seen as its A-labels (mx_utf8_domain); one IDNA2008 refuses is
 * not in fully-qualified form.
 */
#ifndef RCPTCHECKS_SENDER_H
#define RCPTCHECKS_SENDER_H

#include <stddef.h>
#include "rcptaddr.h"

#define SENDER_MAX 900

enum sender_form
{
  SENDER_NULL,        /* <> */
  SENDER_DOMAIN,      /* local@domain, domain a DNS name with a dot */
  SENDER_LITERAL,     /* local@[...] */
  SENDER_NOT_FQDN,    /* no '@', an empty domain, or a domain that is no FQDN */
  SENDER_TOOLONG,     /* a path longer than 256 bytes (RFC 5321 4.5.3.1.3): not judged */
} ;

typedef struct sender_s sender ;
struct sender_s
{
  char addr[SENDER_MAX + 1] ;     /* the address, without brackets or route, as written but a root dot */
  char domain[SENDER_MAX + 1] ;   /* lower-cased A-labels; "" for NULL and without '@' */
  size_t locallen ;               /* bytes of addr before its last '@' */
} ;

/* The argument of MAIL (what follows "MAIL ") that rcptaddr_mailfrom8
   accepted, and what it found there (f). */
extern enum sender_form sender_parse (char const *arg, rcptaddr_from const *f, sender *s) ;

#endif
