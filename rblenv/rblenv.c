/* rblenv: DNS blocklists and allow-lists into the environment.
 *
 * Usage: rblenv [ -t secs ] [ -s score ] [ -w score ] [ -p ] [ -m text ]
 *               [ -L ] [ -n ] [ -r zone[=filter][*weight] ... ]
 *               [ -a zone[=filter][*weight] ... ] child...
 *               (at least one zone)
 *
 * Reads:  TCPREMOTEIP, RELAYCLIENT, RBLSMTPD, DNSCACHEIP (or
 *         /etc/resolv.conf).
 * Sets:   RBLSCORE (the score), RBLLISTS (the zones that listed the
 *         client, comma-separated, blocklists and allow-lists); when the
 *         score reaches -s (default 1): RBLSMTPD = the refusal text
 *         (with -L: RBLLATE instead, for rcptchecks to refuse at RCPT
 *         time); when it is at or below -w (default -1): RBLSMTPD="" so
 *         that rblsmtpd accepts the client.
 * Every zone of -r (blocklists: a listing adds its weight) and -a
 * (allow-lists: a listing subtracts its weight) is asked at once, for an
 * A record and, for a blocklist whose A records come back, then a TXT
 * record; -t seconds (default 3,
 * fractions allowed) bound the whole lookup. The refusal text is the TXT
 * of the heaviest listing (printable ASCII, at most 200 bytes), or -m
 * (default "Client address %IP% is listed by %ZONE%"), leading dashes
 * dropped; with -p it starts with "-", which makes rblsmtpd answer 553
 * instead of 451. A TXT (or -m) that is nothing but dashes and blanks
 * gives way to -m (or the default): a listed client never gets an empty
 * text, which rblsmtpd would take for "accept".
 * Fail mode: open. A zone that times out or fails counts as not listed;
 * an answer outside 127.0.0.0/8 or in 127.255.255.0/24 never counts and
 * is logged as a configuration fault naming the zone.
 * Does nothing but exec child when RELAYCLIENT or RBLSMTPD is already set.
 * -n: dry run, logs the verdict and exports RBLSCORE/RBLLISTS, but never
 * RBLSMTPD or RBLLATE.
 * Log, one line: rblenv: info: pid P ip A zone=Z:R ... score=S
 *   result=refused|late|allowed|clean [dryrun=1] elapsed=MS
 *   (R: the A records each with ,listed ,filtered or ,fault, or nx; then
 *   ,MSms; or timeout, or failed. elapsed: the slowest of all queries.)
 * Exit: 100 usage or a bad zone spec; 111 cannot exec child; else child's.
 */
#include <stdlib.h>
#include <string.h>

#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>

#include "mx_client.h"
#include "mx_dns.h"
#include "mx_exec.h"
#include "mx_log.h"
#include "mx_secs.h"
#include "mx_text.h"
#include "mx_zonespec.h"

#define USAGE "rblenv [ -t secs ] [ -s score ] [ -w score ] [ -p ] [ -m text ] [ -L ] [ -n ] [ -r zone[=filter][*weight] ... ] [ -a zone[=filter][*weight] ... ] child..."
#define dieusage() strerr_dieusage(100, USAGE)
#define MAX_ZONES 32
#define TXT_MAX 200
#define DEFAULT_TEMPLATE "Client address %IP% is listed by %ZONE%"

char const *PROG = "rblenv" ;

typedef struct zone_s { zonespec spec ; int allow ; int a_query, txt_query ; int listed ; } zone ;

static zone zones[MAX_ZONES] ;
static unsigned int nzones = 0 ;

static void add_zone (char const *arg, int allow)
{
  char const *why ;
  if (nzones >= MAX_ZONES) strerr_dief(100, "too many zones (at most 32)") ;
  if (!zonespec_parse(arg, &zones[nzones].spec, &why))
  {
    char safe[81] ;
    mx_text_safe(safe, 80, arg, strlen(arg)) ;
    strerr_dief(100, "invalid zone spec ", safe, ": ", why) ;
  }
  zones[nzones++].allow = allow ;
}

static void add (stralloc *sa, char const *s)
{
  if (!stralloc_cats(sa, s)) strerr_diefu1sys(111, "allocate") ;
}

static void add0 (stralloc *sa)
{
  if (!stralloc_0(sa)) strerr_diefu1sys(111, "allocate") ;
}

/* "12" or "-3": a whole score */
static int scan_score (char const *s, int *v)
{
  int neg = *s == '-' ;
  unsigned int u ;
  if (neg || *s == '+') s++ ;
  if (!uint0_scan(s, &u) || u > 100000) return 0 ;
  *v = neg ? -(int)u : (int)u ;
  return 1 ;
}

