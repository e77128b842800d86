/* relaydb-check: lets a client that logged in by POP/IMAP relay.
 *
 * Usage: relaydb-check [ -d dir | -g group [-f file] [-T secs] ]
 *                      [ -m minutes ] [ -r value ] child...
 *
 * Reads:  TCPREMOTEIP, RELAYCLIENT.
 * Sets:   RELAYCLIENT=value (default empty) when the relay store holds an
 *         entry for the client no older than -m minutes (default 30).
 * Never overwrites an existing RELAYCLIENT. An entry found older than the
 * window is removed on the way (a renewal written meanwhile wins).
 * Fails closed: a store error, or a missing or invalid TCPREMOTEIP, leaves
 * RELAYCLIENT unset; the error is logged and child runs all the same.
 * Logs one line: relaydb-check: info: pid P ip A store=K ... result=R
 *   R = relay | unknown | expired | trusted (RELAYCLIENT was set) | error
 * Exit: 100 usage; 111 if child cannot be executed; otherwise child's.
 */
#include <stdlib.h>
#include <string.h>

#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "mx_client.h"
#include "mx_exec.h"
#include "mx_log.h"
#include "mx_mariadb.h"
#include "relaydb-opts.h"
#include "relaywindow.h"
#include "store.h"

#define USAGE "relaydb-check " RELAYDB_STORE_USAGE " [ -m minutes ] [ -r value ] child..."
#define dieusage() strerr_dieusage(100, USAGE)
#define MAX_MINUTES 5256000u  /* ten years */

char const *PROG = "relaydb-check" ;

int main (int argc, char const *const *argv)
{
  store_conf conf = { 0, 0, 0, 0 } ;
  unsigned int minutes = 30 ;
  char const *value = "" ;
  char ipt[MX_CLIENT_IPTEXT] ;
  char agestr[UINT64_FMT], winstr[UINT64_FMT] ;
  uint64_t now, window, cutoff, ts ;
  ip46 ip ;
  store st ;
  char const *const *args = argv ;   /* as given, for the SQL handover */
  char const *why ;
  int r ;

  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, RELAYDB_STORE_OPTS "m:r:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'm' :
          if (!uint0_scan(l.arg, &minutes) || minutes > MAX_MINUTES) dieusage() ;
          break ;
        case 'r' : value = l.arg ; break ;
        case '?' : dieusage() ;
        default :
          if (!relaydb_store_option(&conf, opt, l.arg)) dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc || !relaydb_store_ready(&conf)) dieusage() ;

  r = mx_client_ip(&ip, ipt) ;
  if (getenv("RELAYCLIENT"))
  {
    mx_info(ipt, "result=trusted") ;
    mx_exec(argv, "", 0) ;
  }
  if (!r)
  {
    mx_warn(ipt, "result=error reason=bad_TCPREMOTEIP") ;
    mx_exec(argv, "", 0) ;
  }

  now = relaydb_now() ;
  window = (uint64_t)minutes * 60 ;
  cutoff = relaywindow_cutoff(now, window) ;
  winstr[uint64_fmt(winstr, window)] = 0 ;

  if (conf.group && !mx_mariadb_handover(args, &why))
  {
    mx_warn(ipt, "store=sql result=error reason=", why) ;
    mx_exec(argv, "", 0) ;
  }
  if (!store_open(&st, &conf))
  {
    mx_warn(ipt, "store=", store_kind(&st), " result=error reason=", st.err) ;
    mx_exec(argv, "", 0) ;
  }
  r = store_get(&st, ipt, &ts) ;
  if (r < 0)
  {
    mx_warn(ipt, "store=", store_kind(&st), " result=error reason=", st.err) ;
    store_close(&st) ;
    mx_exec(argv, "", 0) ;
  }
  if (!r)
  {
    store_close(&st) ;
    mx_info(ipt, "store=", store_kind(&st), " window=", winstr, " result=unknown") ;
    mx_exec(argv, "", 0) ;
  }
  /* a timestamp in the future (relaydb add IP TICKS) counts as age 0 */
  agestr[uint64_fmt(agestr, relaywindow_age(ts, now))] = 0 ;
  if (relaywindow_fresh(ts, now, window))
  {
    size_t vlen = strlen(value) ;
    char *modif = malloc(sizeof "RELAYCLIENT=" + vlen) ;
    store_close(&st) ;
    if (!modif) strerr_diefu1sys(111, "allocate") ;
    memcpy(modif, "RELAYCLIENT=", sizeof "RELAYCLIENT=" - 1) ;
    memcpy(modif + sizeof "RELAYCLIENT=" - 1, value, vlen + 1) ;
    mx_info(ipt, "store=", store_kind(&st), " age=", agestr, " window=", winstr, " result=relay") ;
    mx_exec(argv, modif, sizeof "RELAYCLIENT=" + vlen) ;
  }
  if (store_delete_older(&st, ipt, cutoff) < 0)
    mx_warn(ipt, "store=", store_kind(&st), " result=expired reason=unable to remove the entry: ", st.err) ;
  store_close(&st) ;
  mx_info(ipt, "store=", store_kind(&st), " age=", agestr, " window=", winstr, " result=expired") ;
  mx_exec(argv, "", 0) ;
}
