/* logline: see logline.h.
 *
 * Values the client controls can hold blanks and "result=": smtp-delay's
 * first= (it comes last, after result=) and rcptchecks' rcpt=<ADDR> (a
 * quoted local part). So the result is the first result= token, and
 * scanning stops at the keys whose values run to the end of the line
 * (first=, reason=, error=); a rcpt= line is read from its end, where
 * rcptchecks' own fields are.
 */
#include "logline.h"

#include <string.h>
#include <time.h>

/* multilog's TAI64N labels: 2^62 + 10 + seconds since the epoch
   (daemontools' convention, which tai64nlocal undoes) */
#define TAI_BASE 4611686018427387914ULL
#define SECS_MAX 253402300799ULL   /* 9999-12-31 23:59:59 */
#define RESULT_MAX 32

static char const *const progs[] = { "smtp-delay", "rblenv", "rcptchecks", "relaydb-check", "relaydb-rec", "smtp-tls", "proxy-env", "smtp-forward", "smtp-screen", 0 } ;

static int isdig (char c) { return c >= '0' && c <= '9' ; }

static int hexval (char c)
{
  if (isdig(c)) return c - '0' ;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10 ;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10 ;
  return -1 ;
}

static int has (char const *s, size_t len, char const *lit)
{
  size_t n = strlen(lit) ;
  return len >= n && !memcmp(s, lit, n) ;
}

static int eq (char const *s, size_t len, char const *lit)
{
  return strlen(lit) == len && !memcmp(s, lit, len) ;
}

int logline_dayok (char const *s, size_t len)
{
  unsigned int m, d ;
  if (len != 10 || s[4] != '-' || s[7] != '-') return 0 ;
  if (!isdig(s[0]) || !isdig(s[1]) || !isdig(s[2]) || !isdig(s[3])
   || !isdig(s[5]) || !isdig(s[6]) || !isdig(s[8]) || !isdig(s[9])) return 0 ;
  m = (unsigned int)(s[5] - '0') * 10 + (unsigned int)(s[6] - '0') ;
  d = (unsigned int)(s[8] - '0') * 10 + (unsigned int)(s[9] - '0') ;
  return m >= 1 && m <= 12 && d >= 1 && d <= 31 ;
}

static void fmtday (char *day, unsigned int y, unsigned int m, unsigned int d)
{
  day[0] = (char)('0' + y / 1000 % 10) ; day[1] = (char)('0' + y / 100 % 10) ;
  day[2] = (char)('0' + y / 10 % 10) ; day[3] = (char)('0' + y % 10) ;
  day[4] = '-' ; day[5] = (char)('0' + m / 10) ; day[6] = (char)('0' + m % 10) ;
  day[7] = '-' ; day[8] = (char)('0' + d / 10) ; day[9] = (char)('0' + d % 10) ;
  day[10] = 0 ;
}

int logline_day (uint64_t secs, int local, char *day)
{
  if (secs > SECS_MAX) return 0 ;
  if (local)
  {
    struct tm tm ;
    time_t t = (time_t)secs ;
    if ((uint64_t)t != secs || !localtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) return 0 ;
    fmtday(day, (unsigned int)(tm.tm_year + 1900), (unsigned int)tm.tm_mon + 1, (unsigned int)tm.tm_mday) ;
    return 1 ;
  }
  {
    /* the civil date of a count of days (H. Hinnant's algorithm) */
    uint64_t z = secs / 86400 + 719468 ;
    uint64_t era = z / 146097, doe = z - era * 146097 ;
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365 ;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100) ;
    uint64_t mp = (5 * doy + 2) / 153 ;
    uint64_t d = doy - (153 * mp + 2) / 5 + 1 ;
    uint64_t m = mp < 10 ? mp + 3 : mp - 9 ;
    uint64_t y = yoe + era * 400 + (m <= 2) ;
    fmtday(day, (unsigned int)y, (unsigned int)m, (unsigned int)d) ;
    return 1 ;
  }
}

