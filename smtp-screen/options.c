/* options: smtp-screen's command line into S.cf (and the limits into
 * S.lim), tcpserver's options first; then the listening socket, opened
 * before the uid and gid change, as tcpserver does.
 */
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "listen.h"
#include "mx_secs.h"
#include "mx_text.h"
#include "slots.h"

#define USAGE "smtp-screen [ -1 ] [ -v | -Q | -q ] [ -c n ] [ -b n ] [ -x rules.cdb ] [ -X ] [ -l name ] [ -u uid ] [ -g gid ] [ -U ] [ -D | -d ] [ -H | -h ] [ -w secs | -n secs -y secs -k secs ] [ -F patternfile ] [ -B ] [ -e ] [ -r zone[=filter][*weight] ... ] [ -a zone[=filter][*weight] ... ] [ -t secs ] [ -s score ] [ -W score ] [ -E ] [ -m text ] [ -Y ] [ -f cachefile ] [ -M n ] [ -j secs ] [ -J secs ] [ -C n ] [ -N bits ] [ -L n/secs ] [ -S n ] [ -P addr[/bits][,...] ] host port child..."
#define dieusage() strerr_dieusage(100, USAGE)

int screen_options (int argc, char const *const *argv, char const **host, char const **port)
{
  subgetopt l = SUBGETOPT_ZERO ;
  unsigned int backlog = 1024, ratems = 0 ;
  int flag1 = 0, setuid_ = 0, setgid_ = 0 ;
  uid_t uid = 0 ; gid_t gid = 0 ;
  int lfd ;
  S.cf.maxchildren = 40 ; S.cf.maxscreen = 10000 ; S.cf.v6bits = 64 ; S.cf.verbosity = 1 ;
  S.cf.waits[CLASS_NONE] = 12000 ; S.cf.waits[CLASS_DYNAMIC] = 6000 ; S.cf.waits[CLASS_NAMED] = 1000 ;   /* smtp-delay's */
  S.cf.lookup = 1 ; S.cf.builtin = 1 ;
  S.cf.cachemax = 100000 ; S.cf.rbl_cap = 3600 ; S.cf.rdns_cap = 3600 ;
  mx_rbl_init(&S.cf.rbl) ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "1vqQc:b:x:Xl:u:g:UDdRHhpw:n:y:k:F:Bt:r:a:s:W:Em:Yf:M:j:J:eC:N:L:S:P:", &l) ;
    char const *slash ;
    if (opt == -1) break ;
    switch (opt)
    {
      case '1' : flag1 = 1 ; break ;
      case 'v' : S.cf.verbosity = 2 ; break ;
      case 'Q' : S.cf.verbosity = 1 ; break ;
      case 'q' : S.cf.verbosity = 0 ; break ;
      case 'c' : if (!uint0_scan(l.arg, &S.cf.maxchildren) || !S.cf.maxchildren) dieusage() ; break ;
      case 'b' : if (!uint0_scan(l.arg, &backlog)) dieusage() ; break ;
      case 'x' : S.cf.rulesfile = l.arg ; break ;
      case 'X' : S.cf.rulesoptional = 1 ; break ;
      case 'l' : S.cf.localname = l.arg ; break ;
      case 'u' : if (!uid0_scan(l.arg, &uid)) dieusage() ; setuid_ = 1 ; break ;
      case 'g' : if (!gid0_scan(l.arg, &gid)) dieusage() ; setgid_ = 1 ; break ;
      case 'U' :
      {
        char const *x = getenv("UID"), *y = getenv("GID") ;
        if (!x || !y || !uid0_scan(x, &uid) || !gid0_scan(y, &gid)) strerr_dief1x(100, "-U: $UID and $GID must be numbers") ;
        setuid_ = setgid_ = 1 ;
        break ;
      }
      case 'D' : S.cf.nodelay = 1 ; break ;
      case 'd' : S.cf.nodelay = 0 ; break ;
      case 'H' : S.cf.lookup = 0 ; break ;
      case 'h' : S.cf.lookup = 1 ; break ;
      case 'R' : case 'p' : break ;   /* no ident; the name is always forward-confirmed */
      case 'w' :
        if (!mx_secs_scan(l.arg, 300000, &S.cf.waits[0])) dieusage() ;
        S.cf.waits[1] = S.cf.waits[2] = S.cf.waits[0] ;
        break ;
      case 'n' : if (!mx_secs_scan(l.arg, 300000, &S.cf.waits[CLASS_NONE])) dieusage() ; break ;
      case 'y' : if (!mx_secs_scan(l.arg, 300000, &S.cf.waits[CLASS_DYNAMIC])) dieusage() ; break ;
      case 'k' : if (!mx_secs_scan(l.arg, 300000, &S.cf.waits[CLASS_NAMED])) dieusage() ; break ;
      case 'F' : S.cf.patfile = l.arg ; break ;
      case 'B' : S.cf.builtin = 0 ; break ;
      case 't' : if (!mx_secs_scan(l.arg, 60000, &S.cf.dns_ms) || !S.cf.dns_ms) dieusage() ; break ;
      case 'r' : case 'a' :
      {
        char const *why ;
        if (!mx_rbl_add(&S.cf.rbl, l.arg, opt == 'a', &why))
        {
          char safe[81] ;
          mx_text_safe(safe, 80, l.arg, strlen(l.arg)) ;
          strerr_dief(100, "invalid zone spec ", safe, ": ", why) ;
        }
        break ;
      }
      case 's' : if (!mx_rbl_score_scan(l.arg, &S.cf.rbl.threshold)) dieusage() ; break ;
      case 'W' : if (!mx_rbl_score_scan(l.arg, &S.cf.rbl.allow_threshold)) dieusage() ; break ;
      case 'E' : S.cf.rbl.permanent = 1 ; break ;
      case 'm' : S.cf.rbl.template = l.arg ; break ;
      case 'Y' : S.cf.rbl.late = 1 ; break ;
      case 'f' : S.cf.cachefile = l.arg ; break ;
      case 'M' : if (!uint0_scan(l.arg, &S.cf.cachemax) || !S.cf.cachemax || S.cf.cachemax > CACHE_MAX_ENTRIES) dieusage() ; break ;
      case 'j' : case 'J' :
      {
        unsigned int ms ;
        if (!mx_secs_scan(l.arg, 86400000, &ms) || ms < 1000) dieusage() ;
        if (opt == 'j') S.cf.rbl_cap = ms / 1000 ; else S.cf.rdns_cap = ms / 1000 ;
        break ;
      }
      case 'e' : S.cf.handon = 1 ; break ;
      case 'C' : if (!uint0_scan(l.arg, &S.lim.maxconn)) dieusage() ; break ;
      case 'N' : if (!uint0_scan(l.arg, &S.cf.v6bits) || !S.cf.v6bits || S.cf.v6bits > 128) dieusage() ; break ;
      case 'L' :
        slash = strchr(l.arg, '/') ;
        if (!slash || slash == l.arg || uint_scan(l.arg, &S.lim.rate_n) != (size_t)(slash - l.arg) || !S.lim.rate_n
         || !mx_secs_scan(slash + 1, 86400000, &ratems) || !ratems) dieusage() ;
        S.lim.rate_ms = ratems ;
        break ;
      case 'S' : if (!uint0_scan(l.arg, &S.cf.maxscreen) || !S.cf.maxscreen) dieusage() ; break ;
      case 'P' : if (!mx_netlist_scan(&S.cf.balancers, l.arg, strlen(l.arg))) dieusage() ; break ;
      default : dieusage() ;
    }
  }
  argc -= l.ind ; argv += l.ind ;
  if (argc < 3) dieusage() ;
  if (S.cf.rbl.n && S.cf.rbl.threshold <= S.cf.rbl.allow_threshold) strerr_dief(100, "the score threshold (-s) must be above the allow threshold (-W)") ;
  {
    unsigned int i ;
    for (i = 0 ; i < 3 ; i++) if (S.cf.waits[i] > S.cf.maxwait) S.cf.maxwait = S.cf.waits[i] ;
  }
  *host = argv[0] ; *port = argv[1] ; S.cf.argv = argv + 2 ;
  lfd = listen_open(*host, *port, backlog) ;
  if (lfd == -2) dieusage() ;
  if (lfd < 0) strerr_diefu4sys(111, "listen on ", *host, " port ", *port) ;
  if (setgid_ && (setgroups(1, &gid) < 0 || setgid(gid) < 0)) strerr_diefu1sys(111, "set gid") ;
  if (setuid_ && setuid(uid) < 0) strerr_diefu1sys(111, "set uid") ;
  if (flag1) listen_print_port(lfd) ;
  return lfd ;
}
