/* mxguard-report: the postmaster's morning report from the mxguard
 * programs' log lines.
 *
 * Usage: mxguard-report [ -n top ] [ -m keys ] [ -L ] [ -d day ]
 *          [ -l [ -r rcpt ] [ -s sender ] ] [ file ... ]
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
 * With -l, a listing instead: one line per refusal as it is read (time,
 * client address, sender, recipient, program/result), only those for
 * recipient -r and sender -s (an address, or @domain), streamed.
 *
 * Memory is bounded whatever the input: one line buffer, and at most
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

#include "logline.h"
#include "tally.h"

#define USAGE "mxguard-report [ -n top ] [ -m keys ] [ -L ] [ -d day ] [ -l [ -r rcpt ] [ -s sender ] ] [ file ... ]"
#define LINE_MAX_BYTES 32768
#define KEYS_DEFAULT 100000
#define KEYS_MAX 10000000
#define TOP_DEFAULT 20

char const *PROG = "mxguard-report" ;

enum skip { SKIP_FOREIGN, SKIP_NUL, SKIP_BINARY, SKIP_LONG, SKIP_STAMP, SKIP_MALFORMED, SKIP_N } ;
static char const *const skipname[SKIP_N] =
{
  "not from an mxguard program",
  "NUL byte",
  "bytes outside printable ASCII",
  "longer than 32768 bytes",
  "unreadable time stamp",
  "an mxguard program's name, not its line form"
} ;
static char const *const kindname[TALLY_COLS] = { "refused", "dry-run", "passed", "other" } ;

/* smtp-screen's connections per day, by what became of them: two
   tallies of TALLY_COLS columns, keyed by day */
enum { SC_PASSED, SC_CACHED, SC_PARTIAL, SC_LIMITED, SC_PREGREET, SC_DNSBL, SC_RULES, SC_OTHER, SC_N } ;
static char const *const scname[SC_N] = { "passed", "cached", "partial", "limited", "pregreet", "dnsbl", "rules", "other" } ;

static struct
{
  tally screen[2] ;
  tally days, reasons, ips, rcpts, programs, results, messages, tls, senders, sdomains, grey, spf ;
  uint64_t lines, decisions, msgs, skipped[SKIP_N] ;
  int local ;
  char const *undated ;
  int listing ;
  char const *want_rcpt, *want_sender ;
} st ;

static char line[LINE_MAX_BYTES] ;
static size_t linelen ;
static int overlong ;

static void dienomem (void) gccattr_noreturn ;
static void dienomem (void)
{
  strerr_diefusys(111, "count") ;
}

static void add (tally *t, char const *key, size_t len, unsigned int col)
{
  if (!tally_add(t, key, len, col, 1)) dienomem() ;
}

/* smtp-tls's session lines by day: in TLS (column 0), in clear (1), a
   failed handshake (2) */
static void tls_share (char const *day, char const *s, size_t len)
{
  static struct { char const *word ; unsigned int col ; } const w[] =
    { { " tls=TLSv", 0 }, { " tls=none ", 1 }, { " tls=failed ", 2 } } ;
  size_t i, k ;
  for (k = 0 ; k < sizeof w / sizeof *w ; k++)
  {
    size_t n = strlen(w[k].word) ;
    for (i = 0 ; i + n <= len ; i++)
      if (!memcmp(s + i, w[k].word, n)) { add(&st.tls, day, strlen(day), w[k].col) ; return ; }
  }
}

/* rcptchecks' SPF lines (result=spf-...): "DAY RESULT" from spf= */
static void spf_results (char const *day, logline const *l, char const *s, size_t len)
{
  char k[64] ;
  size_t i, dl = strlen(day), n ;
  if (l->rcpt || l->resultlen < 4 || memcmp(l->result, "spf-", 4)) return ;
  for (i = 0 ; i + 5 <= len ; i++) if (!memcmp(s + i, " spf=", 5)) break ;
  if (i + 5 > len || dl > 16) return ;
  i += 5 ;
  for (n = 0 ; i + n < len && n < 16 && s[i + n] >= 'a' && s[i + n] <= 'z' ; n++) ;
  if (!n) return ;
  memcpy(k, day, dl) ; k[dl] = ' ' ; memcpy(k + dl + 1, s + i, n) ;
  add(&st.spf, k, dl + 1 + n, 0) ;
}

