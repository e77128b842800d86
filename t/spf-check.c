/* spf-check: evaluates SPF (common/mx_spf.h) for t/spf.t with the real
 * DNS client (the sealed mx_dns object, DNSCACHEIP), as a program of
 * the chain would.
 *
 *   spf-check IP SENDER HELO [MS [COUNT]]
 *
 * SENDER "" is MAIL FROM:<> (the HELO identity, postmaster@HELO). MS
 * bounds the whole evaluation (default 5000). COUNT evaluations one
 * after another (default 1; bench/spf-bench, for the CPU time of one
 * evaluation without an exec each). Prints one line, of the last:
 *   RESULT terms=N voids=N queries=N ms=N exp=TEXT why=TEXT
 * Exit 0, or 100 on bad arguments.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mx_spf.h"

static long long now_ms (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_MONOTONIC, &ts) ;
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 ;
}

int main (int argc, char **argv)
{
  mx_spf s ;
  mx_spf_dnsctx c ;
  enum mx_spf_result r ;
  unsigned int ms = argc > 4 ? (unsigned int)strtoul(argv[4], 0, 10) : 5000 ;
  unsigned long count = argc > 5 ? strtoul(argv[5], 0, 10) : 1 ;
  long long t0 ;
  if (argc < 4 || !count) { fprintf(stderr, "spf-check: usage: spf-check ip sender helo [ms [count]]\n") ; return 100 ; }
 again:
  memset(&s, 0, sizeof s) ;
  s.is6 = strchr(argv[1], ':') != 0 ;
  if (inet_pton(s.is6 ? AF_INET6 : AF_INET, argv[1], s.ip) != 1) { fprintf(stderr, "spf-check: bad ip\n") ; return 100 ; }
  s.receiver = "mx.test.example" ;
  s.now = time(0) ;
  t0 = now_ms() ;
  mx_dns_spf_start(&c, ms) ;
  s.dns.ask = &mx_dns_spf_ask ;
  s.dns.ctx = &c ;
  r = mx_spf_check_mailfrom(&s, argv[2], argv[3]) ;
  if (--count) goto again ;
  printf("%s terms=%u voids=%u queries=%u ms=%lld exp=%s why=%s\n", mx_spf_result_name(r), s.terms, s.voids, s.queries, now_ms() - t0, s.exp, s.why) ;
  return 0 ;
}
