/* listline: one line of rcptchecks-make's recipient list.
 *
 * Blanks (space, tab; CR at the end) around the entry are ignored; an
 * empty line, or one whose first non-blank is '#', is skipped. An entry
 * is a domain ("example.org"), or an address with '@' ("alice@example.org",
 * "bob-default@example.org", "@example.net" for a catch-all) whose domain
 * is the part after the last '@'. Entries hold only bytes 33..126 and
 * well-formed UTF-8 (RFC 3629; SMTPUTF8 addresses, RFC 6531). One
 * trailing dot of a domain is dropped; a domain with U-labels is stored
 * as its A-labels (mx_utf8_domain: IDNA2008, lower case), so that
 * "bücher.example" and "xn--bcher-kva.example" are one domain; a domain
 * is then letters, digits, '-', '_' and dots with no empty label, or a
 * literal "[...]". Domains are lower-cased, local parts too unless the
 * case is kept (ASCII letters only: other bytes stay as written, as the
 * servers compare them).
 */
#ifndef RCPTCHECKS_LISTLINE_H
#define RCPTCHECKS_LISTLINE_H

#include <stddef.h>

/* room for an entry of 1000 bytes whose domain grows to its A-labels */
#define LISTLINE_OUT 1280

enum listline_kind { LISTLINE_BAD = -1, LISTLINE_SKIP, LISTLINE_DOMAIN, LISTLINE_ADDRESS } ;

typedef struct listline_s listline ;
struct listline_s
{
  char const *domain ;   /* points into the line */
  size_t dlen ;
  char const *addr ;     /* ADDRESS: local@domain, alen bytes */
  size_t alen ;
  char out[LISTLINE_OUT] ;   /* an entry whose domain had U-labels, rewritten */
} ;

/* Classifies s (len bytes, without its newline; room for len + 1
   bytes), lower-casing in place. DOMAIN: the domain in l; ADDRESS: the
   address and its domain in l (pointing into s, or into l->out when the
   domain was written in U-labels); SKIP: blank or comment; BAD: the
   reason in *why (static text, to follow "line N": ": NUL byte", ":
   blank or unprintable byte inside the entry", ": not valid UTF-8", ":
   not a domain", ": not a domain after @"). */
extern enum listline_kind listline_parse (char *s, size_t len, int keep_case, listline *l, char const **why) ;

/* d (n bytes, lower case) is a domain as the list allows it. */
extern int listline_domain_ok (char const *d, size_t n) ;

#endif
