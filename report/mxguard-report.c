/* mxguard-report: the postmaster's morning report from the mxguard
 * programs' log lines.
 *
 * Usage: mxguard-report [ -n top ] [ -m keys ] [ -L ] [ -d day ]
 *          [ -l [ -r rcpt ] [ -s sender ] | -H ] [ file ... ]
 *
 * Reads the lines smtp-delay, rblenv, rcptchecks, relaydb-check,
 * relaydb-rec, smtp-tls, proxy-env, smtp-forward and smtp-screen write
 * on stderr, from the files named ("-": stdin) or
 * stdin, bare or after a multilog (TAI64N) or tai64nlocal stamp, and
 * prints on stdout what was refused: totals per day (UTC days of the
 * stamps, local days with -L; lines without a stamp under "undated", or
 * under day with -d), refusals by program/result, the client addresses
 * and recipients refused most, smtp-screen's connections per day
 * (passed, from the cache, limited, refused by each test), the
 * decisions per program and result, and
 * the lines skipped (foreign, NUL bytes, unprintable bytes, longer than
 * LINE_MAX_BYTES, bad stamps). Which result counts as a refusal is the
 * table in logline.c, written out in the manual.
 *
 * With -H, the same tables and charts of them as one self-contained
 * HTML page (report/html.h), every byte of the log escaped.
 *
 * With -l, a listing instead: one line per refusal as it is read (time,
 * client address, sender, recipient, program/result), only those for
 * recipient -r and sender -s (an address, or @domain), streamed.
 *
 * The lines are counted by report/collect.c. Memory is bounded
 * whatever the input: one line buffer, and at most
 * -m distinct keys per table (report/tally.h); the report says when a
 * table was full. Every key printed comes from a line of printable ASCII.
 *
 * Exit: 0 the report was written; 100 usage; 111 a file cannot be read,
 * memory ran out, or the report cannot be written.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "collect.h"
#include "html.h"
#include "logline.h"
#include "tally.h"

#define USAGE "mxguard-report [ -n top ] [ -m keys ] [ -L ] [ -d day ] [ -l [ -r rcpt ] [ -s sender ] | -H ] [ file ... ]"
#define KEYS_DEFAULT 100000
#define KEYS_MAX 10000000
#define TOP_DEFAULT 20

char const *PROG = "mxguard-report" ;

static char const *want_rcpt, *want_sender ;

static void dienomem (void) gccattr_noreturn ;
static void dienomem (void)
{
  strerr_diefusys(111, "count") ;
}

static void put (char const *s, size_t n) ;
static void puts_ (char const *s) ;

/* the last '@' of s (n bytes), or 0 */
static char const *last_at (char const *s, size_t n)
{
  while (n--) if (s[n] == '@') return s + n ;
  return 0 ;
}

/* -r and -s: an address, case apart, or "@domain" for any at the domain */
static int matches (char const *want, char const *s, size_t n)
{
  size_t w = strlen(want) ;
  if (want[0] == '@')
  {
    char const *at = last_at(s, n) ;
    return at && (size_t)(s + n - at) == w && !strncasecmp(at, want, w) ;
  }
  return n == w && !strncasecmp(s, want, w) ;
}

/* -l: one refusal, as it was read */
static void list_one (logline const *l, char const *day)
{
  char when[32], key[64] ;
  size_t wn ;
  if (want_rcpt && !(l->rcpt && matches(want_rcpt, l->rcpt, l->rcptlen))) return ;
  if (want_sender && !(l->from && matches(want_sender, l->from, l->fromlen))) return ;
  if (l->stamp == STAMP_TAI64N)
  {
    time_t t = (time_t)l->secs ;
    struct tm tm ;
    if (!(rpt.local ? localtime_r(&t, &tm) : gmtime_r(&t, &tm))) return ;
    wn = strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) ;
  }
  else if (l->stamp == STAMP_LOCAL) { memcpy(when, l->stampstr, 19) ; when[10] = ' ' ; wn = 19 ; }
  else { wn = strlen(day) ; memcpy(when, day, wn) ; }
  put(when, wn) ; puts_("  ") ;
  put(l->ip, l->iplen) ; puts_("  <") ;
  if (l->from) put(l->from, l->fromlen) ;
  puts_(">  ") ;
  if (l->rcpt) { puts_("<") ; put(l->rcpt, l->rcptlen) ; puts_(">") ; } else puts_("-") ;
  puts_("  ") ;
  put(key, collect_reason(key, l, l->kind == KIND_DRYRUN)) ;
  puts_("\n") ;
}

