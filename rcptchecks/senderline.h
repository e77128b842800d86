/* senderline: one line of a sender access list (rcptchecks-make -s),
 * in the spirit of Postfix's check_sender_access tables:
 *
 *   user@example.com    REJECT you again
 *   @example.net        OK
 *   example.org         REJECT
 *   .example.org        OK      (its subdomains, not example.org)
 *
 * A pattern, blanks, OK or REJECT (any case), and after REJECT an
 * optional text for the reply. Blank lines and lines whose first
 * non-blank is # are skipped. Patterns are lower-cased; "@domain" and
 * "domain" are the same entry. Bytes 33..126 in the pattern, 32..126 in
 * the text (at most SENDERLINE_TEXT_MAX bytes).
 */
#ifndef RCPTCHECKS_SENDERLINE_H
#define RCPTCHECKS_SENDERLINE_H

#include <stddef.h>

#define SENDERLINE_TEXT_MAX 200

enum senderline_kind { SENDERLINE_BAD = -1, SENDERLINE_SKIP, SENDERLINE_ENTRY } ;

typedef struct senderline_s senderline ;
struct senderline_s
{
  char kind ;            /* 'a' an address, 'd' a domain, 's' a domain's subdomains */
  char const *key ;      /* points into the line (lower-cased in place) */
  size_t keylen ;
  int reject ;           /* 0: OK */
  char const *text ;     /* REJECT's text, or 0 */
  size_t textlen ;
} ;

/* Classifies s (len bytes, without its newline), lower-casing the
   pattern in place. BAD: the reason in *why (static text). */
extern enum senderline_kind senderline_parse (char *s, size_t len, senderline *l, char const **why) ;

/* The keys a sender is looked up under, in order, the first found
   deciding: "a:" the whole address (lower-cased), "d:" its domain, then
   "s:" each parent domain, nearest first (".example.org" covers
   a.example.org and a.b.example.org, not example.org). addr is the
   address (local@domain), domain its domain in lower case ("" for
   none: only the address is looked up). Writes at most
   SENDERLINE_KEYS_MAX keys into keys (each NUL-terminated, room for
   SENDERLINE_KEY_MAX bytes); returns how many. */
#define SENDERLINE_KEYS_MAX 130
#define SENDERLINE_KEY_MAX 904
extern unsigned int senderline_keys (char const *addr, char const *domain, char keys[][SENDERLINE_KEY_MAX], unsigned int max) ;

#endif
