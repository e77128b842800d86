/* collect: the counts mxguard-report takes from the log lines.
 *
 * collect_feed() splits the bytes read into lines, takes each apart
 * (logline.h) and counts it in the tables of rpt (tally.h), each of at
 * most max keys; collect_end() ends a file whose last line has no line
 * end. With rpt.listing set, a refusal is handed to it instead of
 * being counted. Every key counted comes from a line of printable
 * ASCII. The text report (mxguard-report.c) and the page (html.h)
 * write what is here. Memory ran out: a fatal exit 111.
 */
#ifndef MXGUARD_REPORT_COLLECT_H
#define MXGUARD_REPORT_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "logline.h"
#include "tally.h"

#define COLLECT_LINE_MAX 32768

enum collect_skip { SKIP_FOREIGN, SKIP_NUL, SKIP_BINARY, SKIP_LONG, SKIP_STAMP, SKIP_MALFORMED, SKIP_N } ;
extern char const *const collect_skipname[SKIP_N] ;
extern char const *const collect_kindname[TALLY_COLS] ;

/* smtp-screen's connections per day, by what became of them: two
   tallies of TALLY_COLS columns, keyed by day */
enum { SC_PASSED, SC_CACHED, SC_PARTIAL, SC_LIMITED, SC_PREGREET, SC_DNSBL, SC_RULES, SC_OTHER, SC_N } ;
extern char const *const collect_scname[SC_N] ;

struct collect_s
{
  tally screen[2] ;
  tally days, reasons, ips, rcpts, programs, results, messages, tls, senders, sdomains, grey, spf ;
  tally dayreasons ;   /* refusals: "DAY reason" */
  tally fromall ;      /* refused senders: "<sender>", all days */
  uint64_t lines, decisions, msgs, skipped[SKIP_N] ;
  uint64_t bystamp[3] ;  /* decisions by enum logline_stamp */
  int local ;
  char const *undated ;
  void (*listing) (logline const *, char const *day) ;
} ;
extern struct collect_s rpt ;

/* Empties rpt (freeing its tables), every table to hold max keys. */
extern void collect_init (size_t max) ;
extern void collect_feed (char const *s, size_t n) ;
extern void collect_end (void) ;

/* how the report's days are counted, for its summary line: "in UTC",
   "in local time", or as the lines' own date stamps say */
extern char const *collect_days_said (void) ;

/* "prog/result", "prog/rcpt-result", with " (dry run)" when dry: into
   out (64 bytes), its length */
extern size_t collect_reason (char *out, logline const *l, int dry) ;

#endif