static void readfd (int fd, char const *name)
{
  static char buf[65536] ;
  for (;;)
  {
    ssize_t r = fd_read(fd, buf, sizeof buf) ;
    if (r < 0) strerr_diefu2sys(111, "read ", name) ;
    if (!r) break ;
    collect_feed(buf, (size_t)r) ;
  }
  collect_end() ;
}

/* output */

static void put (char const *s, size_t n)
{
  if (buffer_put(buffer_1, s, n) < 0) strerr_diefu1sys(111, "write to stdout") ;
}

static void puts_ (char const *s) { put(s, strlen(s)) ; }

static void putnum (uint64_t u, size_t width)
{
  char fmt[UINT64_FMT] ;
  size_t n = uint64_fmt(fmt, u) ;
  while (width-- > n) put(" ", 1) ;
  put(fmt, n) ;
}

static void putpad (char const *s, size_t n, size_t width)
{
  put(s, n) ;
  while (n++ < width) put(" ", 1) ;
}

static void note_full (tally const *t, char const *what, size_t max)
{
  if (!t->full) return ;
  puts_("  (more than ") ; putnum(max, 0) ; puts_(" distinct ") ; puts_(what) ;
  puts_(": the counts of later ones, ") ; putnum(t->overtotal, 0) ;
  puts_(", are under \"(beyond the limit)\")\n") ;
}

/* a ranked table: count, key; top entries (0: all) */
static void ranked (char const *title, char const *col, char const *what, tally const *t, size_t top, size_t max)
{
  tally_entry **a = tally_sorted(t, 0) ;
  size_t i, shown = t->count ;
  uint64_t rest = 0 ;
  if (t->count && !a) dienomem() ;
  puts_("\n") ; puts_(title) ;
  if (top && t->count > top) { puts_(" (top ") ; putnum(top, 0) ; puts_(" of ") ; putnum(t->count, 0) ; puts_(")") ; shown = top ; }
  puts_("\n") ;
  if (!t->count && !t->full) { puts_("  none\n") ; free(a) ; return ; }
  puts_("      count  ") ; puts_(col) ; puts_("\n") ;
  for (i = 0 ; i < t->count ; i++)
  {
    if (i < shown)
    {
      putnum(a[i]->total, 11) ; puts_("  ") ; put(a[i]->key, a[i]->len) ; puts_("\n") ;
    }
    else rest += a[i]->total ;
  }
  if (shown < t->count)
  {
    putnum(rest, 11) ; puts_("  (") ; putnum(t->count - shown, 0) ; puts_(" more ") ; puts_(what) ; puts_(")\n") ;
  }
  if (t->full) { putnum(t->overtotal, 11) ; puts_("  (beyond the limit)\n") ; }
  note_full(t, what, max) ;
  free(a) ;
}

/* refused senders (or their domains) per day: the top of each day */
static void per_day (char const *title, char const *col, tally const *t, size_t top, size_t max)
{
  tally_entry **days = tally_sorted(&rpt.days, 1), **a = tally_sorted(t, 0) ;
  size_t i, j ;
  if ((rpt.days.count && !days) || (t->count && !a)) dienomem() ;
  puts_("\n") ; puts_(title) ;
  if (top) { puts_(" (top ") ; putnum(top, 0) ; puts_(" a day)") ; }
  puts_("\n") ;
  if (!t->count && !t->full) { puts_("  none\n") ; free(days) ; free(a) ; return ; }
  puts_("  day              count  ") ; puts_(col) ; puts_("\n") ;
  for (i = 0 ; i < rpt.days.count ; i++)
  {
    size_t shown = 0, dl = days[i]->len ;
    for (j = 0 ; j < t->count ; j++)
    {
      if (a[j]->len <= dl || memcmp(a[j]->key, days[i]->key, dl) || a[j]->key[dl] != ' ') continue ;
      if (top && shown == top) break ;
      puts_("  ") ; putpad(days[i]->key, dl, 11) ; putnum(a[j]->total, 11) ; puts_("  ") ;
      put(a[j]->key + dl + 1, a[j]->len - dl - 1) ; puts_("\n") ;
      shown++ ;
    }
  }
  if (t->full) { puts_("  (beyond the limit)") ; putnum(t->overtotal, 11) ; puts_("\n") ; }
  note_full(t, "keys", max) ;
  free(days) ; free(a) ;
}

