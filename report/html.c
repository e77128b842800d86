/* html: see html.h. */
#include "html.h"

#include <stdlib.h>
#include <string.h>

#include <skalibs/gccattributes.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "collect.h"
#include "svg.h"
#include "tally.h"

#define CHART_BARS 20   /* the horizontal bars of a chart at most */
#define STACK_SERIES 8  /* the reasons a stacked chart tells apart */

static html_put_fn *out ;

/* the length of the UTF-8 sequence at s (n bytes) and its code point,
   or 0 if it is not one (RFC 3629: shortest form, no surrogates) */
static size_t utf8 (unsigned char const *s, size_t n, uint32_t *cp)
{
  size_t want, k ;
  uint32_t c, min ;
  if (s[0] < 0x80) { *cp = s[0] ; return 1 ; }
  if ((s[0] & 0xe0) == 0xc0) { want = 2 ; c = s[0] & 0x1f ; min = 0x80 ; }
  else if ((s[0] & 0xf0) == 0xe0) { want = 3 ; c = s[0] & 0x0f ; min = 0x800 ; }
  else if ((s[0] & 0xf8) == 0xf0) { want = 4 ; c = s[0] & 0x07 ; min = 0x10000 ; }
  else return 0 ;
  if (n < want) return 0 ;
  for (k = 1 ; k < want ; k++)
  {
    if ((s[k] & 0xc0) != 0x80) return 0 ;
    c = c << 6 | (s[k] & 0x3f) ;
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0 ;
  *cp = c ;
  return want ;
}

static void hexesc (html_put_fn *put, char const *pre, uint32_t c, unsigned int digits)
{
  static char const hex[] = "0123456789ABCDEF" ;
  char b[8] ;
  unsigned int i ;
  for (i = 0 ; i < digits ; i++) b[i] = hex[c >> (4 * (digits - 1 - i)) & 15] ;
  put(pre, 2) ; put(b, digits) ;
}

void html_text (html_put_fn *put, char const *s, size_t n)
{
  unsigned char const *u = (unsigned char const *)s ;
  size_t i = 0, run = 0 ;
  while (i < n)
  {
    char const *ent = 0 ;
    uint32_t cp ;
    size_t k = utf8(u + i, n - i, &cp) ;
    if (k == 1 && cp >= 0x20 && cp != 0x7f)
    {
      switch (cp)
      {
        case '&' : ent = "&amp;" ; break ;
        case '<' : ent = "&lt;" ; break ;
        case '>' : ent = "&gt;" ; break ;
        case '"' : ent = "&quot;" ; break ;
        case '\'' : ent = "&#39;" ; break ;
        default : run++ ; i++ ; continue ;
      }
    }
    else if (k > 1 && cp >= 0xa0 && !(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069))
    {
      run += k ; i += k ; continue ;
    }
    /* not plain text: what came before it, then it escaped */
    if (run) put(s + i - run, run) ;
    run = 0 ;
    if (ent) { put(ent, strlen(ent)) ; i++ ; }
    else if (!k) { hexesc(put, "\\x", u[i], 2) ; i++ ; }   /* not UTF-8 */
    else if (k == 1) { hexesc(put, "\\x", cp, 2) ; i++ ; }   /* a control character */
    else { hexesc(put, "\\u", cp, 4) ; i += k ; }            /* C1 controls, direction overrides */
  }
  if (run) put(s + n - run, run) ;
}

void html_texts (html_put_fn *put, char const *s) { html_text(put, s, strlen(s)) ; }

void html_num (html_put_fn *put, uint64_t u)
{
  char fmt[UINT64_FMT] ;
  put(fmt, uint64_fmt(fmt, u)) ;
}

/* markup: only from this file's literals */
static void lit (char const *s) { out(s, strlen(s)) ; }
static void txt (char const *s, size_t n) { html_text(out, s, n) ; }
static void txts (char const *s) { html_texts(out, s) ; }
static void num (uint64_t u) { html_num(out, u) ; }

static void dienomem (void) gccattr_noreturn ;
static void dienomem (void)
{
  strerr_diefusys(111, "write the page") ;
}

static tally_entry **sorted (tally const *t, int bykey)
{
  tally_entry **a = tally_sorted(t, bykey) ;
  if (t->count && !a) dienomem() ;
  return a ;
}

/* "66.7%" of n over d, "-" when d is 0 */
static void pct (uint64_t n, uint64_t d)
{
  uint64_t tenths ;
  char c ;
  if (!d) { lit("-") ; return ; }
  tenths = (uint64_t)((long double)n * 1000 / d + 0.5L) ;
  num(tenths / 10) ; c = (char)('0' + tenths % 10) ;
  lit(".") ; out(&c, 1) ; lit("%") ;
}

/* a table: its caption, its column heads; the first column heads rows */
static void table (char const *caption, char const *const *cols)
{
  lit("<table>\n<caption>") ; txts(caption) ; lit("</caption>\n<thead><tr>") ;
  for (; *cols ; cols++) { lit("<th scope=\"col\">") ; txts(*cols) ; lit("</th>") ; }
  lit("</tr></thead>\n<tbody>\n") ;
}

static void endtable (void) { lit("</tbody>\n</table>\n") ; }
static void rowhead (char const *s, size_t n) { lit("<tr><th scope=\"row\">") ; txt(s, n) ; lit("</th>") ; }
static void cell (uint64_t u) { lit("<td>") ; num(u) ; lit("</td>") ; }
static void celltxt (char const *s, size_t n) { lit("<td class=\"key\">") ; txt(s, n) ; lit("</td>") ; }
static void endrow (void) { lit("</tr>\n") ; }
static void none (void) { lit("<tr><td colspan=\"9\">none</td></tr>\n") ; }

static void section (char const *title)
{
  lit("<section>\n<h2>") ; txts(title) ; lit("</h2>\n") ;
}

static void endsection (void) { lit("</section>\n") ; }

static void note_full (tally const *t, char const *what, size_t max)
{
  if (!t->full) return ;
  lit("<p>") ;
  txts("More than ") ; num(max) ; txts(" distinct ") ; txts(what) ;
  txts(": the counts of later ones, ") ; num(t->overtotal) ; txts(", are under (beyond the limit).") ;
  lit("</p>\n") ;
}

/* count, key; the top entries (0: all) */
static void ranked (char const *title, char const *col, char const *what, tally const *t, size_t top, size_t max)
{
  tally_entry **a = sorted(t, 0) ;
  char const *cols[] = { col, "count", 0 } ;
  size_t i, shown = top && t->count > top ? top : t->count ;
  uint64_t rest = 0 ;
  table(title, cols) ;
  if (!t->count && !t->full) none() ;
  for (i = 0 ; i < t->count ; i++)
  {
    if (i >= shown) { rest += a[i]->total ; continue ; }
    rowhead(a[i]->key, a[i]->len) ; cell(a[i]->total) ; endrow() ;
  }
  if (shown < t->count)
  {
    lit("<tr><th scope=\"row\">(") ; num(t->count - shown) ; txts(" more ") ; txts(what) ; lit(")</th>") ;
    cell(rest) ; endrow() ;
  }
  if (t->full) { rowhead("(beyond the limit)", 18) ; cell(t->overtotal) ; endrow() ; }
  endtable() ;
  note_full(t, what, max) ;
  free(a) ;
}

/* the top of each day of "DAY key" entries */
static void per_day (char const *title, char const *col, tally const *t, size_t top, size_t max)
{
  tally_entry **days = sorted(&rpt.days, 1), **a = sorted(t, 0) ;
  char const *cols[] = { "day", "count", col, 0 } ;
  size_t i, j ;
  table(title, cols) ;
  if (!t->count && !t->full) none() ;
  for (i = 0 ; i < rpt.days.count ; i++)
  {
    size_t shown = 0, dl = days[i]->len ;
    for (j = 0 ; j < t->count ; j++)
    {
      if (a[j]->len <= dl || memcmp(a[j]->key, days[i]->key, dl) || a[j]->key[dl] != ' ') continue ;
      if (top && shown == top) break ;
      rowhead(days[i]->key, dl) ; cell(a[j]->total) ; celltxt(a[j]->key + dl + 1, a[j]->len - dl - 1) ; endrow() ;
      shown++ ;
    }
  }
  if (t->full) { rowhead("(beyond the limit)", 18) ; cell(t->overtotal) ; lit("<td></td>") ; endrow() ; }
  endtable() ;
  note_full(t, "keys", max) ;
  free(days) ; free(a) ;
}

/* a column per kind: refused, dry-run, passed, other */
static void bykind (char const *title, char const *col, char const *what, tally const *t, int bykey, int withall, size_t top, size_t max)
{
  tally_entry **a = sorted(t, bykey) ;
  char const *cols[] = { col, collect_kindname[0], collect_kindname[1], collect_kindname[2], collect_kindname[3], 0 } ;
  size_t i, shown = top && t->count > top ? top : t->count ;
  unsigned int k ;
  uint64_t sum[TALLY_COLS] = { 0, 0, 0, 0 }, rest[TALLY_COLS] = { 0, 0, 0, 0 } ;
  table(title, cols) ;
  if (!t->count && !t->full) none() ;
  for (i = 0 ; i < t->count ; i++)
  {
    for (k = 0 ; k < TALLY_COLS ; k++) sum[k] += a[i]->n[k] ;
    if (i >= shown) { for (k = 0 ; k < TALLY_COLS ; k++) rest[k] += a[i]->n[k] ; continue ; }
    rowhead(a[i]->key, a[i]->len) ;
    for (k = 0 ; k < TALLY_COLS ; k++) cell(a[i]->n[k]) ;
    endrow() ;
  }
  if (shown < t->count)
  {
    lit("<tr><th scope=\"row\">") ; num(t->count - shown) ; txts(" more") ; lit("</th>") ;
    for (k = 0 ; k < TALLY_COLS ; k++) cell(rest[k]) ;
    endrow() ;
  }
  if (t->full)
  {
    rowhead("(beyond the limit)", 18) ;
    for (k = 0 ; k < TALLY_COLS ; k++) { cell(t->over[k]) ; sum[k] += t->over[k] ; }
    endrow() ;
  }
  if (withall && (t->count || t->full))
  {
    rowhead("all", 3) ;
    for (k = 0 ; k < TALLY_COLS ; k++) cell(sum[k]) ;
    endrow() ;
  }
  endtable() ;
  note_full(t, what, max) ;
  free(a) ;
}

/* the days of a per-day table as chart labels */
static svg_label *labels (tally_entry *const *a, size_t n)
{
  svg_label *x = malloc((n ? n : 1) * sizeof *x) ;
  size_t i ;
  if (!x) dienomem() ;
  for (i = 0 ; i < n ; i++) { x[i].s = a[i]->key ; x[i].len = a[i]->len ; }
  return x ;
}

static uint64_t *counts (size_t n, size_t m)
{
  uint64_t *v ;
  if (m && n > (size_t)-1 / sizeof *v / m) dienomem() ;
  v = calloc(n && m ? n * m : 1, sizeof *v) ;
  if (!v) dienomem() ;
  return v ;
}

/* a per-day table of ncols counts, from one or two tallies of the same
   days (cols beyond TALLY_COLS in b), with a chart of them; share: the
   percentage of column 0 over columns 0..share-1 (share > 0), or of
   column 0 less column 2 over column 0 (share < 0, greylisting's never
   back), as a last column named last */
static void days_table (char const *title, char const *chart, tally const *t, tally const *t2,
  char const *const *names, size_t ncols, int share, char const *last, size_t max)
{
  tally_entry **a = sorted(t, 1), **b = t2 ? sorted(t2, 1) : 0 ;
  char const *cols[12] ;
  uint64_t sum[SC_N] = { 0 } ;
  size_t i, k ;
  cols[0] = "day" ;
  for (k = 0 ; k < ncols ; k++) cols[k + 1] = names[k] ;
  cols[ncols + 1] = share ? last : 0 ;
  cols[ncols + 2] = 0 ;
  section(title) ;
  if (t->count && chart)
  {
    svg_label *x = labels(a, t->count), nm[SC_N] ;
    uint64_t *v = counts(t->count, ncols) ;
    for (k = 0 ; k < ncols ; k++) { nm[k].s = names[k] ; nm[k].len = strlen(names[k]) ; }
    for (i = 0 ; i < t->count ; i++)
      for (k = 0 ; k < ncols ; k++) v[i * ncols + k] = (k < TALLY_COLS ? a[i] : b[i])->n[k % TALLY_COLS] ;
    svg_stacked(out, chart, x, t->count, nm, ncols, v, share > 0) ;
    free(x) ; free(v) ;
  }
  table(title, cols) ;
  if (!t->count && !t->full) none() ;
  for (i = 0 ; t->count && i <= t->count ; i++)
  {
    uint64_t n[SC_N] = { 0 } ;
    for (k = 0 ; k < ncols ; k++)
    {
      n[k] = i < t->count ? (k < TALLY_COLS ? a[i] : b[i])->n[k % TALLY_COLS] : sum[k] ;
      if (i < t->count) sum[k] += n[k] ;
    }
    if (i < t->count) rowhead(a[i]->key, a[i]->len) ; else rowhead("all", 3) ;
    for (k = 0 ; k < ncols ; k++) cell(n[k]) ;
    if (share > 0)
    {
      uint64_t all = 0 ;
      for (k = 0 ; k < (size_t)share ; k++) all += n[k] ;
      lit("<td>") ; pct(n[0], all) ; lit("</td>") ;
    }
    else if (share < 0) { lit("<td>") ; pct(n[0] > n[2] ? n[0] - n[2] : 0, n[0]) ; lit("</td>") ; }
    endrow() ;
  }
  endtable() ;
  note_full(t, "days", max) ;
  endsection() ;
  free(a) ; free(b) ;
}

/* the index of key (n bytes) in a (sorted by key), or -1 */
static long find (tally_entry *const *a, size_t count, char const *key, size_t n)
{
  size_t lo = 0, hi = count ;
  while (lo < hi)
  {
    size_t mid = lo + (hi - lo) / 2, l = a[mid]->len < n ? a[mid]->len : n ;
    int c = memcmp(a[mid]->key, key, l) ;
    if (!c) c = a[mid]->len < n ? -1 : a[mid]->len > n ;
    if (!c) return (long)mid ;
    if (c < 0) lo = mid + 1 ; else hi = mid ;
  }
  return -1 ;
}

/* refusals per day by reason: the reasons refused most apart, the rest
   together; a chart and its table */
static void reasons_days (size_t max)
{
  tally_entry **days = sorted(&rpt.days, 1), **r = sorted(&rpt.reasons, 0), **dr = sorted(&rpt.dayreasons, 1) ;
  size_t ns = rpt.reasons.count > STACK_SERIES ? STACK_SERIES : rpt.reasons.count ;
  size_t i, k ;
  svg_label nm[STACK_SERIES] ;
  uint64_t *v ;
  section("Refusals per day by reason") ;
  if (!rpt.dayreasons.count) { lit("<p>") ; txts("No refusals.") ; lit("</p>\n") ; endsection() ; free(days) ; free(r) ; free(dr) ; return ; }
  for (k = 0 ; k < ns ; k++) { nm[k].s = r[k]->key ; nm[k].len = r[k]->len ; }
  if (rpt.reasons.count > STACK_SERIES) { nm[ns - 1].s = "(other reasons)" ; nm[ns - 1].len = 15 ; }
  v = counts(rpt.days.count, ns) ;
  for (i = 0 ; i < rpt.dayreasons.count ; i++)
  {
    char const *sp = memchr(dr[i]->key, ' ', dr[i]->len) ;
    long d ;
    size_t dl, s ;
    if (!sp) continue ;
    dl = (size_t)(sp - dr[i]->key) ;
    d = find(days, rpt.days.count, dr[i]->key, dl) ;
    if (d < 0) continue ;
    for (s = 0 ; s < ns ; s++)
      if (nm[s].len == dr[i]->len - dl - 1 && !memcmp(nm[s].s, sp + 1, nm[s].len)) break ;
    if (s == ns || (rpt.reasons.count > STACK_SERIES && s == ns - 1)) s = ns - 1 ;
    v[(size_t)d * ns + s] += dr[i]->total ;
  }
  {
    svg_label *x = labels(days, rpt.days.count) ;
    svg_stacked(out, "Refusals per day by reason", x, rpt.days.count, nm, ns, v, 0) ;
    free(x) ;
  }
  /* the heads are log words: written by hand */
  lit("<table>\n<caption>") ; txts("Refusals per day by reason") ; lit("</caption>\n<thead><tr><th scope=\"col\">day</th>") ;
  for (k = 0 ; k < ns ; k++) { lit("<th scope=\"col\">") ; txt(nm[k].s, nm[k].len) ; lit("</th>") ; }
  lit("<th scope=\"col\">all</th></tr></thead>\n<tbody>\n") ;
  for (i = 0 ; i < rpt.days.count ; i++)
  {
    uint64_t all = 0 ;
    rowhead(days[i]->key, days[i]->len) ;
    for (k = 0 ; k < ns ; k++) { cell(v[i * ns + k]) ; all += v[i * ns + k] ; }
    cell(all) ; endrow() ;
  }
  endtable() ;
  note_full(&rpt.dayreasons, "keys", max) ;
  endsection() ;
  free(v) ; free(days) ; free(r) ; free(dr) ;
}

/* a chart of the top of a ranked table, then the table */
static void top_chart (char const *title, char const *chart, char const *col, char const *what, tally const *t, size_t top, size_t max)
{
  section(title) ;
  if (t->count)
  {
    tally_entry **a = sorted(t, 0) ;
    size_t n = t->count < CHART_BARS ? t->count : CHART_BARS, i ;
    svg_label *x = labels(a, n) ;
    uint64_t *v = counts(n, 1) ;
    if (top && n > top) n = top ;
    for (i = 0 ; i < n ; i++) v[i] = a[i]->total ;
    svg_hbars(out, chart, x, v, n) ;
    free(x) ; free(v) ; free(a) ;
  }
  ranked(title, col, what, t, top, max) ;
  endsection() ;
}

static char const style[] =
  "body{font-family:sans-serif;margin:1em 2em;color:#222;background:#fff}"
  "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
  "caption{text-align:left;font-weight:bold;padding:0.3em 0}"
  "th,td{border:1px solid #ccc;padding:0.15em 0.6em}"
  "td{text-align:right;font-variant-numeric:tabular-nums}"
  "td.key{text-align:left;font-family:monospace}"
  "tbody th{text-align:left;font-weight:normal;font-family:monospace;white-space:pre-wrap;overflow-wrap:break-word}"
  "svg{display:block;margin:0.5em 0;max-width:100%;height:auto}"
  "svg text{font-family:sans-serif}"
  "section{margin-bottom:2em}" ;

void html_page (html_put_fn *put, size_t top, size_t max, char const *const *files, size_t nfiles)
{
  static char const *const tlsname[] = { "tls", "clear", "failed" } ;
  static char const *const greyname[] = { "deferred", "early", "passed" } ;
  uint64_t skipped = 0 ;
  size_t i ;
  out = put ;
  for (i = 0 ; i < SKIP_N ; i++) skipped += rpt.skipped[i] ;
  lit("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n<title>") ;
  txts("mxguard report") ;
  lit("</title>\n<style>") ; lit(style) ; lit("</style>\n</head>\n<body>\n<h1>") ;
  txts("mxguard report") ;
  lit("</h1>\n<p>") ;
  num(rpt.lines) ; txts(" lines, ") ; num(rpt.decisions) ; txts(" decisions, ") ;
  num(rpt.msgs) ; txts(" other messages, ") ; num(skipped) ; txts(" skipped; days ") ;
  txts(collect_days_said()) ; txts(". Read from ") ;
  if (!nfiles) txts("standard input") ;
  for (i = 0 ; i < nfiles ; i++)
  {
    if (i) txts(", ") ;
    lit("<code>") ; txts(files[i]) ; lit("</code>") ;
  }
  lit(".</p>\n") ;

  section("Totals per day") ;
  bykind("Totals per day", "day", "days", &rpt.days, 1, 1, 0, max) ;
  endsection() ;
  reasons_days(max) ;
  days_table("TLS sessions per day (smtp-tls)", "TLS share per day", &rpt.tls, 0, tlsname, 3, 2, "tls share", max) ;
  days_table("Greylisting per day (rcptchecks)", "Greylisting outcomes per day", &rpt.grey, 0, greyname, 3, -1, "never back", max) ;
  days_table("Screening per day (smtp-screen: refused by pregreet, dnsbl, rules)", "smtp-screen outcomes per day",
    &rpt.screen[0], &rpt.screen[1], collect_scname, SC_N, 0, 0, max) ;
  section("Refusals by reason") ;
  ranked("Refusals by reason", "program/result", "reasons", &rpt.reasons, top, max) ;
  endsection() ;
  top_chart("Client addresses refused", "Top refused clients", "ip", "addresses", &rpt.ips, top, max) ;
  top_chart("Senders refused (rcptchecks)", "Top refused senders", "sender", "senders", &rpt.fromall, top, max) ;
  section("Recipients refused") ;
  ranked("Recipients refused", "rcpt", "recipients", &rpt.rcpts, top, max) ;
  endsection() ;
  section("Per day") ;
  per_day("Senders refused per day (rcptchecks)", "sender", &rpt.senders, top, max) ;
  per_day("Sender domains refused per day (rcptchecks)", "domain", &rpt.sdomains, top, max) ;
  per_day("SPF results per day (rcptchecks -E spf)", "result", &rpt.spf, 0, max) ;
  endsection() ;
  section("Programs") ;
  bykind("Sessions per program", "program", "programs", &rpt.programs, 0, 1, 0, max) ;
  bykind("Decisions by program and result", "program/result", "results", &rpt.results, 0, 0, top, max) ;
  ranked("Other messages of the programs", "program level", "kinds", &rpt.messages, top, max) ;
  {
    static char const *const cols[] = { "why", "count", 0 } ;
    table("Skipped lines", cols) ;
    if (!skipped) none() ;
    for (i = 0 ; i < SKIP_N ; i++)
      if (rpt.skipped[i]) { rowhead(collect_skipname[i], strlen(collect_skipname[i])) ; cell(rpt.skipped[i]) ; endrow() ; }
    endtable() ;
  }
  endsection() ;
  lit("</body>\n</html>\n") ;
}