/* the DNSBL query name of ip under zone: reversed octets or nibbles */
static int query_name (stralloc *sa, ip46 const *ip, char const *zonename)
{
  static char const hex[] = "0123456789abcdef" ;
  int i ;
  sa->len = 0 ;
  if (ip46_is6(ip))
    for (i = 15 ; i >= 0 ; i--)
    {
      unsigned char b = (unsigned char)ip->ip[i] ;
      char nib[4] = { hex[b & 15], '.', hex[b >> 4], '.' } ;
      if (!stralloc_catb(sa, nib, 4)) return 0 ;
    }
  else
    for (i = 3 ; i >= 0 ; i--)
    {
      char buf[UINT_FMT] ;
      size_t n = uint_fmt(buf, (unsigned char)ip->ip[i]) ;
      buf[n++] = '.' ;
      if (!stralloc_catb(sa, buf, n)) return 0 ;
    }
  return stralloc_cats(sa, zonename) && stralloc_0(sa) ;
}

/* s without its leading dashes, or 0 if nothing but blanks is left.
   A leading - would make rblsmtpd answer 553: only -p may. A text of
   nothing would leave RBLSMTPD empty, which rblsmtpd takes for "accept
   the client", and one of blanks refuses with nothing to say: a listing
   must never turn into an acceptance, so the caller falls back to a
   template. */
static char const *undash (char const *s)
{
  char const *x ;
  while (*s == '-') s++ ;
  for (x = s ; *x == ' ' || *x == '\t' ; x++) ;
  return *x ? s : 0 ;
}

/* template with %IP% and %ZONE% filled in */
static int fill_template (stralloc *out, char const *t, char const *ipt, char const *zonename)
{
  while (*t)
  {
    if (!strncmp(t, "%IP%", 4)) { if (!stralloc_cats(out, ipt)) return 0 ; t += 4 ; }
    else if (!strncmp(t, "%ZONE%", 6)) { if (!stralloc_cats(out, zonename)) return 0 ; t += 6 ; }
    else if (!stralloc_catb(out, t++, 1)) return 0 ;
  }
  return 1 ;
}

