/* smtp-tls: STARTTLS (RFC 3207) for any SMTP server on stdin/stdout,
 * as a link of the chain: the TLS of the client's connection ends here,
 * and everything behind sees the conversation in clear.
 *
 * Usage: smtp-tls [ -c cert ] [ -k key ] [ -i ] [ -a ] [ -l name ]
 *          [ -h secs ] [ -t secs ] child...
 *
 * Reads the certificate chain (-c, PEM, default /etc/mxguard/tls/
 * cert.pem) and its key (-k, default: the -c file) at every connection
 * that asks for TLS, loading OpenSSL then (tls.h): a session in clear
 * never maps it. Runs child on two pipes and follows the session
 * (session.h) until it can relay bytes (io.h, mx_relay.h), offering
 * STARTTLS in the child's EHLO answers; after the handshake the client
 * must say EHLO again before MAIL or AUTH (session.h). -i: implicit TLS
 * (SMTPS, port 465), the handshake first, then the child is started (so
 * that smtp-delay behind it times the greeting from there). -a: AUTH
 * offered and taken inside TLS only (538 in clear). -l: the name in the
 * trace field's "by" (default TCPLOCALHOST, else the host's name).
 * -h: the handshake's deadline (default 30 s); -t: the idle time
 * (default 1200 s).
 * Environment: TCPREMOTEIP for the log and the trace field,
 * TCPLOCALHOST for the trace field. RELAYCLIENT changes nothing: a
 * trusted client wants TLS too.
 * A message received in TLS gets a Received field at its head, with
 * RFC 8314's tls clause (session.h); in clear, none.
 * A certificate or key that cannot be read: STARTTLS is not offered;
 * one that OpenSSL cannot use (found at STARTTLS): 454 4.7.0; either
 * way mail is still taken in clear, and a warning is logged (an MX must
 * keep receiving); with -i the client is dropped (exit 111): it speaks
 * only TLS.
 * One log line per session:
 *   smtp-tls: info: pid P ip A tls=TLSv1.3 cipher=C sni=S [ injected=N ] result=R
 *   smtp-tls: info: pid P ip A tls=none result=R
 * Exit: 100 usage; 111 the child cannot be started, or -i without a
 * certificate; 0 after a session.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/env.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "mx_child.h"
#include "mx_client.h"
#include "mx_linger.h"
#include "mx_log.h"
#include "mx_secs.h"
#include "mx_text.h"
#include "io.h"
#include "tls.h"

#define USAGE "smtp-tls [ -c cert ] [ -k key ] [ -i ] [ -a ] [ -l name ] [ -h secs ] [ -t secs ] child..."
#define dieusage() strerr_dieusage(100, USAGE)

char const *PROG = "smtp-tls" ;

static char const *cert = "/etc/mxguard/tls/cert.pem", *key = 0 ;
static char ipt[MX_CLIENT_IPTEXT] ;

static void unavailable (char const *err)
{
  char safe[200] ;
  mx_text_safe(safe, sizeof safe - 1, err, strlen(err)) ;
  mx_warn(ipt, "tls=unavailable error=", safe) ;
}

/* at the first STARTTLS: OpenSSL, the certificate and the key */
static int tls_ready (void)
{
  char err[256] ;
  if (stls_load(cert, key, err, sizeof err)) return 1 ;
  unavailable(err) ;
  return 0 ;
}

static unsigned int secs (char const *arg, unsigned int max_ms)
{
  unsigned int ms ;
  if (!mx_secs_scan(arg, max_ms, &ms) || !ms) dieusage() ;
  return ms ;
}

int main (int argc, char const *const *argv)
{
  session_conf rc = { .tls_ready = &tls_ready } ;
  unsigned int handshake_ms = 30000, idle_ms = 1200000 ;
  io_stats st = { 0 } ;
  char const *result ;
  char err[256], host[256] ;
  int fds[2] = { 0, 1 } ;
  ip46 ip ;
  pid_t pid ;

  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "c:k:ial:h:t:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'c' : cert = l.arg ; break ;
        case 'k' : key = l.arg ; break ;
        case 'i' : rc.implicit = 1 ; break ;
        case 'a' : rc.auth_tls_only = 1 ; break ;
        case 'l' : rc.local_name = l.arg ; break ;
        case 'h' : handshake_ms = secs(l.arg, 3600000) ; break ;
        case 't' : idle_ms = secs(l.arg, 86400000) ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc || !*argv[0] || !*cert || (key && !*key) || (rc.local_name && !*rc.local_name)) dieusage() ;
  if (!key) key = cert ;
  if (mx_client_ip(&ip, ipt)) rc.client_ip = ipt ;
  if (!rc.local_name) rc.local_name = getenv("TCPLOCALHOST") ;
  if (!rc.local_name || !*rc.local_name)
  {
    if (gethostname(host, sizeof host - 1) < 0) host[0] = 0 ;
    host[sizeof host - 1] = 0 ;
    rc.local_name = host ;
  }

  /* OpenSSL only for a session that uses TLS: here, only a look at
     the files; with -i, TLS comes first */
  rc.tls_ok = rc.implicit ? stls_load(cert, key, err, sizeof err) : stls_usable(cert, key, err, sizeof err) ;
  if (!rc.tls_ok)
  {
    unavailable(err) ;
    if (rc.implicit) return 111 ;
  }

  /* implicit TLS: the child (smtp-delay, the server) starts once TLS
     is up, so that its greeting delay counts from there, and a failed
     handshake costs no server */
  if (rc.implicit && (result = io_handshake(handshake_ms, &st)))
  {
    char safe[200] ;
    mx_text_safe(safe, sizeof safe - 1, st.err, strlen(st.err)) ;
    mx_warn(ipt, "tls=failed result=", result, " error=", safe) ;
    return 0 ;
  }

  pid = mx_child_spawn(argv, fds) ;
  if (!pid)
  {
    static char const msg[] = "421 4.3.0 mail server unavailable, closing connection\r\n" ;
    int e = errno ;
    if (!rc.implicit) allwrite(1, msg, sizeof msg - 1) ;
    errno = e ;
    strerr_diefu2sys(111, "spawn ", argv[0]) ;
  }
  signal(SIGPIPE, SIG_IGN) ;

  result = io_run(&rc, handshake_ms, idle_ms, fds[0], fds[1], &st) ;
  if (strcmp(result, "client-gone") && strcmp(result, "handshake-failed") && strcmp(result, "handshake-timeout"))
    mx_linger(0, 1, 1000) ;
  mx_child_end(pid, fds[0]) ;

  if (st.tls)
  {
    char sni[200], inj[UINT64_FMT] ;
    char const *s = stls_sni() ;
    mx_text_safe(sni, sizeof sni - 1, s, strlen(s)) ;
    inj[uint64_fmt(inj, session_injected())] = 0 ;
    mx_info(ipt, "tls=", stls_protocol(), " cipher=", stls_cipher(), " sni=", *sni ? sni : "-",
            session_injected() ? " injected=" : "", session_injected() ? inj : "", " result=", result) ;
  }
  else if (!strncmp(result, "handshake", 9))
  {
    char safe[200] ;
    mx_text_safe(safe, sizeof safe - 1, st.err, strlen(st.err)) ;
    mx_warn(ipt, "tls=failed result=", result, " error=", safe) ;
  }
  else mx_info(ipt, "tls=none result=", result) ;
  return 0 ;
}
