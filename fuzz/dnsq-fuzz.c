/* dnsq-fuzz: libFuzzer harness for mx_dns_ttl (common/mx_dnsq.c, the
 * one parser of DNS answers of mx_dnsq's own: libowfat's dns_*_packet
 * give no TTL). The input is one answer packet, as a server sent it.
 *
 * Linked with the unsealed objects and libowfat (mx_dns_ttl is made
 * local by the seal), and with no skalibs: nothing here needs it.
 *
 * Invariants:
 *  - the packet is read within its bytes only (ASan: the copy has
 *    exactly its length);
 *  - the TTL is what a plain reading of RFC 1035's layout gives (the
 *    model below, written apart from libowfat's helpers): the lowest
 *    answer TTL; with no answer record, the lower of the first
 *    authority SOA's TTL and MINIMUM, within that record; 0 for a
 *    packet that is not so laid out (no single question, a record
 *    cut short, a label of a reserved kind);
 *  - never above 2^31 - 1 (RFC 2181: a TTL with its top bit set is 0);
 *  - a packet whose TTL is known keeps it when bytes are added at its
 *    end (the parser reads only what it needs), and its answer TTL
 *    does not rise when the header announces fewer answer records.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mx_dnsseal.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static unsigned long be32 (uint8_t const *p)
{
  return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3] ;
}

static unsigned long ttl (uint8_t const *p)
{
  unsigned long t = be32(p) ;
  return t & 0x80000000UL ? 0 : t ;
}

/* past the name at *pos: labels to a 0, or a 2-byte pointer (not
   followed: only skipped). 0 on a reserved label kind or the end. */
static int skip (uint8_t const *b, size_t n, size_t *pos)
{
  for (;;)
  {
    uint8_t c ;
    if (*pos >= n) return 0 ;
    c = b[(*pos)++] ;
    if ((c & 0xc0) == 0xc0) { *pos += 1 ; return 1 ; }
    if (c & 0xc0) return 0 ;
    if (!c) return 1 ;
    *pos += c ;
  }
}

static unsigned long model (uint8_t const *b, size_t n)
{
  size_t pos = 12, i, an, ns ;
  unsigned long low = 0 ;
  if (n < 12 || b[4] != 0 || b[5] != 1) return 0 ;
  an = (size_t)b[6] << 8 | b[7] ;
  ns = (size_t)b[8] << 8 | b[9] ;
  if (!skip(b, n, &pos) || pos + 4 > n) return 0 ;
  pos += 4 ;
  if (an)
  {
    for (i = 0 ; i < an ; i++)
    {
      unsigned long t ;
      if (!skip(b, n, &pos) || pos + 10 > n) return 0 ;
      t = ttl(b + pos + 4) ;
      if (!i || t < low) low = t ;
      pos += 10 + ((size_t)b[pos + 8] << 8 | b[pos + 9]) ;
      if (pos > n) return 0 ;
    }
    return low ;
  }
  for (i = 0 ; i < ns ; i++)
  {
    size_t rdata, end, p ;
    if (!skip(b, n, &pos) || pos + 10 > n) return 0 ;
    rdata = pos + 10 ;
    end = rdata + ((size_t)b[pos + 8] << 8 | b[pos + 9]) ;
    if (end > n) return 0 ;
    if (b[pos] == 0 && b[pos + 1] == 6)
    {
      unsigned long t = ttl(b + pos + 4), min ;
      p = rdata ;
      if (!skip(b, n, &p) || !skip(b, n, &p) || p + 20 > end) return 0 ;
      min = ttl(b + p + 16) ;
      return min < t ? min : t ;
    }
    pos = end ;
  }
  return 0 ;
}

static unsigned int ttl_of_copy (uint8_t const *data, size_t size)
{
  char *p = malloc(size ? size : 1) ;
  unsigned int r ;
  check(p != 0) ;
  if (size) memcpy(p, data, size) ;
  r = mx_dns_ttl(p, (unsigned int)size) ;
  free(p) ;
  return r ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  unsigned int r ;
  if (size > 65535) return 0 ;
  r = ttl_of_copy(data, size) ;
  check(r <= 0x7fffffffUL) ;
  check(r == model(data, size)) ;
  if (r && size + 16 <= 65535)
  {
    uint8_t *more = malloc(size + 16) ;
    check(more != 0) ;
    memcpy(more, data, size) ;
    memset(more + size, 0xc0, 16) ;
    check(ttl_of_copy(more, size + 16) == r) ;
    /* fewer answers announced: the lowest of fewer is no lower */
    if (size >= 12 && (more[6] || more[7] > 1))
    {
      unsigned int an = (unsigned int)more[6] << 8 | more[7] ;
      an-- ;
      more[6] = (uint8_t)(an >> 8) ;
      more[7] = (uint8_t)an ;
      check(ttl_of_copy(more, size) >= r) ;
    }
    free(more) ;
  }
  return 0 ;
}