/* the stamp at the start of s: its length with the blanks after it, 0
   if there is none, -1 if it is a TAI64N label we cannot use */
static long stamp (char const *s, size_t len, logline *l)
{
  size_t i = 0 ;
  if (len && s[0] == '@')
  {
    uint64_t label = 0 ;
    if (len < 26) return -1 ;
    for (i = 1 ; i <= 24 ; i++)
    {
      int v = hexval(s[i]) ;
      if (v < 0) return -1 ;
      if (i <= 16) label = label << 4 | (uint64_t)v ;
    }
    if (s[25] != ' ' || label < TAI_BASE || label - TAI_BASE > SECS_MAX) return -1 ;
    l->stamp = STAMP_TAI64N ;
    l->secs = label - TAI_BASE ;
    i = 25 ;
  }
  else
  {
    /* YYYY-MM-DD HH:MM:SS[.frac] */
    if (len < 20 || !logline_dayok(s, 10) || (s[10] != ' ' && s[10] != 'T')
     || !isdig(s[11]) || !isdig(s[12]) || s[13] != ':' || !isdig(s[14]) || !isdig(s[15])
     || s[16] != ':' || !isdig(s[17]) || !isdig(s[18])) return 0 ;
    i = 19 ;
    if (s[i] == '.') { i++ ; while (i < len && isdig(s[i])) i++ ; }
    if (i >= len || s[i] != ' ') return 0 ;
    l->stamp = STAMP_LOCAL ;
    l->stampstr = s ;
    memcpy(l->day, s, 10) ;
    l->day[10] = 0 ;
  }
  while (i < len && s[i] == ' ') i++ ;
  return (long)i ;
}

static int wordok (char const *s, size_t n)
{
  size_t i ;
  if (!n || n > RESULT_MAX) return 0 ;
  for (i = 0 ; i < n ; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || isdig(s[i]) || s[i] == '-' || s[i] == '_')) return 0 ;
  return 1 ;
}

/* t (n bytes) is what follows "> result=" at the end of a rcpt= line,
   "WORD[ dryrun=1] delay=S.MMM[ greylist=WORD][ spf=RESULT]": the word's
   length, or 0 */
static size_t rcpt_tail (char const *t, size_t n, int *dry, logline *l)
{
  size_t w = 0, i ;
  while (w < n && t[w] != ' ') w++ ;
  if (!wordok(t, w)) return 0 ;
  i = w ;
  *dry = 0 ;
  if (has(t + i, n - i, " dryrun=1")) { *dry = 1 ; i += 9 ; }
  if (!has(t + i, n - i, " delay=")) return 0 ;
  i += 7 ;
  if (i >= n || !isdig(t[i])) return 0 ;
  while (i < n && isdig(t[i])) i++ ;
  if (i < n && t[i] == '.') { i++ ; while (i < n && isdig(t[i])) i++ ; }
  if (has(t + i, n - i, " greylist="))
  {
    /* greylisting's word (rcptchecks' greylist.h) */
    size_t g = i + 10, e = g ;
    while (e < n && t[e] != ' ') e++ ;
    if (!wordok(t + g, e - g)) return 0 ;
    l->grey = t + g ; l->greylen = e - g ;
    i = e ;
  }
  if (has(t + i, n - i, " spf=") && wordok(t + i + 5, n - i - 5)) i = n ;
  return i == n ? w : 0 ;
}

