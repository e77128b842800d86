/* rcptchecks: refuses unknown recipients before the SMTP server sees
 * them, and tarpits the clients that guess.
 *
 * Usage: rcptchecks [ -c cdb | -g group [ -f file ] [ -D sql ] [ -A sql ]
 *          [ -T secs ] [ -C ] ] [ -e delim ] [ -N n ] [ -d secs ]
 *          [ -u secs ] [ -M m ] [ -q name ] [ -L name ] [ -l bytes ]
 *          [ -t secs ] [ -n ] [ -E checks ] [ -W checks ] [ -S cdb ]
 *          [ -R zone ]... [ -y secs ] [ -Y ] [ -F secs ] [ -G dir ]
 *          [ -I secs ] [ -O name=value ]... child...
 *
 * Runs child on two pipes and relays the session (proxy.h), deciding on
 * every RCPT (check.h) with the tarpit (tarpit.h) and the recipient
 * source (source.h), and on HELO, MAIL and the command stream with the
 * envelope checks (envelope.h), and on known recipients with
 * greylisting when asked (-E greylist: greylist.h; the store is -G's
 * LMDB directory, or with -g the SQL tables of the same groups). With RELAYCLIENT set (trusted) the
 * source is not opened and no recipient or envelope check is made, but
 * the session is still relayed command by command: rcptchecks stands
 * right in front of the server, so its allow-list of verbs (no XCLIENT,
 * no XFORWARD) holds for every client. See rcptchecks.8.
 * Exit: 100 usage; 111 the CDB cannot be opened (the client is told
 * 421) or the child cannot be started; 0 after a session.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/env.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "check.h"
#include "envelope.h"
#include "greylist.h"
#include "helo.h"
#include "mx_child.h"
#include "mx_client.h"
#include "mx_linger.h"
#include "mx_log.h"
#include "mx_mariadb.h"
#include "mx_secs.h"
#include "proxy.h"
#include "rcptaddr.h"
#include "source.h"

#ifndef RCPTCHECKS_CDB
#error RCPTCHECKS_CDB must be defined (the Makefile takes it from conf-rcptchecks)
#endif

#define USAGE "rcptchecks [ -c cdb | -g group [ -f file ] [ -D sql ] [ -A sql ] [ -T secs ] [ -C ] ] [ -e delim ] [ -N n ] [ -d secs ] [ -u secs ] [ -M m ] [ -q name ] [ -L name ] [ -l bytes ] [ -t secs ] [ -n ] [ -E checks ] [ -W checks ] [ -S cdb ] [ -R zone ]... [ -y secs ] [ -Y ] [ -F secs ] [ -G dir ] [ -I secs ] [ -O name=value ]... child..."
#define dieusage() strerr_dieusage(100, USAGE)

char const *PROG = "rcptchecks" ;

/* The recipient source cannot be used: 421 before anything else. */
static int unavailable (char const *ipt, char const *why)
{
  static char const msg[] = "421 4.3.0 recipient database unavailable, closing connection\r\n" ;
  mx_warn(ipt, "result=tempfail error=", why) ;
  allwrite(1, msg, sizeof msg - 1) ;
  mx_linger(0, 1, 1000) ;
  return 111 ;
}

static unsigned int number (char const *arg, unsigned int max)
{
  unsigned int n ;
  if (!uint0_scan(arg, &n) || n > max) dieusage() ;
  return n ;
}

/* -q and -L: a DNS name, as rcptaddr.h takes a domain */
static char const *local_name (char const *arg)
{
  static char buf[RCPTADDR_MAX + 32] ;
  static rcptaddr a ;
  size_t n = strlen(arg) ;
  if (n > RCPTADDR_DOMAIN_MAX) dieusage() ;
  memcpy(buf, "TO:<x@", 6) ;
  memcpy(buf + 6, arg, n) ;
  buf[6 + n] = '>' ;
  if (rcptaddr_parse(buf, n + 7, &a) != RCPTADDR_DOMAIN) dieusage() ;
  return arg ;
}

static unsigned int secs (char const *arg, unsigned int max_ms)
{
  unsigned int ms ;
  if (!mx_secs_scan(arg, max_ms, &ms)) dieusage() ;
  return ms ;
}

