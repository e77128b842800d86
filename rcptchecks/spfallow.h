/* spfallow: greylisting's allow-list of big senders (-O spfallow=file,
 * greylist.h): the domains whose SPF pass lifts greylisting, because
 * their retries come from other networks of large pools.
 *
 * The file has one domain a line, in the recipient list's line form
 * (listline.h: blanks around the entry, blank lines and lines whose
 * first non-blank is '#' skipped, one trailing dot dropped, a domain in
 * U-labels taken as its A-labels, lower case). An address, or anything
 * listline refuses, is a bad line, and a bad line makes the whole file
 * unusable (as rcptchecks-make refuses a list with one). A listed
 * domain covers itself and every subdomain of it: "example.com" covers
 * example.com and a.b.example.com, not badexample.com. Pure functions:
 * greylist.c reads the file.
 */
#ifndef RCPTCHECKS_SPFALLOW_H
#define RCPTCHECKS_SPFALLOW_H

#include <stddef.h>

#define SPFALLOW_FILE_MAX 65536   /* bytes of the file */
#define SPFALLOW_LIST_MAX 65536   /* bytes of the parsed list */

/* Parses text (n bytes, room for n + 1: lines are lower-cased in place)
   into list (room for max bytes): each domain NUL-terminated, one after
   the other. Returns the bytes of list used (0: no domain), or -1 with
   *line the bad line (from 1) and *why the reason (static text: ": an
   address, not a domain", listline's reasons, ": too many domains"). */
extern long spfallow_parse (char *text, size_t n, char *list, size_t max, unsigned int *line, char const **why) ;

/* domain (lower case, no trailing dot) is a domain of list (len bytes,
   as spfallow_parse made it) or a subdomain of one. */
extern int spfallow_match (char const *list, size_t len, char const *domain) ;

#endif