/* a rcpt= line of rcptchecks: s is "rcpt=<ADDR> result=..." */
static int rcpt_line (char const *s, size_t n, logline *l)
{
  static char const mark[] = "> result=" ;
  size_t const m = sizeof mark - 1 ;
  size_t p ;
  int dry ;
  /* the last "> result=" with rcptchecks' tail after it */
  for (p = n >= m ? n - m + 1 : 0 ; p-- > 6 ;)
  {
    size_t w ;
    if (memcmp(s + p, mark, m)) continue ;
    w = rcpt_tail(s + p + m, n - p - m, &dry, l) ;
    if (!w) continue ;
    l->rcpt = s + 6 ; l->rcptlen = p - 6 ;
    l->result = s + p + m ; l->resultlen = w ;
    l->dryrun = dry ;
    return 1 ;
  }
  /* a warning: "> result=tempfail[ dryrun=1] error=TEXT", TEXT to the end */
  for (p = 6 ; p + m + 8 <= n ; p++)
  {
    char const *t ;
    size_t left ;
    if (memcmp(s + p, "> result=tempfail", m + 8)) continue ;
    t = s + p + m + 8 ; left = n - p - m - 8 ;
    dry = 0 ;
    if (has(t, left, " dryrun=1")) { dry = 1 ; t += 9 ; left -= 9 ; }
    if (!has(t, left, " error=")) continue ;
    l->rcpt = s + 6 ; l->rcptlen = p - 6 ;
    l->result = s + p + m ; l->resultlen = 8 ;
    l->dryrun = dry ;
    return 1 ;
  }
  return 0 ;
}

/* the other lines: the first result= token, up to a key whose value
   runs to the end of the line */
static int result_token (char const *s, size_t n, logline *l)
{
  size_t i = 0 ;
  while (i < n)
  {
    size_t j = i ;
    while (j < n && s[j] != ' ') j++ ;
    if (has(s + i, j - i, "first=") || has(s + i, j - i, "reason=") || has(s + i, j - i, "error=")) break ;
    if (eq(s + i, j - i, "dryrun=1")) l->dryrun = 1 ;
    else if (!l->result && has(s + i, j - i, "result="))
    {
      l->result = s + i + 7 ;
      l->resultlen = j - i - 7 ;
    }
    i = j + 1 ;
  }
  return !!l->result ;
}

struct rule { char const *prog ; int rcpt ; char const *const *words ; enum logline_kind kind ; } ;

static char const *const sd_refused[] = { "refused", 0 } ;
static char const *const sd_dry[] = { "early", 0 } ;
static char const *const sd_passed[] = { "pass", "trusted", 0 } ;
static char const *const rb_refused[] = { "refused", "late", 0 } ;
static char const *const rb_passed[] = { "allowed", "clean", "trusted", "decided", 0 } ;
static char const *const rr_refused[] = { "unknown", "rbllate", "syntax", "nodomain", "literal", "parameter", "tempfail",
  "notutf8", "needutf8", "greylisted", 0 } ;
static char const *const rr_passed[] = { "known", "foreign", "postmaster", 0 } ;
static char const *const rs_refused[] = { "too-many-unknown", "bare-lf", "lookups-failed", "out-of-step", "tempfail",
  "helo-invalid", "helo-not-fqdn", "helo-literal", "sender-not-fqdn", "sender-unknown", "sender-nullmx", "sender-tempfail",
  "sender-rejected", "sender-too-long", "rhsbl", "spf-rejected", "spf-deferred", "pipelining", "nonsmtp", 0 } ;
static char const *const rs_passed[] = { "quit", "client-eof", "child-exit", "child-421", "child-closed", "trusted", "sender-ok", "spf-accepted", 0 } ;
static char const *const st_refused[] = { "bare-lf", "out-of-step", 0 } ;
static char const *const st_passed[] = { "quit", "client-eof", "child-exit", "child-421", "child-closed", 0 } ;
static char const *const pe_refused[] = { "refused", 0 } ;
static char const *const pe_passed[] = { "proxy", "local", 0 } ;
static char const *const sf_refused[] = { "unavailable", 0 } ;
static char const *const sf_passed[] = { "closed", "idle", "client-gone", 0 } ;
static char const *const dc_passed[] = { "relay", "trusted", "unknown", "expired", 0 } ;
static char const *const dr_passed[] = { "recorded", 0 } ;
static char const *const ss_refused[] = { "refused", "deny", "limit", "proxy-refused", 0 } ;
static char const *const ss_passed[] = { "pass", 0 } ;
/* the results that are neither (hangups, errors, timeouts): listed so
   that t/report-words.t can hold every program's words against these */
