/* mx_zonespec: DNSBL and allow-list zones as users write them, in the
 * syntax of Postfix's postscreen_dnsbl_sites:
 *
 *   zone[=filter][*weight]
 *
 *   zen.spamhaus.org=127.0.0.[2..11]*3
 *   bl.spamcop.net*2
 *   list.dnswl.org=127.0.[0..255].[1..3]*-5
 *
 * filter: four dot-separated octet patterns; each is a number 0..255 or
 * a bracketed list of numbers and ranges separated by ';', e.g.
 * [2;4..6]. Without a filter any answer in 127.0.0.0/8 lists. weight:
 * a whole number, negative allowed (default 1).
 *
 * Whatever the filter says, an answer outside 127.0.0.0/8, or in
 * 127.255.255.0/24 (the "query refused" / "over quota" codes some lists
 * answer with), never lists: it is a configuration fault to be logged.
 */
#ifndef MX_ZONESPEC_H
#define MX_ZONESPEC_H

#include <stddef.h>

#define ZONE_NAME_MAX 253
#define ZONE_WEIGHT_MAX 1000

typedef struct zonespec_s zonespec ;
struct zonespec_s
{
  char name[ZONE_NAME_MAX + 1] ;   /* without a trailing dot */
  int weight ;
  int has_filter ;
  unsigned char octet[4][32] ;     /* a 256-bit set of allowed values per octet */
} ;

/* Parses s into *z. Returns 1, or 0 with a reason (static text) in *why. */
extern int zonespec_parse (char const *s, zonespec *z, char const **why) ;

enum answer_verdict { ANSWER_LISTED, ANSWER_FILTERED, ANSWER_FAULT } ;

/* What one A record (4 bytes) answered by z's zone means:
   listed (counts), filtered (in 127/8 but not matched by the filter),
   or a configuration fault (outside 127/8, or 127.255.255.x). */
extern enum answer_verdict zonespec_verdict (zonespec const *z, unsigned char const *a) ;

/* The points a listing in z adds to a client's score: the weight for a
   blocklist (-r), minus its magnitude for an allow-list (-a), so that
   "list.dnswl.org*-5" and "list.dnswl.org*5" mean the same with -a. */
extern int zonespec_points (zonespec const *z, int allowlist) ;

#endif
