/* proxyhdr-fuzz: libFuzzer harness for common/mx_proxyhdr:
 * proxyhdr_need, proxyhdr_parse and proxyhdr_make. The input is what a
 * balancer (or anyone) sends first. Aborts when the reader would take a
 * byte past a header, when a header is accepted that the need function
 * did not measure to its end, when an accepted address does not survive
 * a round trip through text, or when what was accepted, written again
 * by proxyhdr_make in the same version, is not read back the same
 * (addresses, ports, version).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mx_proxyhdr.h"

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
      {
        /* what is written is read back the same */
        unsigned char out[PROXYHDR_OUT_MAX] ;
        proxyhdr g ;
        size_t m = proxyhdr_make(out, h.version, &h.src, h.sport, &h.dst, h.dport) ;
        check(m <= PROXYHDR_OUT_MAX) ;
        check(proxyhdr_need(out, m, h.version) == (long)m) ;
        check(proxyhdr_parse(out, m, &g) == PROXYHDR_PROXY) ;
        check(g.version == h.version && g.sport == h.sport && g.dport == h.dport) ;
        check(ip46_is6(&g.src) == ip46_is6(&h.src) && !memcmp(g.src.ip, h.src.ip, ip46_is6(&h.src) ? 16 : 4)) ;
        check(ip46_is6(&g.dst) == ip46_is6(&h.dst) && !memcmp(g.dst.ip, h.dst.ip, ip46_is6(&h.dst) ? 16 : 4)) ;
      }
    }
  }
  return 0 ;
}
