/* logline: one line of the mxguard programs' logs, taken apart.
 *
 * A line is what a program wrote on stderr,
 *   prog: info: pid N ip A key=value ... result=WORD ...
 * optionally after a time stamp: multilog's "@" and 24 hex digits of a
 * TAI64N label, or tai64nlocal's (s6-log's) "YYYY-MM-DD HH:MM:SS.frac"
 * ("T" between date and time allowed), and one or more blanks.
 * Nothing here allocates; the fields point into the line.
 */
#ifndef MXGUARD_REPORT_LOGLINE_H
#define MXGUARD_REPORT_LOGLINE_H

#include <stddef.h>
#include <stdint.h>

/* what a line is */
enum logline_type
{
  LOGLINE_DECISION,    /* a program's decision: prog, ip, result, kind */
  LOGLINE_MESSAGE,     /* a program's line without a decision (fatal,
                          usage, a warning that a decision line follows) */
  LOGLINE_FOREIGN,     /* not from an mxguard program */
  LOGLINE_BADSTAMP,    /* a time stamp we cannot read */
  LOGLINE_MALFORMED    /* an mxguard program's name, but not its form */
} ;

/* what a decision did to the client */
enum logline_kind
{
  KIND_REFUSED,
  KIND_DRYRUN,         /* a refusal a dry run (-n, -T) only logged */
  KIND_PASSED,
  KIND_OTHER           /* neither: hangups, errors, timeouts */
} ;

/* how the stamp gave the day */
enum logline_stamp { STAMP_NONE, STAMP_TAI64N, STAMP_LOCAL } ;

typedef struct logline_s logline ;
struct logline_s
{
  enum logline_stamp stamp ;
  uint64_t secs ;            /* STAMP_TAI64N: seconds since the epoch (UTC) */
  char day[11] ;             /* STAMP_LOCAL: "YYYY-MM-DD" as written */
  char const *stampstr ;     /* STAMP_LOCAL: the stamp as written, to the second */
  char const *prog ; size_t proglen ;
  char const *level ; size_t levellen ;   /* info, warning, fatal, ... */
  char const *ip ; size_t iplen ;
  char const *result ; size_t resultlen ;
  char const *rcpt ; size_t rcptlen ;     /* rcptchecks' rcpt=<...>: inside <> */
  char const *helo ; size_t helolen ;     /* rcptchecks' helo=<...> and from=<...>: */
  char const *from ; size_t fromlen ;     /* inside <> (0 on lines without them) */
  char const *grey ; size_t greylen ;     /* rcptchecks' greylist=WORD, or 0 */
  int dryrun ;
  enum logline_kind kind ;
} ;

/* Takes s (len bytes, no line end; printable ASCII) apart into *l. */
extern enum logline_type logline_parse (char const *s, size_t len, logline *l) ;

/* The decision kind of a program's result (the table of the manual). */
extern enum logline_kind logline_kind (char const *prog, size_t proglen, char const *result, size_t resultlen, int rcptline, int dryrun) ;

/* Writes the UTC (local if local) day of secs as "YYYY-MM-DD" and a NUL
   into day (11 bytes). Returns 1, or 0 if it cannot be expressed. */
extern int logline_day (uint64_t secs, int local, char *day) ;

/* Whether s (len bytes) is a day "YYYY-MM-DD". */
extern int logline_dayok (char const *s, size_t len) ;

#endif