static int word_in (char const *s, size_t len, char const *w)
{
  size_t n = strlen(w), i ;
  for (i = 0 ; i + n <= len ; i++) if (!memcmp(s + i, w, n)) return 1 ;
  return 0 ;
}

/* smtp-screen's decision line s: passed (handed off clean; of which
   from the cache, wholly or in part), refused by a test (pregreet, the
   DNSBL score handed to rblsmtpd, the rules), limited, or other */
static void screening (char const *day, logline const *l, char const *s, size_t len)
{
  unsigned int k[3], n = 0, i ;
  size_t dl = strlen(day) ;
  if (l->resultlen == 4 && !memcmp(l->result, "pass", 4))
  {
    k[n++] = word_in(s, len, " dnsbl=refused ") || word_in(s, len, " dnsbl=late ") ? SC_DNSBL : SC_PASSED ;
    if (word_in(s, len, " cache=hit ")) k[n++] = SC_CACHED ;
    else if (word_in(s, len, " cache=partial ")) k[n++] = SC_PARTIAL ;
  }
  else if (word_in(s, len, " pregreet=fail ")) k[n++] = SC_PREGREET ;
  else if (l->resultlen == 4 && !memcmp(l->result, "deny", 4)) k[n++] = SC_RULES ;
  else if (l->resultlen == 5 && !memcmp(l->result, "limit", 5)) k[n++] = SC_LIMITED ;
  else k[n++] = SC_OTHER ;
  /* both tallies hold every day seen */
  if (!tally_add(&st.screen[0], day, dl, 0, 0) || !tally_add(&st.screen[1], day, dl, 0, 0)) dienomem() ;
  for (i = 0 ; i < n ; i++) add(&st.screen[k[i] / TALLY_COLS], day, dl, k[i] % TALLY_COLS) ;
}

/* rcptchecks' greylisting by day: first attempts deferred (column 0),
   retries deferred again (1), retries that passed (2) */
static void greylisting (char const *day, logline const *l)
{
  static struct { char const *word ; unsigned int col ; } const w[] = { { "new", 0 }, { "early", 1 }, { "retried", 2 } } ;
  unsigned int k ;
  for (k = 0 ; k < 3 ; k++)
    if (l->greylen == strlen(w[k].word) && !memcmp(l->grey, w[k].word, l->greylen))
    {
      add(&st.grey, day, strlen(day), w[k].col) ;
      return ;
    }
}

