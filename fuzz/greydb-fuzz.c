/* greydb-fuzz: libFuzzer harness for greyline_parse, the line parser of
 * "greydb load" (configuration text an administrator feeds back). The
 * input is split at newlines; each line is parsed from a buffer of
 * exactly its length. Invariants:
 *   - a refusal names its reason, and leaves no half record taken;
 *   - a triplet or network parsed has a canonical network (greyline_net
 *     holds, its prefix within the family's), fields of printable ASCII
 *     without blanks within GREY_FIELD_MAX, times within GREY_TS_MAX,
 *     and a pass not before the first sighting;
 *   - the line greydb dump prints for it is at most GREYLINE_MAX bytes
 *     and parses back to the very same record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greyline.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static void field_ok (char const *s)
{
  size_t n = strlen(s), i ;
  check(n >= 1 && n <= GREY_FIELD_MAX) ;
  for (i = 0 ; i < n ; i++) check((unsigned char)s[i] > 32 && (unsigned char)s[i] < 127) ;
}

static void one_line (uint8_t const *data, size_t len)
{
  static greyline l, l2 ;
  char out[GREYLINE_MAX + 2] ;
  char const *why = 0, *why2 = 0 ;
  enum greyline_kind k, k2 ;
  size_t n ;
  char *s = malloc(len ? len : 1) ;
  check(s != 0) ;
  memcpy(s, data, len) ;
  k = greyline_parse(s, len, &l, &why) ;
  if (k == GREYLINE_BAD) { check(why && *why) ; free(s) ; return ; }
  check(!why) ;
  if (k == GREYLINE_EMPTY) { check(!len || s[0] == '#') ; free(s) ; return ; }
  check(greyline_net(l.net)) ;
  check(strlen(l.net) <= GREY_NET_MAX) ;
  if (k == GREYLINE_TRIPLET)
  {
    field_ok(l.sender) ; field_ok(l.rcpt) ;
    check(l.r.first <= GREY_TS_MAX && l.r.passed <= GREY_TS_MAX && l.r.count <= GREY_TS_MAX) ;
    check(!l.r.passed || l.r.passed >= l.r.first) ;
    n = greyline_fmt(out, l.net, l.sender, l.rcpt, &l.r, 0) ;
  }
  else
  {
    check(k == GREYLINE_NET) ;
    check(l.n.passes <= GREY_TS_MAX && l.n.last <= GREY_TS_MAX) ;
    n = greyline_fmt(out, l.net, 0, 0, 0, &l.n) ;
  }
  check(n >= 2 && n <= GREYLINE_MAX + 1 && out[n - 1] == '\n' && strlen(out) == n) ;
  k2 = greyline_parse(out, n - 1, &l2, &why2) ;
  check(k2 == k) ;
  check(!memcmp(&l, &l2, sizeof l)) ;
  /* the dump line is the input itself, byte for byte */
  check(n - 1 == len && !memcmp(out, s, len)) ;
  free(s) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  size_t i = 0 ;
  while (i <= size)
  {
    uint8_t const *nl = i < size ? memchr(data + i, '\n', size - i) : 0 ;
    size_t e = nl ? (size_t)(nl - data) : size ;
    one_line(data + i, e - i) ;
    i = e + 1 ;
  }
  return 0 ;
}
