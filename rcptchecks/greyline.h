/* greyline: one line of greydb's text form (dump, list, load).
 *
 *   NET SENDER RCPT FIRST PASSED COUNT   a triplet (greystore.h)
 *   NET PASSES LAST                      a network
 *
 * fields separated by single blanks; NET an address with its host bits
 * clear, "/" and the prefix length (192.0.2.0/24, 2001:db8::/64);
 * SENDER and RCPT 1 to GREY_FIELD_MAX bytes of printable ASCII without
 * blanks (greystore_field's encoding); the numbers decimal, the times
 * seconds since the epoch up to GREY_TS_MAX; PASSED 0 (not yet) or not
 * before FIRST. Blank lines and lines starting with '#' are nothing.
 */
#ifndef RCPTCHECKS_GREYLINE_H
#define RCPTCHECKS_GREYLINE_H

#include <stddef.h>
#include "greystore.h"

#define GREYLINE_MAX (GREY_NET_MAX + 2 * GREY_FIELD_MAX + 3 * 20 + 8)

enum greyline_kind { GREYLINE_BAD, GREYLINE_EMPTY, GREYLINE_TRIPLET, GREYLINE_NET } ;

typedef struct greyline_s greyline ;
struct greyline_s
{
  char net[GREY_NET_MAX + 1] ;
  char sender[GREY_FIELD_MAX + 1] ;
  char rcpt[GREY_FIELD_MAX + 1] ;
  greyrec r ;
  greynet n ;
} ;

/* Parses s (len bytes, no line end) into *l. *why says what is wrong
   with a GREYLINE_BAD line (static text). */
extern enum greyline_kind greyline_parse (char const *s, size_t len, greyline *l, char const **why) ;

/* Is s (NUL-terminated) a network as NET above? */
extern int greyline_net (char const *s) ;

/* Writes the line of a triplet (sender and rcpt given) or a network
   into out (room for GREYLINE_MAX + 1), with a newline; its length. */
extern size_t greyline_fmt (char *out, char const *net, char const *sender, char const *rcpt, greyrec const *r, greynet const *n) ;

#endif
