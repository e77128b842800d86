/* rcptaddr: the address of an SMTP "RCPT TO:" command, read the way
 * qmail-smtpd reads it, and the keys rcptchecks looks it up under.
 *
 * Parsing (qmail-smtpd's addrparse): the address is what follows '<' up
 * to '>', or, without '<', the first blank-separated word after the
 * first colon (or from the start, with no colon); a source
 * route ("@a,@b:") is dropped; quotes are removed and a backslash makes
 * the next character literal ("\"a b\"@x" is a b@x). "<>" is the empty
 * address. Addresses longer than RCPTADDR_MAX, or holding NUL, CR or LF,
 * or, outside quotes, a blank or a parenthesis (comments and folding
 * whitespace, which some servers drop and qmail-smtpd keeps), are
 * refused.
 *
 * Lookup keys, in order, for local part L and domain D (lower-cased,
 * one trailing dot dropped), with delimiter '-' (configurable):
 *   L@D                   the exact address
 *   L1-L2-default@D ...   qmail extensions, longest first: for
 *   L1-default@D          L = L1-L2-L3, as .qmail-default files work
 *   L1@D                  the user without any extension
 *                         (at most 12 extension levels are tried)
 *   @D                    the domain's catch-all
 * The local part is lower-cased too unless the caller keeps its case.
 */
#ifndef RCPTCHECKS_RCPTADDR_H
#define RCPTCHECKS_RCPTADDR_H

#include <stddef.h>

#define RCPTADDR_MAX 900   /* qmail-smtpd's limit */

/* Parses the argument of RCPT (the text after the verb, "TO:<...>",
   len bytes). Writes the address and a NUL into out (room for
   RCPTADDR_MAX + 1 bytes). Returns its length, or -1 if refused. */
extern int rcptaddr_parse (char const *arg, size_t len, char *out) ;

typedef struct rcptaddr_keys_s rcptaddr_keys ;
struct rcptaddr_keys_s
{
  char const *domain ;          /* points into buf */
  unsigned int n ;              /* how many keys */
  char const *key[16] ;         /* the keys, in lookup order */
  char buf[16 * (RCPTADDR_MAX + 16)] ;
} ;

/* Splits addr at its last '@' and fills k with the lookup keys.
   Returns 1, or 0 when addr has no '@' or an empty domain (no local
   domain can match: the caller passes it on). */
extern int rcptaddr_keys_make (char const *addr, char delimiter, int keep_case, rcptaddr_keys *k) ;

#endif