static char const *const sd_other[] = { "hangup", 0 } ;
static char const *const rb_other[] = { "error", 0 } ;
static char const *const rs_other[] = { "client-gone", "timeout", "child-died", "child-timeout", "poll-error", 0 } ;
static char const *const st_other[] = { "client-gone", "timeout", "child-died", "child-timeout", "poll-error",
  "handshake-failed", "handshake-timeout", 0 } ;
static char const *const dc_other[] = { "error", 0 } ;
static char const *const dr_other[] = { "error", "pending", 0 } ;
static char const *const ss_other[] = { "hangup", "busy", "error", "end", "stop", "reopened", "saved", "loaded", 0 } ;

/* KIND_REFUSED becomes KIND_DRYRUN on a dryrun=1 line; a word no row
   names is KIND_OTHER as well as those of the KIND_OTHER rows */
static struct rule const rules[] =
{
  { "smtp-delay", 0, sd_refused, KIND_REFUSED },
  { "smtp-delay", 0, sd_dry, KIND_DRYRUN },
  { "smtp-delay", 0, sd_passed, KIND_PASSED },
  { "rblenv", 0, rb_refused, KIND_REFUSED },
  { "rblenv", 0, rb_passed, KIND_PASSED },
  { "rcptchecks", 1, rr_refused, KIND_REFUSED },
  { "rcptchecks", 1, rr_passed, KIND_PASSED },
  { "rcptchecks", 0, rs_refused, KIND_REFUSED },
  { "rcptchecks", 0, rs_passed, KIND_PASSED },
  { "smtp-tls", 0, st_refused, KIND_REFUSED },
  { "smtp-tls", 0, st_passed, KIND_PASSED },
  { "proxy-env", 0, pe_refused, KIND_REFUSED },
  { "proxy-env", 0, pe_passed, KIND_PASSED },
  { "smtp-forward", 0, sf_refused, KIND_REFUSED },
  { "smtp-forward", 0, sf_passed, KIND_PASSED },
  { "relaydb-check", 0, dc_passed, KIND_PASSED },
  { "relaydb-rec", 0, dr_passed, KIND_PASSED },
  { "smtp-screen", 0, ss_refused, KIND_REFUSED },
  { "smtp-screen", 0, ss_passed, KIND_PASSED },
  { "smtp-delay", 0, sd_other, KIND_OTHER },
  { "rblenv", 0, rb_other, KIND_OTHER },
  { "rcptchecks", 0, rs_other, KIND_OTHER },
  { "smtp-tls", 0, st_other, KIND_OTHER },
  { "relaydb-check", 0, dc_other, KIND_OTHER },
  { "relaydb-rec", 0, dr_other, KIND_OTHER },
  { "smtp-screen", 0, ss_other, KIND_OTHER },
  { 0, 0, 0, KIND_OTHER }
} ;

enum logline_kind logline_kind (char const *prog, size_t proglen, char const *result, size_t resultlen, int rcptline, int dryrun)
{
  struct rule const *r ;
  for (r = rules ; r->prog ; r++)
  {
    char const *const *w ;
    if (!eq(prog, proglen, r->prog) || r->rcpt != !!rcptline) continue ;
    for (w = r->words ; *w ; w++)
      if (eq(result, resultlen, *w))
        return r->kind == KIND_REFUSED && dryrun ? KIND_DRYRUN : r->kind ;
  }
  return KIND_OTHER ;
}

enum logline_type logline_parse (char const *s, size_t len, logline *l)
{
  size_t i, j ;
  long st ;
  memset(l, 0, sizeof *l) ;
  st = stamp(s, len, l) ;
  if (st < 0) return LOGLINE_BADSTAMP ;
  s += st ; len -= (size_t)st ;

