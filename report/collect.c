/* collect: see collect.h. */
#include "collect.h"

#include <stdlib.h>
#include <string.h>

#include <skalibs/gccattributes.h>
#include <skalibs/strerr.h>

struct collect_s rpt ;

char const *const collect_skipname[SKIP_N] =
{
  "not from an mxguard program",
  "NUL byte",
  "bytes outside printable ASCII",
  "longer than 32768 bytes",
  "unreadable time stamp",
  "an mxguard program's name, not its line form"
} ;
char const *const collect_kindname[TALLY_COLS] = { "refused", "dry-run", "passed", "other" } ;
char const *const collect_scname[SC_N] = { "passed", "cached", "partial", "limited", "pregreet", "dnsbl", "rules", "other" } ;

static char line[COLLECT_LINE_MAX] ;
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
      if (!memcmp(s + i, w[k].word, n)) { add(&rpt.tls, day, strlen(day), w[k].col) ; return ; }
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
  add(&rpt.spf, k, dl + 1 + n, 0) ;
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
  if (!tally_add(&rpt.screen[0], day, dl, 0, 0) || !tally_add(&rpt.screen[1], day, dl, 0, 0)) dienomem() ;
  for (i = 0 ; i < n ; i++) add(&rpt.screen[k[i] / TALLY_COLS], day, dl, k[i] % TALLY_COLS) ;
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
      add(&rpt.grey, day, strlen(day), w[k].col) ;
      return ;
    }
}

/* "prog/result", "prog/rcpt-result", with " (dry run)" when asked */
size_t collect_reason (char *out, logline const *l, int dry)
{
  size_t n = 0 ;
  memcpy(out, l->prog, l->proglen) ; n += l->proglen ;
  out[n++] = '/' ;
  if (l->rcpt) { memcpy(out + n, "rcpt-", 5) ; n += 5 ; }
  memcpy(out + n, l->result, l->resultlen) ; n += l->resultlen ;
  if (dry) { memcpy(out + n, " (dry run)", 10) ; n += 10 ; }
  return n ;
}


/* the last '@' of s (n bytes), or 0 */
static char const *last_at (char const *s, size_t n)
{
  while (n--) if (s[n] == '@') return s + n ;
  return 0 ;
}