/* per day: smtp-screen's connections by what became of them */
static void screen_days (size_t max)
{
  tally_entry **a = tally_sorted(&rpt.screen[0], 1), **b = tally_sorted(&rpt.screen[1], 1) ;
  size_t i ;
  unsigned int k ;
  uint64_t sum[SC_N] = { 0 } ;
  if (rpt.screen[0].count && (!a || !b)) dienomem() ;
  puts_("\nSCREENING PER DAY (smtp-screen: refused by pregreet, dnsbl, rules)\n") ;
  if (!rpt.screen[0].count && !rpt.screen[0].full) { puts_("  none\n") ; free(a) ; free(b) ; return ; }
  puts_("  day       ") ;
  for (k = 0 ; k < SC_N ; k++) { size_t n = strlen(collect_scname[k]) ; while (n++ < 10) put(" ", 1) ; puts_(collect_scname[k]) ; }
  puts_("\n") ;
  /* the same days in both, in the same order */
  for (i = 0 ; i <= rpt.screen[0].count ; i++)
  {
    puts_("  ") ;
    if (i < rpt.screen[0].count)
    {
      putpad(a[i]->key, a[i]->len, 10) ;
      for (k = 0 ; k < SC_N ; k++)
      {
        uint64_t v = (k < TALLY_COLS ? a[i] : b[i])->n[k % TALLY_COLS] ;
        sum[k] += v ;
        putnum(v, 10) ;
      }
    }
    else { putpad("all", 3, 10) ; for (k = 0 ; k < SC_N ; k++) putnum(sum[k], 10) ; }
    puts_("\n") ;
  }
  note_full(&rpt.screen[0], "days", max) ;
  free(a) ; free(b) ;
}

/* per day: greylisting's first attempts deferred, retries deferred
   again, retries that passed, and the share of first attempts that
   never came back (deferred less passed, over deferred: a retry on a
   later day counts on its own day, so a day's share is an estimate and
   the total's the figure) */
static void grey_days (size_t max)
{
  tally_entry **a = tally_sorted(&rpt.grey, 1) ;
  size_t i ;
  uint64_t sum[3] = { 0, 0, 0 } ;
  if (rpt.grey.count && !a) dienomem() ;
  puts_("\nGREYLISTING PER DAY (rcptchecks)\n") ;
  if (!rpt.grey.count && !rpt.grey.full) { puts_("  none\n") ; free(a) ; return ; }
  puts_("  day          deferred      early     passed  never back\n") ;
  for (i = 0 ; i <= rpt.grey.count ; i++)
  {
    uint64_t const *n = i < rpt.grey.count ? a[i]->n : sum ;
    char pct[16] ;
    size_t m = 0 ;
    if (i < rpt.grey.count) { unsigned int k ; for (k = 0 ; k < 3 ; k++) sum[k] += n[k] ; }
    puts_("  ") ;
    if (i < rpt.grey.count) putpad(a[i]->key, a[i]->len, 10) ; else putpad("all", 3, 10) ;
    putnum(n[0], 11) ; putnum(n[1], 11) ; putnum(n[2], 11) ;
    if (n[0])
    {
      uint64_t gone = n[0] > n[2] ? n[0] - n[2] : 0 ;
      uint64_t tenths = (gone * 1000 + n[0] / 2) / n[0] ;
      m = uint64_fmt(pct, tenths / 10) ;
      pct[m++] = '.' ; pct[m++] = (char)('0' + tenths % 10) ; pct[m++] = '%' ;
    }
    else { memcpy(pct, "-", 1) ; m = 1 ; }
    { size_t pad = m < 12 ? 12 - m : 0 ; while (pad--) put(" ", 1) ; }
    put(pct, m) ;
    puts_("\n") ;
  }
  note_full(&rpt.grey, "days", max) ;
  free(a) ;
}

/* a table with a column per kind, in key order (days) or count order */
/* per day: sessions in TLS, in clear, failed handshakes, and the share
   of TLS among the sessions that got as far as a conversation */