int main (int argc, char const *const *argv)
{
  static source src = { .cdbpath = RCPTCHECKS_CDB, .domain_sql = SOURCE_DOMAIN_SQL, .address_sql = SOURCE_ADDRESS_SQL, .timeout = 5 } ;
  static check chk = { .src = &src, .delimiter = '-', .tp = { .free_rcpts = 50, .delay_ms = 2000, .unknown_ms = 1000, .max_unknown = 10 } } ;
  proxy_conf pc = { .chk = &chk, .linemax = 1000, .idle_ms = 1200000 } ;
  proxy_stats st = { 0 } ;
  static char ipt[MX_CLIENT_IPTEXT] ;   /* chk (static) keeps a pointer to it */
  static envelope env = { .dns_ms = 5000, .spf = { .ms = 5000 } } ;
  static greylist gl = { .conf = GREYCONF_DEFAULT, .v4 = 24, .v6 = 64, .dnswl = -1, .store = { .timeout = 5 } } ;
  char const *warn_list = 0 ;
  int cdb_given = 0, sql_only = 0, fds[2] = { 0, 1 } ;
  char const *const *args = argv ;   /* as given, for the SQL handover */
  char const *rbllate, *result, *why ;
  ip46 ip ;
  pid_t pid ;

  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "c:g:f:D:A:T:Ce:N:d:u:M:q:L:l:t:nE:W:S:R:y:YF:G:I:O:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'c' : src.cdbpath = l.arg ; cdb_given = 1 ; break ;
        case 'g' : src.group = l.arg ; break ;
        case 'f' : src.cnf = l.arg ; sql_only = 1 ; break ;
        case 'D' : src.domain_sql = l.arg ; sql_only = 1 ; break ;
        case 'A' : src.address_sql = l.arg ; sql_only = 1 ; break ;
        case 'T' : src.timeout = number(l.arg, 3600) ; if (!src.timeout) dieusage() ; sql_only = 1 ; break ;
        case 'C' : src.keep_case = 1 ; sql_only = 1 ; break ;
        case 'e' : if (strlen(l.arg) != 1 || !ispunct((unsigned char)l.arg[0]) || l.arg[0] == '@') dieusage() ; chk.delimiter = l.arg[0] ; break ;
        case 'N' : chk.tp.free_rcpts = number(l.arg, 1000000) ; break ;
        case 'd' : chk.tp.delay_ms = secs(l.arg, TARPIT_CAP_MS) ; break ;
        case 'u' : chk.tp.unknown_ms = secs(l.arg, TARPIT_CAP_MS) ; break ;
        case 'M' : chk.tp.max_unknown = number(l.arg, 1000000) ; break ;
        case 'q' : chk.qualify = local_name(l.arg) ; break ;
        case 'L' : chk.literal = local_name(l.arg) ; break ;
        case 'l' : pc.linemax = number(l.arg, PROXY_LINE_MAX) ; if (pc.linemax < 512) dieusage() ; break ;
        case 't' : pc.idle_ms = secs(l.arg, 86400000) ; if (!pc.idle_ms) dieusage() ; break ;
        case 'n' : chk.dryrun = 1 ; break ;
        case 'E' : if (!envelope_modes(&env, l.arg, ENV_ON)) dieusage() ; break ;
        case 'W' : warn_list = l.arg ; break ;
        case 'S' : env.access = l.arg ; env.mode[ENV_ACCESS] = ENV_ON ; break ;
        case 'R' :
        {
          char const *bad ;
          if (env.nzones >= ENV_ZONES_MAX) strerr_dief1x(100, "too many -R zones") ;
          if (!zonespec_parse(l.arg, &env.zones[env.nzones], &bad)) strerr_dief4x(100, "bad -R zone ", l.arg, ": ", bad) ;
          env.nzones++ ;
          env.mode[ENV_RHSBL] = ENV_ON ;
          break ;
        }
        case 'y' : env.dns_ms = secs(l.arg, 60000) ; if (!env.dns_ms) dieusage() ; break ;
        case 'Y' : env.rhsbl_temp = 1 ; break ;
        case 'F' : env.spf.ms = secs(l.arg, 60000) ; if (!env.spf.ms) dieusage() ; break ;
        case 'G' : gl.store.dir = l.arg ; break ;
        case 'I' : gl.conf.delay = number(l.arg, 86400) ; break ;
        /* one settings option for the SPF check and greylisting, each
           setting named (rcptchecks.8) */
        case 'O' : if (!spf_option(&env.spf, l.arg) && !greylist_option(&gl, l.arg)) strerr_dief2x(100, "bad -O setting ", l.arg) ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc || !*argv[0]) dieusage() ;
  /* after -E, -S and -R, whatever their order: -W makes a check warn-only */
  if (warn_list && !envelope_modes(&env, warn_list, ENV_WARN)) dieusage() ;
  if ((cdb_given && src.group) || (sql_only && !src.group) || (src.group && !*src.group)) dieusage() ;

  if (env.mode[ENV_GREYLIST])
  {
    if (!gl.store.dir && !src.group) strerr_dief1x(100, "-E greylist or -W greylist needs a store: -G dir, or -g group") ;
    if (((gl.only & GREY_ONLY_SPF) || gl.spfallow) && !env.mode[ENV_SPF]) strerr_dief1x(100, "-O only=spf and -O spfallow= need the SPF check: -E spf or -W spf") ;
    if (!gl.store.dir) { gl.store.group = src.group ; gl.store.cnf = src.cnf ; gl.store.timeout = src.timeout ; }
    gl.warn = env.mode[ENV_GREYLIST] == ENV_WARN ;
    chk.greyrcpt = &greylist_rcpt ;
    chk.grey = &gl ;
    chk.greywarn = gl.warn ;
  }

  env.spf.client_known = mx_client_ip(&ip, ipt) ;
  if (chk.grey) greylist_client(&gl, &ip) ;
  chk.ip = ipt ;
  env.client = ip ;
  env.ip = ipt ;
  chk.env = &env ;
  {
    /* SPF's receiver: the name tcpserver gives this end (-l name; not
       its "0" of -l0), or the host's */
    static struct utsname u ;
    char const *x = getenv("TCPLOCALHOST") ;
    if (x && strchr(x, '.') && helo_is_domain(x, strlen(x))) env.spf.receiver = x ;
    else if (!uname(&u) && u.nodename[0]) env.spf.receiver = u.nodename ;
  }
  pc.relay = !!getenv("RELAYCLIENT") ;
  if (pc.relay)
    /* the session's one line: the decision is made here */
    mx_info(ipt, "result=trusted") ;
  else
  {
    if (src.group && !mx_mariadb_handover(args, &why)) return unavailable(ipt, why) ;
    if (!source_open(&src)) return unavailable(ipt, src.err) ;
  }
  rbllate = getenv("RBLLATE") ;
  if (rbllate && *rbllate) chk.rbllate = rbllate ;

  /* the child reads its fd 0 and writes its fd 1; we read fds[0] and
     write fds[1] */
  pid = mx_child_spawn(argv, fds) ;
  if (!pid)
  {
    static char const msg[] = "421 4.3.0 mail server unavailable, closing connection\r\n" ;
    int e = errno ;
    allwrite(1, msg, sizeof msg - 1) ;
    errno = e ;
    strerr_diefu2sys(111, "spawn ", argv[0]) ;
  }
  /* a write to a child that died is an error to handle, not a signal */
  signal(SIGPIPE, SIG_IGN) ;

  result = proxy_run(&pc, fds[0], fds[1], &st) ;
  close(fds[1]) ;
  if (strcmp(result, "client-gone")) mx_linger(0, 1, 1000) ;
  mx_child_end(pid, fds[0]) ;
  if (pc.relay) return 0 ;
  source_close(&src) ;
  if (chk.grey) greystore_close(&gl.store) ;

  {
    char n[7][UINT64_FMT] ;
    n[0][uint_fmt(n[0], chk.rcpts)] = 0 ;
    n[1][uint_fmt(n[1], chk.forwarded)] = 0 ;
    n[2][uint_fmt(n[2], chk.unknown)] = 0 ;
    n[3][uint_fmt(n[3], chk.refused)] = 0 ;
    n[4][uint_fmt(n[4], chk.tempfail)] = 0 ;
    n[5][uint_fmt(n[5], st.messages)] = 0 ;
    n[6][uint64_fmt(n[6], st.databytes)] = 0 ;
    mx_info(ipt, "helo=<", env.helo, "> from=<", env.from, "> rcpts=", n[0], " forwarded=", n[1], " unknown=", n[2], " refused=", n[3],
            " tempfail=", n[4], " messages=", n[5], " databytes=", n[6], st.trusted ? " auth=1" : "",
            chk.dryrun ? " dryrun=1" : "", " result=", result) ;
  }
  return 0 ;
}