static void oneline (char const *s, size_t len)
{
  logline l ;
  char day[11] ;
  char key[64] ;
  char const *d ;
  size_t i ;
  rpt.lines++ ;
  if (overlong) { rpt.skipped[SKIP_LONG]++ ; return ; }
  if (len && s[len-1] == '\r') len-- ;
  if (memchr(s, 0, len)) { rpt.skipped[SKIP_NUL]++ ; return ; }
  for (i = 0 ; i < len ; i++)
    if ((unsigned char)s[i] < 32 || (unsigned char)s[i] > 126) { rpt.skipped[SKIP_BINARY]++ ; return ; }
  switch (logline_parse(s, len, &l))
  {
    case LOGLINE_FOREIGN : rpt.skipped[SKIP_FOREIGN]++ ; return ;
    case LOGLINE_BADSTAMP : rpt.skipped[SKIP_STAMP]++ ; return ;
    case LOGLINE_MALFORMED : rpt.skipped[SKIP_MALFORMED]++ ; return ;
    case LOGLINE_MESSAGE :
    {
      size_t n = l.proglen ;
      memcpy(key, l.prog, n) ; key[n++] = ' ' ;
      memcpy(key + n, l.level, l.levellen) ; n += l.levellen ;
      rpt.msgs++ ;
      add(&rpt.messages, key, n, 0) ;
      return ;
    }
    case LOGLINE_DECISION : break ;
  }
  if (l.stamp == STAMP_TAI64N)
  {
    if (!logline_day(l.secs, rpt.local, day)) { rpt.skipped[SKIP_STAMP]++ ; return ; }
    d = day ;
  }
  else if (l.stamp == STAMP_LOCAL) d = l.day ;
  else d = rpt.undated ;
  rpt.decisions++ ;
  rpt.bystamp[l.stamp]++ ;
  if (rpt.listing)
  {
    if (l.kind == KIND_REFUSED || l.kind == KIND_DRYRUN) rpt.listing(&l, d) ;
    return ;
  }
  add(&rpt.days, d, strlen(d), l.kind) ;
  add(&rpt.results, key, collect_reason(key, &l, 0), l.kind) ;
  if (!l.rcpt) add(&rpt.programs, l.prog, l.proglen, l.kind) ;
  if (l.proglen == 8 && !memcmp(l.prog, "smtp-tls", 8)) tls_share(d, s, len) ;
  if (l.proglen == 11 && !memcmp(l.prog, "smtp-screen", 11)) screening(d, &l, s, len) ;
  if (l.grey) greylisting(d, &l) ;
  if (l.proglen == 10 && !memcmp(l.prog, "rcptchecks", 10)) spf_results(d, &l, s, len) ;
  if (l.kind == KIND_REFUSED || l.kind == KIND_DRYRUN)
  {
    char dk[11 + 1 + 64] ;
    size_t dl = strlen(d), n = collect_reason(key, &l, l.kind == KIND_DRYRUN) ;
    add(&rpt.reasons, key, n, 0) ;
    memcpy(dk, d, dl) ; dk[dl] = ' ' ; memcpy(dk + dl + 1, key, n) ;
    add(&rpt.dayreasons, dk, dl + 1 + n, 0) ;
  }
  if (l.kind == KIND_REFUSED)
  {
    add(&rpt.ips, l.ip, l.iplen, 0) ;
    if (l.rcpt) add(&rpt.rcpts, l.rcpt - 1, l.rcptlen + 2, 0) ;   /* with its <> */
    if (l.fromlen)
    {
      /* per day: "DAY <sender>" and "DAY domain" */
      char k[11 + 3 + TALLY_KEYMAX] ;
      size_t dl = strlen(d), fl = l.fromlen < TALLY_KEYMAX - 16 ? l.fromlen : TALLY_KEYMAX - 16 ;
      char const *at = last_at(l.from, l.fromlen) ;
      memcpy(k, d, dl) ; k[dl] = ' ' ; k[dl + 1] = '<' ;
      memcpy(k + dl + 2, l.from, fl) ; k[dl + 2 + fl] = '>' ;
      add(&rpt.senders, k, dl + 3 + fl, 0) ;
      add(&rpt.fromall, k + dl + 1, fl + 2, 0) ;
      if (at && at + 1 < l.from + l.fromlen)
      {
        size_t al = (size_t)(l.from + l.fromlen - at - 1) ;
        if (al > TALLY_KEYMAX - 16) al = TALLY_KEYMAX - 16 ;
        memcpy(k + dl + 1, at + 1, al) ;
        add(&rpt.sdomains, k, dl + 1 + al, 0) ;
      }
    }
  }
}

/* splits the bytes read into lines; an overlong line is counted once */
void collect_feed (char const *s, size_t n)
{
  while (n)
  {
    char const *nl = memchr(s, '\n', n) ;
    size_t k = nl ? (size_t)(nl - s) : n ;
    if (!overlong)
    {
      if (k > COLLECT_LINE_MAX - linelen) overlong = 1 ;
      else { memcpy(line + linelen, s, k) ; linelen += k ; }
    }
    if (!nl) return ;
    oneline(line, linelen) ;
    linelen = 0 ; overlong = 0 ;
    s += k + 1 ; n -= k + 1 ;
  }
}

void collect_end (void)
{
  if (linelen || overlong) oneline(line, linelen) ;   /* no final newline */
  linelen = 0 ; overlong = 0 ;
}

static tally *const tables[] =
{
  &rpt.screen[0], &rpt.screen[1], &rpt.days, &rpt.reasons, &rpt.ips, &rpt.rcpts, &rpt.programs, &rpt.results,
  &rpt.messages, &rpt.tls, &rpt.senders, &rpt.sdomains, &rpt.grey, &rpt.spf, &rpt.dayreasons, &rpt.fromall, 0
} ;

void collect_init (size_t max)
{
  tally *const *t ;
  for (t = tables ; *t ; t++) tally_free(*t) ;
  memset(&rpt, 0, sizeof rpt) ;
  for (t = tables ; *t ; t++) (*t)->max = max ;
  rpt.undated = "undated" ;
  linelen = 0 ; overlong = 0 ;
}

/* A date stamp (tai64nlocal's, the journal's) is counted under the day
   it names, in whatever zone wrote it; only TAI64N stamps follow -L. */
char const *collect_days_said (void)
{
  if (!rpt.bystamp[STAMP_LOCAL]) return rpt.local ? "in local time" : "in UTC" ;
  if (!rpt.bystamp[STAMP_TAI64N]) return "as the lines' date stamps name them" ;
  return rpt.local ? "in local time (TAI64N stamps) and as the date stamps name them"
                   : "in UTC (TAI64N stamps) and as the date stamps name them" ;
}