static void tls_days (size_t max)
{
  tally_entry **a = tally_sorted(&rpt.tls, 1) ;
  size_t i ;
  uint64_t sum[3] = { 0, 0, 0 } ;
  if (rpt.tls.count && !a) dienomem() ;
  puts_("\nTLS SESSIONS PER DAY (smtp-tls)\n") ;
  if (!rpt.tls.count && !rpt.tls.full) { puts_("  none\n") ; free(a) ; return ; }
  puts_("  day               tls      clear     failed  tls share\n") ;
  for (i = 0 ; i <= rpt.tls.count ; i++)
  {
    uint64_t const *n = i < rpt.tls.count ? a[i]->n : sum ;
    uint64_t all = n[0] + n[1] ;
    char pct[16] ;
    size_t m = 0 ;
    if (i < rpt.tls.count) { unsigned int k ; for (k = 0 ; k < 3 ; k++) sum[k] += n[k] ; }
    puts_("  ") ;
    if (i < rpt.tls.count) putpad(a[i]->key, a[i]->len, 10) ; else putpad("all", 3, 10) ;
    putnum(n[0], 11) ; putnum(n[1], 11) ; putnum(n[2], 11) ;
    if (all)
    {
      uint64_t tenths = (n[0] * 1000 + all / 2) / all ;
      m = uint64_fmt(pct, tenths / 10) ;
      pct[m++] = '.' ; pct[m++] = (char)('0' + tenths % 10) ; pct[m++] = '%' ;
    }
    else { memcpy(pct, "-", 1) ; m = 1 ; }
    { size_t pad = m < 11 ? 11 - m : 0 ; while (pad--) put(" ", 1) ; }
    put(pct, m) ;
    puts_("\n") ;
  }
  note_full(&rpt.tls, "days", max) ;
  free(a) ;
}

static void bykind (char const *title, char const *col, char const *what, tally const *t, int bykey, int withall, size_t top, size_t max)
{
  tally_entry **a = tally_sorted(t, bykey) ;
  size_t i, w = strlen(col), shown = t->count ;
  unsigned int k ;
  uint64_t sum[TALLY_COLS] = { 0, 0, 0, 0 }, rest[TALLY_COLS] = { 0, 0, 0, 0 } ;
  if (t->count && !a) dienomem() ;
  puts_("\n") ; puts_(title) ;
  if (top && t->count > top) { puts_(" (top ") ; putnum(top, 0) ; puts_(" of ") ; putnum(t->count, 0) ; puts_(")") ; shown = top ; }
  puts_("\n") ;
  if (!t->count && !t->full) { puts_("  none\n") ; free(a) ; return ; }
  for (i = 0 ; i < shown ; i++) if (a[i]->len > w) w = a[i]->len ;
  if ((t->full || shown < t->count) && w < 18) w = 18 ;
  puts_("  ") ; putpad(col, strlen(col), w) ;
  for (k = 0 ; k < TALLY_COLS ; k++) { size_t n = strlen(collect_kindname[k]) ; while (n++ < 11) put(" ", 1) ; puts_(collect_kindname[k]) ; }
  puts_("\n") ;
  for (i = 0 ; i < t->count ; i++)
  {
    for (k = 0 ; k < TALLY_COLS ; k++) sum[k] += a[i]->n[k] ;
    if (i >= shown) { for (k = 0 ; k < TALLY_COLS ; k++) rest[k] += a[i]->n[k] ; continue ; }
    puts_("  ") ; putpad(a[i]->key, a[i]->len, w) ;
    for (k = 0 ; k < TALLY_COLS ; k++) putnum(a[i]->n[k], 11) ;
    puts_("\n") ;
  }
  if (shown < t->count)
  {
    char more[64] ;
    size_t n = uint64_fmt(more, t->count - shown) ;
    memcpy(more + n, " more", 5) ; n += 5 ;
    puts_("  ") ; putpad(more, n, w) ;
    for (k = 0 ; k < TALLY_COLS ; k++) putnum(rest[k], 11) ;
    puts_("\n") ;
  }
  if (t->full)
  {
    puts_("  ") ; putpad("(beyond the limit)", 18, w) ;
    for (k = 0 ; k < TALLY_COLS ; k++) { putnum(t->over[k], 11) ; sum[k] += t->over[k] ; }
    puts_("\n") ;
  }
  if (withall)
  {
    puts_("  ") ; putpad("all", 3, w) ;
    for (k = 0 ; k < TALLY_COLS ; k++) putnum(sum[k], 11) ;
    puts_("\n") ;
  }
  note_full(t, what, max) ;
  free(a) ;
}

