/* smtp-delay: greeting delay by reverse-DNS class; refuses clients that
 * talk before the greeting.
 *
 * Usage: smtp-delay [ -n secs ] [ -y secs ] [ -k secs ] [ -f patternfile ]
 *                   [ -B ] [ -l ] [ -L secs ] [ -r ] [ -t secs ] [ -T ] child...
 *
 * Reads:  TCPREMOTEIP, TCPREMOTEHOST, TCPLOCALHOST, SMTPDELAY (seconds,
 *         from tcprules: overrides the class delay), RELAYCLIENT.
 * Sets:   SMTPDELAY_CLASS = none | dynamic | named,
 *         SMTPDELAY_RESULT = pass | early (early: -r or dry run -T),
 *         RBLSMTPD (with -r, for an early talker).
 *
 * The class (see common/mx_classify.h) picks the delay: -n for none (default 12 s),
 * -y for dynamic (default 6 s), -k for named (default 1 s); seconds with
 * up to three decimals. -l: find the name itself, forward-confirmed, when
 * tcpserver ran with -H (within -L seconds, default 3; the lookup time
 * counts as waiting time). During the delay fd 0 is watched, never read:
 * the bytes stay for the child. Outcomes:
 *   - the client waits: child is exec'd (result=pass);
 *   - the client talks first: it is refused; by default smtp-delay holds
 *     an rblsmtpd-like conversation itself (4xx to mail commands, -t secs
 *     at most, default 60); with -r it sets RBLSMTPD and execs child,
 *     which should be rblsmtpd; with -T (dry run) it only logs and execs
 *     child (result=early);
 *   - the client hangs up: logged, exit 0, child never runs.
 * RELAYCLIENT set: no delay, child exec'd at once (result=trusted).
 * Fail mode: a failed lookup (-l) counts as no name (longest delay).
 * Log, one line: smtp-delay: info: pid P ip A class=C host=H delay=D
 *   waited=W result=R [first=BYTES]   (BYTES: the first 100 the client
 *   sent, sanitised)
 * Exit: 100 usage or a bad regex in the pattern file; 111 pattern file
 * unreadable, or cannot exec child; 0 after a refusal or a hang-up;
 * otherwise child's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "mx_classify.h"
#include "mx_client.h"
#include "mx_dns.h"
#include "mx_exec.h"
#include "mx_log.h"
#include "mx_refuse.h"
#include "mx_secs.h"
#include "mx_text.h"
#include "mx_wait.h"
#include "refuse.h"

#define USAGE "smtp-delay [ -n secs ] [ -y secs ] [ -k secs ] [ -f patternfile ] [ -B ] [ -l ] [ -L secs ] [ -r ] [ -t secs ] [ -T ] child..."
#define dieusage() strerr_dieusage(100, USAGE)
#define MAX_DELAY_MS 300000u   /* RFC 5321 clients wait 5 minutes for a greeting */
#define FIRST_BYTES 100

char const *PROG = "smtp-delay" ;

static int scan_secs (char const *s, unsigned int *ms)
{
  return mx_secs_scan(s, MAX_DELAY_MS, ms) ;
}

static unsigned int elapsed_ms (long long start)
{
  return (unsigned int)(mx_now_ms() - start) ;
}

enum outcome { WAITED, TALKED, HUNGUP } ;

/* Watches fd 0 until the deadline (mx_now_ms) without consuming
   anything. On TALKED the first bytes are copied (sanitised) into first. */
static enum outcome watch (long long deadline, char *first)
{
  for (;;)
  {
    char peek[FIRST_BYTES] ;
    ssize_t r ;
    int e = mx_wait_readable(0, deadline) ;
    if (e < 0) strerr_diefu1sys(111, "poll") ;
    if (!e) return WAITED ;
    r = recv(0, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT) ;
    if (r < 0 && errno == ENOTSOCK)
    {
      /* not a socket (a pipe, run by hand): count bytes instead of peeking */
      int avail = 0 ;
      if (ioctl(0, FIONREAD, &avail) < 0) return HUNGUP ;
      if (!avail) return HUNGUP ;
      strcpy(first, "(not a socket)") ;
      return TALKED ;
    }
    if (r < 0)
    {
      if (errno == EAGAIN || errno == EINTR) continue ;
      return HUNGUP ;   /* reset by peer and the like */
    }
    if (!r) return HUNGUP ;
    mx_text_safe(first, FIRST_BYTES, peek, (size_t)r) ;
    return TALKED ;
  }
}

