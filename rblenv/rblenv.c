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
#include "mx_rbl.h"

#define USAGE "rblenv [ -t secs ] [ -s score ] [ -w score ] [ -p ] [ -m text ] [ -L ] [ -n ] [ -r zone[=filter][*weight] ... ] [ -a zone[=filter][*weight] ... ] child..."
#define dieusage() strerr_dieusage(100, USAGE)

char const *PROG = "rblenv" ;

static mx_rbl rbl ;

static void add_zone (char const *arg, int allow)
{
  char const *why ;
  if (!mx_rbl_add(&rbl, arg, allow, &why))
  {
    char safe[81] ;
    mx_text_safe(safe, 80, arg, strlen(arg)) ;
    strerr_dief(100, "invalid zone spec ", safe, ": ", why) ;
  }
}

static void add (stralloc *sa, char const *s)
{
  if (!stralloc_cats(sa, s)) strerr_diefu1sys(111, "allocate") ;
}

static void add0 (stralloc *sa)
{
  if (!stralloc_0(sa)) strerr_diefu1sys(111, "allocate") ;
}

int main (int argc, char const *const *argv)
{
  unsigned int ms = 3000, i ;
  int dryrun = 0 ;
  uint32_t listed = 0 ;
  char ipt[MX_CLIENT_IPTEXT] ;
  char scorestr[INT_FMT], elapsed[UINT_FMT] ;
  mx_dns_query q[2 * MX_RBL_ZONES] ;
  char names[2 * MX_RBL_ZONES][MX_RBL_QNAME] ;
  int a_query[MX_RBL_ZONES] = { 0 }, txt_query[MX_RBL_ZONES] = { 0 } ;
  stralloc logl = STRALLOC_ZERO, modif = STRALLOC_ZERO ;
  unsigned int nq = 0, longest = 0 ;
  enum mx_rbl_result verdict ;
  char const *result ;
  int h ;
  ip46 ip ;

  mx_rbl_init(&rbl) ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "t:s:w:pm:Lnr:a:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 't' : if (!mx_secs_scan(l.arg, 60000, &ms) || !ms) dieusage() ; break ;
        case 's' : if (!mx_rbl_score_scan(l.arg, &rbl.threshold)) dieusage() ; break ;
        case 'w' : if (!mx_rbl_score_scan(l.arg, &rbl.allow_threshold)) dieusage() ; break ;
        case 'p' : rbl.permanent = 1 ; break ;
        case 'm' : rbl.template = l.arg ; break ;
        case 'L' : rbl.late = 1 ; break ;
        case 'n' : dryrun = 1 ; break ;
        case 'r' : add_zone(l.arg, 0) ; break ;
        case 'a' : add_zone(l.arg, 1) ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc || !rbl.n) dieusage() ;
  if (rbl.threshold <= rbl.allow_threshold) strerr_dief(100, "the score threshold (-s) must be above the allow threshold (-w)") ;

  if (!mx_client_ip(&ip, ipt))
  {
    mx_warn(ipt, "result=error reason=bad_TCPREMOTEIP, no lookup") ;
    mx_exec(argv, "", 0) ;
  }
  if (getenv("RELAYCLIENT")) { mx_info(ipt, "result=trusted") ; mx_exec(argv, "", 0) ; }
  if (getenv("RBLSMTPD")) { mx_info(ipt, "result=decided reason=RBLSMTPD already set") ; mx_exec(argv, "", 0) ; }

  for (i = 0 ; i < rbl.n ; i++)
  {
    a_query[i] = (int)nq ;
    mx_rbl_qname(&rbl, i, &ip, names[nq]) ;
    q[nq].name = names[nq] ; q[nq].after = 0 ; q[nq++].type = MX_DNS_A ;
    txt_query[i] = -1 ;
    if (!rbl.allow[i])
    {
      /* asked once the A records are in: a client that no list names
         (most of them) costs one query per zone, not two */
      txt_query[i] = (int)nq ;
      mx_rbl_qname(&rbl, i, &ip, names[nq]) ;
      q[nq].name = names[nq] ; q[nq].after = (unsigned int)a_query[i] + 1 ; q[nq++].type = MX_DNS_TXT ;
    }
  }
  if (mx_dns_all(q, nq, ms) < 0) mx_warn(ipt, "reason=DNS lookups could not start (no resolver, or no memory); every zone counts as not listed") ;
  for (i = 0 ; i < nq ; i++) if (q[i].ms > longest) longest = q[i].ms ;

  for (i = 0 ; i < rbl.n ; i++)
  {
    mx_dns_query const *a = &q[a_query[i]] ;
    char buf[IP4_FMT + 32] ;
    unsigned int k ;
    int fault ;
    add(&logl, " zone=") ; add(&logl, rbl.zone[i].name) ; add(&logl, ":") ;
    if (a->status == MX_DNS_TIMEOUT) { add(&logl, "timeout") ; continue ; }
    if (a->status != MX_DNS_ANSWERED) { add(&logl, "failed") ; continue ; }
    if (!a->na) { add(&logl, "nx") ; }
    for (k = 0 ; k < a->na ; k++)
    {
      enum answer_verdict v = zonespec_verdict(&rbl.zone[i], a->a[k]) ;
      size_t n = ip4_fmt(buf, (char const *)a->a[k]) ;
      buf[n] = 0 ;
      if (k) add(&logl, "+") ;
      add(&logl, buf) ;
      add(&logl, v == ANSWER_LISTED ? ",listed" : v == ANSWER_FILTERED ? ",filtered" : ",fault") ;
      if (v == ANSWER_FAULT)
        mx_warn(ipt, "zone=", rbl.zone[i].name, " answer=", buf, " reason=configuration fault: an answer outside 127.0.0.0/8 or a query-refused code never counts") ;
    }
    {
      char msstr[UINT_FMT] ;
      msstr[uint_fmt(msstr, a->ms)] = 0 ;
      add(&logl, ",") ; add(&logl, msstr) ; add(&logl, "ms") ;
    }
    if (mx_rbl_listed(&rbl, i, (unsigned char const (*)[4])a->a, a->na, &fault)) listed |= (uint32_t)1 << i ;
  }
  add0(&logl) ;
  scorestr[int_fmt(scorestr, mx_rbl_score(&rbl, listed))] = 0 ;
  elapsed[uint_fmt(elapsed, longest)] = 0 ;

  /* RBLSCORE and RBLLISTS always go to the next links */
  h = mx_rbl_heaviest(&rbl, listed) ;
  {
    mx_dns_query const *t = h >= 0 && txt_query[h] >= 0 ? &q[txt_query[h]] : 0 ;
    int ok = t && t->status == MX_DNS_ANSWERED ;
    if (!mx_rbl_env(&rbl, listed, ok ? t->txt : 0, ok ? t->txtlen : 0, ipt, dryrun, &modif, &verdict))
      strerr_diefu1sys(111, "allocate") ;
  }

  result = verdict == MX_RBL_REFUSED ? "refused" : verdict == MX_RBL_LATE ? "late" : verdict == MX_RBL_ALLOWED ? "allowed" : "clean" ;
  mx_info(ipt, logl.s + 1, " score=", scorestr, " result=", result, dryrun ? " dryrun=1" : "", " elapsed=", elapsed) ;
  mx_exec(argv, modif.s, modif.len) ;
}
