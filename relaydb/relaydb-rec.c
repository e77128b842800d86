/* relaydb-rec: records a POP/IMAP client that has just logged in.
 *
 * Usage: relaydb-rec [ -d dir | -g group [-f file] [-T secs] ]
 *                    [ -t milliseconds ] child...
 *
 * Runs after checkpassword (or any login program): writes TCPREMOTEIP
 * with the current time into the relay store, then execs child.
 * Reads: TCPREMOTEIP. Sets nothing.
 * Never fails, blocks or delays the login beyond -t milliseconds
 * (default 1000): the write is done by a detached process; the login
 * waits for it at most that long, then goes on while the write finishes
 * (or fails) on its own. A missing, unwritable or full store, a dead SQL
 * server or a bad TCPREMOTEIP is logged and child runs all the same.
 * Logs one line: relaydb-rec: info: pid P ip A store=K ts=T result=recorded
 *   (or a warning with result=error reason=...).
 * Exit: 100 usage; 111 if child cannot be executed; otherwise child's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "mx_client.h"
#include "mx_exec.h"
#include "mx_log.h"
#include "mx_secs.h"
#include "mx_wait.h"
#include "relaydb-opts.h"
#include "store.h"

#define USAGE "relaydb-rec " RELAYDB_STORE_USAGE " [ -t milliseconds ] child..."
#define dieusage() strerr_dieusage(100, USAGE)

char const *PROG = "relaydb-rec" ;

/* The detached writer: runs apart from the login, which may have gone on
   already; it must not hold the client's connection open. */
static void record (store_conf const *conf, char const *ipt) gccattr_noreturn ;
static void record (store_conf const *conf, char const *ipt)
{
  char tsstr[UINT64_FMT] ;
  uint64_t now = relaydb_now() ;
  store st ;
  int devnull = open("/dev/null", O_RDWR) ;
  if (devnull >= 0) { fd_copy(0, devnull) ; fd_copy(1, devnull) ; close(devnull) ; }
  else { close(0) ; close(1) ; }
  tsstr[uint64_fmt(tsstr, now)] = 0 ;
  if (!store_open(&st, conf))
  {
    mx_warn(ipt, "store=", store_kind(&st), " result=error reason=", st.err) ;
    _exit(111) ;
  }
  if (!store_put(&st, ipt, now))
  {
    mx_warn(ipt, "store=", store_kind(&st), " result=error reason=", st.err) ;
    store_close(&st) ;
    _exit(111) ;
  }
  store_close(&st) ;
  mx_info(ipt, "store=", store_kind(&st), " ts=", tsstr, " result=recorded") ;
  _exit(0) ;
}

/* Starts the writer as a grandchild (so that no zombie is left to the
   login program) and waits at most ms for it to finish. */
static void record_detached (store_conf const *conf, char const *ipt, unsigned int ms)
{
  int p[2] ;
  pid_t pid ;
  if (pipe(p) < 0) { mx_warn(ipt, "result=error reason=pipe_failed") ; return ; }
  pid = fork() ;
  if (pid < 0)
  {
    mx_warn(ipt, "result=error reason=fork_failed") ;
    close(p[0]) ; close(p[1]) ;
    return ;
  }
  if (!pid)
  {
    close(p[0]) ;
    pid = fork() ;
    if (pid < 0) { mx_warn(ipt, "result=error reason=fork_failed") ; _exit(111) ; }
    if (pid) _exit(0) ;
    record(conf, ipt) ;  /* p[1] closes when it exits: that wakes us */
  }
  close(p[1]) ;
  /* the middle process only forks and exits: this wait is short */
  while (waitpid(pid, 0, 0) < 0 && errno == EINTR) continue ;
  if (!mx_wait_readable(p[0], mx_now_ms() + ms)) mx_warn(ipt, "result=pending reason=store slow, the login goes on") ;
  close(p[0]) ;
}

int main (int argc, char const *const *argv)
{
  store_conf conf = { 0, 0, 0, 0 } ;
  unsigned int ms = 1000 ;
  char ipt[MX_CLIENT_IPTEXT] ;
  ip46 ip ;

  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, RELAYDB_STORE_OPTS "t:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 't' :
          if (!uint0_scan(l.arg, &ms) || ms > 60000) dieusage() ;
          break ;
        case '?' : dieusage() ;
        default :
          if (!relaydb_store_option(&conf, opt, l.arg)) dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc || !relaydb_store_ready(&conf)) dieusage() ;

  if (!mx_client_ip(&ip, ipt))
  {
    mx_warn(ipt, "result=error reason=bad_TCPREMOTEIP") ;
  }
  else
  {
    mx_pidstr() ;  /* the writer logs under this pid, the session's */
    record_detached(&conf, ipt, ms) ;
  }
  mx_exec(argv, "", 0) ;
}
