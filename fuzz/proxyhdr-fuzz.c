/* proxyhdr-fuzz: libFuzzer harness for proxyhdr_need and
 * proxyhdr_parse. The input is what a balancer (or anyone) sends first.
 * Aborts when the reader would take a byte past a header, when a header
 * is accepted that the need function did not measure to its end, or
 * when an accepted address does not survive a round trip through text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyhdr.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  unsigned int versions = size ? 1 + data[0] % 3 : 3 ;
  unsigned char const *s = size ? data + 1 : data ;
  size_t n = size ? size - 1 : 0, have = 0 ;
  long need ;
  for (;;)
  {
    need = proxyhdr_need(s, have, versions) ;
    check(need == -1 || (size_t)need >= have) ;
    if (need < 0 || (size_t)need == have) break ;
    check((size_t)need <= 16 + PROXYHDR_V2_BODY_MAX) ;
    if ((size_t)need > n) return 0 ;    /* the stream ends first */
    have = (size_t)need ;   /* what the reader asks for, all of it */
  }
  if (need < 0) return 0 ;
  {
    proxyhdr h ;
    enum proxyhdr_kind k = proxyhdr_parse(s, have, &h) ;
    if (k == PROXYHDR_PROXY)
    {
      char t[MX_IP_FMT], u[MX_IP_FMT] ;
      ip46 back ;
      size_t tl ;
      check(h.version == 1 || h.version == 2) ;
      /* canonical: the text scans back to the same text */
      tl = mx_ip_fmt(t, &h.src) ;
      check(mx_ip_scan(t, tl, &back) && mx_ip_fmt(u, &back) == tl && !memcmp(t, u, tl)) ;
      tl = mx_ip_fmt(t, &h.dst) ;
      check(mx_ip_scan(t, tl, &back) && mx_ip_fmt(u, &back) == tl && !memcmp(t, u, tl)) ;
      if (h.version == 1) check(have <= PROXYHDR_V1_MAX && s[have - 1] == '\n') ;
    }
  }
  return 0 ;
}