/* "prog/result", "prog/rcpt-result", with " (dry run)" when asked */
static size_t reason (char *out, logline const *l, int dry)
{
  size_t n = 0 ;
  memcpy(out, l->prog, l->proglen) ; n += l->proglen ;
  out[n++] = '/' ;
  if (l->rcpt) { memcpy(out + n, "rcpt-", 5) ; n += 5 ; }
  memcpy(out + n, l->result, l->resultlen) ; n += l->resultlen ;
  if (dry) { memcpy(out + n, " (dry run)", 10) ; n += 10 ; }
  return n ;
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
  if (st.want_rcpt && !(l->rcpt && matches(st.want_rcpt, l->rcpt, l->rcptlen))) return ;
  if (st.want_sender && !(l->from && matches(st.want_sender, l->from, l->fromlen))) return ;
  if (l->stamp == STAMP_TAI64N)
  {
    time_t t = (time_t)l->secs ;
    struct tm tm ;
    if (!(st.local ? localtime_r(&t, &tm) : gmtime_r(&t, &tm))) return ;
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
  put(key, reason(key, l, l->kind == KIND_DRYRUN)) ;
  puts_("\n") ;
}

static void oneline (char const *s, size_t len)
{
  logline l ;
  char day[11] ;
  char key[64] ;
  char const *d ;
  size_t i ;
  st.lines++ ;
  if (overlong) { st.skipped[SKIP_LONG]++ ; return ; }
  if (len && s[len-1] == '\r') len-- ;
  if (memchr(s, 0, len)) { st.skipped[SKIP_NUL]++ ; return ; }
  for (i = 0 ; i < len ; i++)
    if ((unsigned char)s[i] < 32 || (unsigned char)s[i] > 126) { st.skipped[SKIP_BINARY]++ ; return ; }
  switch (logline_parse(s, len, &l))
  {
    case LOGLINE_FOREIGN : st.skipped[SKIP_FOREIGN]++ ; return ;
    case LOGLINE_BADSTAMP : st.skipped[SKIP_STAMP]++ ; return ;
    case LOGLINE_MALFORMED : st.skipped[SKIP_MALFORMED]++ ; return ;
    case LOGLINE_MESSAGE :
    {
      size_t n = l.proglen ;
      memcpy(key, l.prog, n) ; key[n++] = ' ' ;
      memcpy(key + n, l.level, l.levellen) ; n += l.levellen ;
      st.msgs++ ;
      add(&st.messages, key, n, 0) ;
      return ;
    }
    case LOGLINE_DECISION : break ;
  }
  if (l.stamp == STAMP_TAI64N)
  {
    if (!logline_day(l.secs, st.local, day)) { st.skipped[SKIP_STAMP]++ ; return ; }
    d = day ;
  }
  else if (l.stamp == STAMP_LOCAL) d = l.day ;
  else d = st.undated ;
  st.decisions++ ;
  if (st.listing)
  {
    if (l.kind == KIND_REFUSED || l.kind == KIND_DRYRUN) list_one(&l, d) ;
    return ;
  }
  add(&st.days, d, strlen(d), l.kind) ;
  add(&st.results, key, reason(key, &l, 0), l.kind) ;
  if (!l.rcpt) add(&st.programs, l.prog, l.proglen, l.kind) ;
  if (l.proglen == 8 && !memcmp(l.prog, "smtp-tls", 8)) tls_share(d, s, len) ;
  if (l.proglen == 11 && !memcmp(l.prog, "smtp-screen", 11)) screening(d, &l, s, len) ;
  if (l.grey) greylisting(d, &l) ;
  if (l.proglen == 10 && !memcmp(l.prog, "rcptchecks", 10)) spf_results(d, &l, s, len) ;
  if (l.kind == KIND_REFUSED || l.kind == KIND_DRYRUN)
    add(&st.reasons, key, reason(key, &l, l.kind == KIND_DRYRUN), 0) ;
  if (l.kind == KIND_REFUSED)
  {
    add(&st.ips, l.ip, l.iplen, 0) ;
    if (l.rcpt) add(&st.rcpts, l.rcpt - 1, l.rcptlen + 2, 0) ;   /* with its <> */
    if (l.fromlen)
    {
      /* per day: "DAY <sender>" and "DAY domain" */
      char k[11 + 3 + TALLY_KEYMAX] ;
      size_t dl = strlen(d), fl = l.fromlen < TALLY_KEYMAX - 16 ? l.fromlen : TALLY_KEYMAX - 16 ;
      char const *at = last_at(l.from, l.fromlen) ;
      memcpy(k, d, dl) ; k[dl] = ' ' ; k[dl + 1] = '<' ;
      memcpy(k + dl + 2, l.from, fl) ; k[dl + 2 + fl] = '>' ;
      add(&st.senders, k, dl + 3 + fl, 0) ;
      if (at && at + 1 < l.from + l.fromlen)
      {
        size_t al = (size_t)(l.from + l.fromlen - at - 1) ;
        if (al > TALLY_KEYMAX - 16) al = TALLY_KEYMAX - 16 ;
        memcpy(k + dl + 1, at + 1, al) ;
        add(&st.sdomains, k, dl + 1 + al, 0) ;
      }
    }
  }
}

/* splits the bytes read into lines; an overlong line is counted once */
static void feed (char const *s, size_t n)
{
  while (n)
  {
    char const *nl = memchr(s, '\n', n) ;
    size_t k = nl ? (size_t)(nl - s) : n ;
    if (!overlong)
    {
      if (k > LINE_MAX_BYTES - linelen) overlong = 1 ;
      else { memcpy(line + linelen, s, k) ; linelen += k ; }
    }
    if (!nl) return ;
    oneline(line, linelen) ;
    linelen = 0 ; overlong = 0 ;
    s += k + 1 ; n -= k + 1 ;
  }
}

static void readfd (int fd, char const *name)
{
  static char buf[65536] ;
  for (;;)
  {
    ssize_t r = fd_read(fd, buf, sizeof buf) ;
    if (r < 0) strerr_diefu2sys(111, "read ", name) ;
    if (!r) break ;
    feed(buf, (size_t)r) ;
  }
  if (linelen || overlong) oneline(line, linelen) ;   /* no final newline */
  linelen = 0 ; overlong = 0 ;
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
  tally_entry **days = tally_sorted(&st.days, 1), **a = tally_sorted(t, 0) ;
  size_t i, j ;
  if ((st.days.count && !days) || (t->count && !a)) dienomem() ;
  puts_("\n") ; puts_(title) ;
  if (top) { puts_(" (top ") ; putnum(top, 0) ; puts_(" a day)") ; }
  puts_("\n") ;
  if (!t->count && !t->full) { puts_("  none\n") ; free(days) ; free(a) ; return ; }
  puts_("  day              count  ") ; puts_(col) ; puts_("\n") ;
  for (i = 0 ; i < st.days.count ; i++)
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
  tally_entry **a = tally_sorted(&st.screen[0], 1), **b = tally_sorted(&st.screen[1], 1) ;
  size_t i ;
  unsigned int k ;
  uint64_t sum[SC_N] = { 0 } ;
  if (st.screen[0].count && (!a || !b)) dienomem() ;
  puts_("\nSCREENING PER DAY (smtp-screen: refused by pregreet, dnsbl, rules)\n") ;
  if (!st.screen[0].count && !st.screen[0].full) { puts_("  none\n") ; free(a) ; free(b) ; return ; }
  puts_("  day       ") ;
  for (k = 0 ; k < SC_N ; k++) { size_t n = strlen(scname[k]) ; while (n++ < 10) put(" ", 1) ; puts_(scname[k]) ; }
  puts_("\n") ;
  /* the same days in both, in the same order */
  for (i = 0 ; i <= st.screen[0].count ; i++)
  {
    puts_("  ") ;
    if (i < st.screen[0].count)
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
  note_full(&st.screen[0], "days", max) ;
  free(a) ; free(b) ;
}

/* per day: greylisting's first attempts deferred, retries deferred
   again, retries that passed, and the share of first attempts that
   never came back (deferred less passed, over deferred: a retry on a
   later day counts on its own day, so a day's share is an estimate and
   the total's the figure) */
static void grey_days (size_t max)
{
  tally_entry **a = tally_sorted(&st.grey, 1) ;
  size_t i ;
  uint64_t sum[3] = { 0, 0, 0 } ;
  if (st.grey.count && !a) dienomem() ;
  puts_("\nGREYLISTING PER DAY (rcptchecks)\n") ;
  if (!st.grey.count && !st.grey.full) { puts_("  none\n") ; free(a) ; return ; }
  puts_("  day          deferred      early     passed  never back\n") ;
  for (i = 0 ; i <= st.grey.count ; i++)
  {
    uint64_t const *n = i < st.grey.count ? a[i]->n : sum ;
    char pct[16] ;
    size_t m = 0 ;
    if (i < st.grey.count) { unsigned int k ; for (k = 0 ; k < 3 ; k++) sum[k] += n[k] ; }
    puts_("  ") ;
    if (i < st.grey.count) putpad(a[i]->key, a[i]->len, 10) ; else putpad("all", 3, 10) ;
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
  note_full(&st.grey, "days", max) ;
  free(a) ;
}

/* a table with a column per kind, in key order (days) or count order */
/* per day: sessions in TLS, in clear, failed handshakes, and the share
   of TLS among the sessions that got as far as a conversation */
static void tls_days (size_t max)
{
  tally_entry **a = tally_sorted(&st.tls, 1) ;
  size_t i ;
  uint64_t sum[3] = { 0, 0, 0 } ;
  if (st.tls.count && !a) dienomem() ;
  puts_("\nTLS SESSIONS PER DAY (smtp-tls)\n") ;
  if (!st.tls.count && !st.tls.full) { puts_("  none\n") ; free(a) ; return ; }
  puts_("  day               tls      clear     failed  tls share\n") ;
  for (i = 0 ; i <= st.tls.count ; i++)
  {
    uint64_t const *n = i < st.tls.count ? a[i]->n : sum ;
    uint64_t all = n[0] + n[1] ;
    char pct[16] ;
    size_t m = 0 ;
    if (i < st.tls.count) { unsigned int k ; for (k = 0 ; k < 3 ; k++) sum[k] += n[k] ; }
    puts_("  ") ;
    if (i < st.tls.count) putpad(a[i]->key, a[i]->len, 10) ; else putpad("all", 3, 10) ;
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
  note_full(&st.tls, "days", max) ;
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
  for (k = 0 ; k < TALLY_COLS ; k++) { size_t n = strlen(kindname[k]) ; while (n++ < 11) put(" ", 1) ; puts_(kindname[k]) ; }
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
  st.undated = "undated" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "n:m:Ld:lr:s:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'n' : if (!uint0_scan(l.arg, &top) || top > KEYS_MAX) strerr_dieusage(100, USAGE) ; break ;
        case 'm' : if (!uint0_scan(l.arg, &max) || !max || max > KEYS_MAX) strerr_dieusage(100, USAGE) ; break ;
        case 'L' : st.local = 1 ; break ;
        case 'd' : if (!logline_dayok(l.arg, strlen(l.arg))) strerr_dieusage(100, USAGE) ; st.undated = l.arg ; break ;
        case 'l' : st.listing = 1 ; break ;
        case 'r' : st.want_rcpt = l.arg ; break ;
        case 's' : st.want_sender = l.arg ; break ;
        default : strerr_dieusage(100, USAGE) ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if ((st.want_rcpt || st.want_sender) && !st.listing) strerr_dieusage(100, USAGE) ;
  st.senders.max = st.sdomains.max = st.spf.max = max ;
  st.screen[0].max = st.screen[1].max = max ;
  st.days.max = st.reasons.max = st.ips.max = st.rcpts.max = st.programs.max = st.results.max = st.messages.max = st.tls.max = st.grey.max = max ;

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

  if (st.listing)
  {
    if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
    return 0 ;
  }
  for (i = 0 ; i < SKIP_N ; i++) skipped += st.skipped[i] ;
  puts_("mxguard report: ") ;
  putnum(st.lines, 0) ; puts_(" lines, ") ;
  putnum(st.decisions, 0) ; puts_(" decisions, ") ;
  putnum(st.msgs, 0) ; puts_(" other messages, ") ;
  putnum(skipped, 0) ; puts_(" skipped; days ") ;
  puts_(st.local ? "in local time" : "in UTC") ; puts_("\n") ;

  bykind("TOTALS PER DAY", "day", "days", &st.days, 1, 1, 0, max) ;
  tls_days(max) ;
  grey_days(max) ;
  screen_days(max) ;
  ranked("REFUSALS BY REASON", "program/result", "reasons", &st.reasons, top, max) ;
  ranked("CLIENT ADDRESSES REFUSED", "ip", "addresses", &st.ips, top, max) ;
  ranked("RECIPIENTS REFUSED", "rcpt", "recipients", &st.rcpts, top, max) ;
  per_day("SENDERS REFUSED PER DAY (rcptchecks)", "sender", &st.senders, top, max) ;
  per_day("SENDER DOMAINS REFUSED PER DAY (rcptchecks)", "domain", &st.sdomains, top, max) ;
  per_day("SPF RESULTS PER DAY (rcptchecks -E spf)", "result", &st.spf, 0, max) ;
  bykind("SESSIONS PER PROGRAM", "program", "programs", &st.programs, 0, 1, 0, max) ;
  bykind("DECISIONS BY PROGRAM AND RESULT", "program/result", "results", &st.results, 0, 0, top, max) ;
  ranked("OTHER MESSAGES OF THE PROGRAMS", "program level", "kinds", &st.messages, top, max) ;

  puts_("\nSKIPPED LINES\n") ;
  if (!skipped) puts_("  none\n") ;
  else
  {
    puts_("      count  why\n") ;
    for (i = 0 ; i < SKIP_N ; i++)
      if (st.skipped[i]) { putnum(st.skipped[i], 11) ; puts_("  ") ; puts_(skipname[i]) ; puts_("\n") ; }
  }
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