int main (int argc, char const *const *argv)
{
  unsigned int top = TOP_DEFAULT, max = KEYS_DEFAULT ;
  uint64_t skipped = 0 ;
  unsigned int i ;
  int html = 0, listing = 0, local = 0 ;
  char const *undated = "undated" ;
  char const *const *files ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "n:m:Ld:lr:s:H", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'n' : if (!uint0_scan(l.arg, &top) || top > KEYS_MAX) strerr_dieusage(100, USAGE) ; break ;
        case 'm' : if (!uint0_scan(l.arg, &max) || !max || max > KEYS_MAX) strerr_dieusage(100, USAGE) ; break ;
        case 'L' : local = 1 ; break ;
        case 'd' : if (!logline_dayok(l.arg, strlen(l.arg))) strerr_dieusage(100, USAGE) ; undated = l.arg ; break ;
        case 'l' : listing = 1 ; break ;
        case 'H' : html = 1 ; break ;
        case 'r' : want_rcpt = l.arg ; break ;
        case 's' : want_sender = l.arg ; break ;
        default : strerr_dieusage(100, USAGE) ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if ((want_rcpt || want_sender) && !listing) strerr_dieusage(100, USAGE) ;
  if (html && listing) strerr_dieusage(100, USAGE) ;
  collect_init(max) ;
  rpt.local = local ;
  rpt.undated = undated ;
  if (listing) rpt.listing = &list_one ;
  files = argv ;

  if (!argc) readfd(0, "stdin") ;
  for (; argc ; argc--, argv++)
  {
    if (!strcmp(argv[0], "-")) { readfd(0, "stdin") ; continue ; }
    {
      int fd = open_readb(argv[0]) ;
      if (fd < 0) strerr_diefu2sys(111, "open ", argv[0]) ;
      readfd(fd, argv[0]) ;
      fd_close(fd) ;
    }
  }

  if (listing || html)
  {
    if (html) html_page(&put, top, max, files, (size_t)(argv - files)) ;
    if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
    return 0 ;
  }
  for (i = 0 ; i < SKIP_N ; i++) skipped += rpt.skipped[i] ;
  puts_("mxguard report: ") ;
  putnum(rpt.lines, 0) ; puts_(" lines, ") ;
  putnum(rpt.decisions, 0) ; puts_(" decisions, ") ;
  putnum(rpt.msgs, 0) ; puts_(" other messages, ") ;
  putnum(skipped, 0) ; puts_(" skipped; days ") ;
  puts_(collect_days_said()) ; puts_("\n") ;

  bykind("TOTALS PER DAY", "day", "days", &rpt.days, 1, 1, 0, max) ;
  tls_days(max) ;
  grey_days(max) ;
  screen_days(max) ;
  ranked("REFUSALS BY REASON", "program/result", "reasons", &rpt.reasons, top, max) ;
  ranked("CLIENT ADDRESSES REFUSED", "ip", "addresses", &rpt.ips, top, max) ;
  ranked("RECIPIENTS REFUSED", "rcpt", "recipients", &rpt.rcpts, top, max) ;
  per_day("SENDERS REFUSED PER DAY (rcptchecks)", "sender", &rpt.senders, top, max) ;
  per_day("SENDER DOMAINS REFUSED PER DAY (rcptchecks)", "domain", &rpt.sdomains, top, max) ;
  per_day("SPF RESULTS PER DAY (rcptchecks -E spf)", "result", &rpt.spf, 0, max) ;
  bykind("SESSIONS PER PROGRAM", "program", "programs", &rpt.programs, 0, 1, 0, max) ;
  bykind("DECISIONS BY PROGRAM AND RESULT", "program/result", "results", &rpt.results, 0, 0, top, max) ;
  ranked("OTHER MESSAGES OF THE PROGRAMS", "program level", "kinds", &rpt.messages, top, max) ;

  puts_("\nSKIPPED LINES\n") ;
  if (!skipped) puts_("  none\n") ;
  else
  {
    puts_("      count  why\n") ;
    for (i = 0 ; i < SKIP_N ; i++)
      if (rpt.skipped[i]) { putnum(rpt.skipped[i], 11) ; puts_("  ") ; puts_(collect_skipname[i]) ; puts_("\n") ; }
  }
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