  for (i = 0 ; progs[i] ; i++)
  {
    size_t n = strlen(progs[i]) ;
    if (len > n + 1 && !memcmp(s, progs[i], n) && s[n] == ':' && s[n+1] == ' ') break ;
  }
  if (!progs[i]) return LOGLINE_FOREIGN ;
  l->prog = s ; l->proglen = strlen(progs[i]) ;
  s += l->proglen + 2 ; len -= l->proglen + 2 ;

  /* the level: a word and a colon */
  for (j = 0 ; j < len && s[j] >= 'a' && s[j] <= 'z' ; j++) ;
  if (!j || j > 16 || j >= len || s[j] != ':') return LOGLINE_MALFORMED ;
  l->level = s ; l->levellen = j ;
  if (!eq(s, j, "info") && !eq(s, j, "warning")) return LOGLINE_MESSAGE ;
  if (j + 1 >= len || s[j+1] != ' ') return LOGLINE_MALFORMED ;
  s += j + 2 ; len -= j + 2 ;

  /* pid N ip A */
  if (!has(s, len, "pid ")) return LOGLINE_MALFORMED ;
  for (j = 4 ; j < len && isdig(s[j]) ; j++) ;
  if (j == 4 || j > 24) return LOGLINE_MALFORMED ;
  s += j ; len -= j ;
  /* smtp-screen's lines of the listener itself (stop, cache, rules):
     no client, no decision */
  if (!has(s, len, " ip ") && eq(l->prog, l->proglen, "smtp-screen")) return LOGLINE_MESSAGE ;
  if (!has(s, len, " ip ")) return LOGLINE_MALFORMED ;
  s += 4 ; len -= 4 ;
  for (j = 0 ; j < len && s[j] != ' ' ; j++) ;
  if (!j || j >= len) return LOGLINE_MALFORMED ;
  l->ip = s ; l->iplen = j ;
  s += j + 1 ; len -= j + 1 ;

  /* rcptchecks' helo=<H> from=<F>: neither holds a blank or a '>' */
  if (eq(l->prog, l->proglen, "rcptchecks") && has(s, len, "helo=<"))
  {
    char const *e1 = memchr(s + 6, '>', len - 6), *e2 ;
    if (!e1 || (size_t)(e1 - s) + 8 > len || memcmp(e1, "> from=<", 8)) return LOGLINE_MALFORMED ;
    e2 = memchr(e1 + 8, '>', len - (size_t)(e1 + 8 - s)) ;
    if (!e2 || (size_t)(e2 - s) + 2 > len || e2[1] != ' ') return LOGLINE_MALFORMED ;
    l->helo = s + 6 ; l->helolen = (size_t)(e1 - s) - 6 ;
    l->from = e1 + 8 ; l->fromlen = (size_t)(e2 - e1) - 8 ;
    if (memchr(l->helo, ' ', l->helolen) || memchr(l->from, ' ', l->fromlen)) return LOGLINE_MALFORMED ;
    len -= (size_t)(e2 + 2 - s) ;
    s = e2 + 2 ;
  }
  if (eq(l->prog, l->proglen, "rcptchecks") && has(s, len, "rcpt=<"))
  {
    if (!rcpt_line(s, len, l)) return LOGLINE_MALFORMED ;
  }
  else if (!result_token(s, len, l))
    return eq(l->level, l->levellen, "warning") ? LOGLINE_MESSAGE : LOGLINE_MALFORMED ;
  if (!wordok(l->result, l->resultlen)) return LOGLINE_MALFORMED ;

  /* warnings that a decision line of their own follows */
  if (eq(l->prog, l->proglen, "relaydb-check") && eq(l->level, l->levellen, "warning") && eq(l->result, l->resultlen, "expired"))
    return LOGLINE_MESSAGE ;
  if (eq(l->prog, l->proglen, "relaydb-rec") && eq(l->result, l->resultlen, "pending"))
    return LOGLINE_MESSAGE ;

  l->kind = logline_kind(l->prog, l->proglen, l->result, l->resultlen, !!l->rcpt, l->dryrun) ;
  return LOGLINE_DECISION ;
}