int main (int argc, char const *const *argv)
{
  unsigned int delay_ms[3] = { 12000, 6000, 1000 } ;   /* by enum rdns_class */
  unsigned int lookup_ms = 3000, talk_secs = 60, ms ;
  int builtin = 1, lookup = 0, via_rblsmtpd = 0, dryrun = 0 ;
  char const *patfile = 0 ;
  char const *host, *why, *override ;
  char ipt[MX_CLIENT_IPTEXT] ;
  char first[FIRST_BYTES + 1] = "" ;
  char fcrdns[256] ;
  char safehost[65] ;
  char delaystr[MX_SECS_FMT], waitstr[MX_SECS_FMT] ;
  char modif[64 + sizeof MX_REFUSE_TEXT] ;
  size_t mlen ;
  patterns pats ;
  enum rdns_class cls ;
  enum outcome out ;
  long long start ;
  ip46 ip ;
  int ipok ;

  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "n:y:k:f:BlL:rt:T", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'n' : if (!scan_secs(l.arg, &delay_ms[CLASS_NONE])) dieusage() ; break ;
        case 'y' : if (!scan_secs(l.arg, &delay_ms[CLASS_DYNAMIC])) dieusage() ; break ;
        case 'k' : if (!scan_secs(l.arg, &delay_ms[CLASS_NAMED])) dieusage() ; break ;
        case 'f' : patfile = l.arg ; break ;
        case 'B' : builtin = 0 ; break ;
        case 'l' : lookup = 1 ; break ;
        case 'L' : if (!scan_secs(l.arg, &lookup_ms) || !lookup_ms) dieusage() ; break ;
        case 'r' : via_rblsmtpd = 1 ; break ;
        case 't' : if (!uint0_scan(l.arg, &talk_secs) || !talk_secs || talk_secs > 3600) dieusage() ; break ;
        case 'T' : dryrun = 1 ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc) dieusage() ;
  patterns_init(&pats, builtin) ;
  if (patfile)
  {
    char err[512] ;
    int r = patterns_load(&pats, patfile, err, sizeof err) ;
    if (r <= 0) strerr_dief(r < 0 ? 111 : 100, err) ;
  }

  start = mx_now_ms() ;
  ipok = mx_client_ip(&ip, ipt) ;
  if (getenv("RELAYCLIENT"))
  {
    mx_info(ipt, "result=trusted") ;
    mx_exec(argv, "", 0) ;
  }

  if (!ipok) mx_warn(ipt, "reason=bad_TCPREMOTEIP, no address test and no lookup") ;
  host = getenv("TCPREMOTEHOST") ;
  if (lookup && ipok)
  {
    int r = mx_dns_fcrdns(ip.ip, ip46_is6(&ip), lookup_ms, fcrdns, sizeof fcrdns) ;
    host = r > 0 ? fcrdns : 0 ;
    if (r < 0) mx_warn(ipt, "lookup=failed reason=no answer within the lookup deadline or server failure; class none") ;
  }
  cls = classify(&pats, host, ipok ? &ip : 0, &why) ;
  mx_text_safe(safehost, 64, host ? host : "", host ? strlen(host) : 0) ;
  if (!*safehost) strcpy(safehost, "-") ;

  ms = delay_ms[cls] ;
  override = getenv("SMTPDELAY") ;
  if (override && *override && !scan_secs(override, &ms))
  {
    char safe[33] ;
    mx_text_safe(safe, 32, override, strlen(override)) ;
    mx_warn(ipt, "reason=ignoring invalid SMTPDELAY=", safe) ;
    ms = delay_ms[cls] ;
  }
  mx_secs_fmt(delaystr, ms) ;
  /* from the start: the lookup took time, and it counts as waiting time */
  out = watch(start + ms, first) ;
  mx_secs_fmt(waitstr, elapsed_ms(start)) ;

  if (out == HUNGUP)
  {
    mx_info(ipt, "class=", class_name(cls), " host=", safehost, " why=", why, " delay=", delaystr, " waited=", waitstr, " result=hangup") ;
    return 0 ;
  }
  {
    char const *c = class_name(cls) ;
    memcpy(modif, "SMTPDELAY_CLASS=", 16) ; mlen = 16 ;
    memcpy(modif + mlen, c, strlen(c) + 1) ; mlen += strlen(c) + 1 ;
  }
  if (out == WAITED)
  {
    mx_info(ipt, "class=", class_name(cls), " host=", safehost, " why=", why, " delay=", delaystr, " waited=", waitstr, " result=pass") ;
    memcpy(modif + mlen, "SMTPDELAY_RESULT=pass", 22) ; mlen += 22 ;
    mx_exec(argv, modif, mlen) ;
  }
  memcpy(modif + mlen, "SMTPDELAY_RESULT=early", 23) ; mlen += 23 ;
  if (dryrun)
  {
    mx_info(ipt, "class=", class_name(cls), " host=", safehost, " why=", why, " delay=", delaystr, " waited=", waitstr, " result=early dryrun=1 first=", first) ;
    mx_exec(argv, modif, mlen) ;
  }
  if (via_rblsmtpd)
  {
    mx_info(ipt, "class=", class_name(cls), " host=", safehost, " why=", why, " delay=", delaystr, " waited=", waitstr, " result=refused via=rblsmtpd first=", first) ;
    memcpy(modif + mlen, "RBLSMTPD=" MX_REFUSE_TEXT, sizeof "RBLSMTPD=" MX_REFUSE_TEXT) ;
    mlen += sizeof "RBLSMTPD=" MX_REFUSE_TEXT ;
    mx_exec(argv, modif, mlen) ;
  }
  mx_info(ipt, "class=", class_name(cls), " host=", safehost, " why=", why, " delay=", delaystr, " waited=", waitstr, " result=refused first=", first) ;
  {
    char const *me = getenv("TCPLOCALHOST") ;
    char safeme[65] ;
    if (!me || !*me || !strcmp(me, "0")) me = "smtp-delay.local" ;
    mx_text_safe(safeme, 64, me, strlen(me)) ;
    refuse_conversation(safeme, talk_secs) ;
  }
}