int main (int argc, char const *const *argv)
{
  unsigned int ms = 3000, i ;
  int threshold = 1, allow_threshold = -1, permanent = 0, late = 0, dryrun = 0 ;
  int score = 0, heaviest = -1 ;
  char const *template = DEFAULT_TEMPLATE ;
  char ipt[MX_CLIENT_IPTEXT] ;
  char scorestr[INT_FMT], elapsed[UINT_FMT] ;
  mx_dns_query q[2 * MAX_ZONES] ;
  stralloc names[2 * MAX_ZONES] ;
  stralloc lists = STRALLOC_ZERO, logl = STRALLOC_ZERO, modif = STRALLOC_ZERO, text = STRALLOC_ZERO ;
  unsigned int nq = 0, longest = 0 ;
  char const *result ;
  ip46 ip ;

  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "t:s:w:pm:Lnr:a:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 't' : if (!mx_secs_scan(l.arg, 60000, &ms) || !ms) dieusage() ; break ;
        case 's' : if (!scan_score(l.arg, &threshold)) dieusage() ; break ;
        case 'w' : if (!scan_score(l.arg, &allow_threshold)) dieusage() ; break ;
        case 'p' : permanent = 1 ; break ;
        case 'm' : template = l.arg ; break ;
        case 'L' : late = 1 ; break ;
        case 'n' : dryrun = 1 ; break ;
        case 'r' : add_zone(l.arg, 0) ; break ;
        case 'a' : add_zone(l.arg, 1) ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc || !nzones) dieusage() ;
  if (threshold <= allow_threshold) strerr_dief(100, "the score threshold (-s) must be above the allow threshold (-w)") ;

  if (!mx_client_ip(&ip, ipt))
  {
    mx_warn(ipt, "result=error reason=bad_TCPREMOTEIP, no lookup") ;
    mx_exec(argv, "", 0) ;
  }
  if (getenv("RELAYCLIENT")) { mx_info(ipt, "result=trusted") ; mx_exec(argv, "", 0) ; }
  if (getenv("RBLSMTPD")) { mx_info(ipt, "result=decided reason=RBLSMTPD already set") ; mx_exec(argv, "", 0) ; }

  memset(names, 0, sizeof names) ;
  for (i = 0 ; i < nzones ; i++)
  {
    zones[i].a_query = (int)nq ;
    if (!query_name(&names[nq], &ip, zones[i].spec.name)) strerr_diefu1sys(111, "allocate") ;
    q[nq].name = names[nq].s ; q[nq].after = 0 ; q[nq++].type = MX_DNS_A ;
    zones[i].txt_query = -1 ;
    if (!zones[i].allow)
    {
      /* asked once the A records are in: a client that no list names
         (most of them) costs one query per zone, not two */
      zones[i].txt_query = (int)nq ;
      if (!query_name(&names[nq], &ip, zones[i].spec.name)) strerr_diefu1sys(111, "allocate") ;
      q[nq].name = names[nq].s ; q[nq].after = (unsigned int)zones[i].a_query + 1 ; q[nq++].type = MX_DNS_TXT ;
    }
  }
  if (mx_dns_all(q, nq, ms) < 0) mx_warn(ipt, "reason=DNS lookups could not start (no resolver, or no memory); every zone counts as not listed") ;
  for (i = 0 ; i < nq ; i++) if (q[i].ms > longest) longest = q[i].ms ;

  for (i = 0 ; i < nzones ; i++)
  {
    zone *z = &zones[i] ;
    mx_dns_query const *a = &q[z->a_query] ;
    char buf[IP4_FMT + 32] ;
    unsigned int k ;
    add(&logl, " zone=") ; add(&logl, z->spec.name) ; add(&logl, ":") ;
    if (a->status == MX_DNS_TIMEOUT) { add(&logl, "timeout") ; continue ; }
    if (a->status != MX_DNS_ANSWERED) { add(&logl, "failed") ; continue ; }
    if (!a->na) { add(&logl, "nx") ; }
    for (k = 0 ; k < a->na ; k++)
    {
      enum answer_verdict v = zonespec_verdict(&z->spec, a->a[k]) ;
      size_t n = ip4_fmt(buf, (char const *)a->a[k]) ;
      buf[n] = 0 ;
      if (k) add(&logl, "+") ;
      add(&logl, buf) ;
      add(&logl, v == ANSWER_LISTED ? ",listed" : v == ANSWER_FILTERED ? ",filtered" : ",fault") ;
      if (v == ANSWER_FAULT)
        mx_warn(ipt, "zone=", z->spec.name, " answer=", buf, " reason=configuration fault: an answer outside 127.0.0.0/8 or a query-refused code never counts") ;
      if (v == ANSWER_LISTED) z->listed = 1 ;
    }
    {
      char msstr[UINT_FMT] ;
      msstr[uint_fmt(msstr, a->ms)] = 0 ;
      add(&logl, ",") ; add(&logl, msstr) ; add(&logl, "ms") ;
    }
    if (!z->listed) continue ;
    score += zonespec_points(&z->spec, z->allow) ;
    if (lists.len) add(&lists, ",") ;
    add(&lists, z->spec.name) ;
    if (!z->allow && (heaviest < 0 || z->spec.weight > zones[heaviest].spec.weight)) heaviest = (int)i ;
  }
  add0(&logl) ; add0(&lists) ;
  scorestr[int_fmt(scorestr, score)] = 0 ;
  elapsed[uint_fmt(elapsed, longest)] = 0 ;

  /* RBLSCORE and RBLLISTS always go to the next links */
  add(&modif, "RBLSCORE=") ; add(&modif, scorestr) ; add0(&modif) ;
  add(&modif, "RBLLISTS=") ; add(&modif, lists.s) ; add0(&modif) ;

  if (score >= threshold && heaviest >= 0)
  {
    zone const *h = &zones[heaviest] ;
    mx_dns_query const *t = h->txt_query >= 0 ? &q[h->txt_query] : 0 ;
    char safe[TXT_MAX + 1] ;
    char const *x = 0 ;
    if (permanent) add(&text, "-") ;
    if (t && t->status == MX_DNS_ANSWERED && t->txtlen)
    {
      mx_text_safe(safe, TXT_MAX, t->txt, t->txtlen) ;
      x = undash(safe) ;
    }
    if (x) add(&text, x) ;
    else
    {
      char const *m = undash(template) ;
      if (!fill_template(&text, m ? m : DEFAULT_TEMPLATE, ipt, h->spec.name)) strerr_diefu1sys(111, "allocate") ;
    }
    add0(&text) ;
    result = late ? "late" : "refused" ;
    if (!dryrun) { add(&modif, late ? "RBLLATE=" : "RBLSMTPD=") ; add(&modif, text.s) ; add0(&modif) ; }
  }
  else if (score <= allow_threshold)
  {
    result = "allowed" ;
    if (!dryrun) { add(&modif, "RBLSMTPD=") ; add0(&modif) ; }
  }
  else result = "clean" ;

  mx_info(ipt, logl.s + 1, " score=", scorestr, " result=", result, dryrun ? " dryrun=1" : "", " elapsed=", elapsed) ;
  mx_exec(argv, modif.s, modif.len) ;
}
