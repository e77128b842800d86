/* utf8-fuzz: libFuzzer harness for mx_utf8 (common/mx_utf8.h).
 * Invariants: mx_utf8_kind agrees with a decoder written from RFC 3629's
 * definition in arithmetic (code point ranges, not the byte table the
 * code uses); a domain that mx_utf8_domain spells is non-empty, ASCII
 * only, in lower case, no longer than the room, and spelled again the
 * same (one spelling: U-labels and A-labels of one name meet). A domain
 * that is not UTF-8 is never spelled.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mx_utf8.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

/* RFC 3629 by arithmetic: the shortest form, no surrogates, <= U+10FFFF */
static enum mx_utf8_kind reference (uint8_t const *s, size_t n)
{
  enum mx_utf8_kind kind = MX_UTF8_ASCII ;
  size_t i = 0 ;
  while (i < n)
  {
    uint32_t cp, min ;
    size_t want, k ;
    if (s[i] < 0x80) { i++ ; continue ; }
    if ((s[i] & 0xe0) == 0xc0) { want = 2 ; cp = s[i] & 0x1f ; min = 0x80 ; }
    else if ((s[i] & 0xf0) == 0xe0) { want = 3 ; cp = s[i] & 0x0f ; min = 0x800 ; }
    else if ((s[i] & 0xf8) == 0xf0) { want = 4 ; cp = s[i] & 0x07 ; min = 0x10000 ; }
    else return MX_UTF8_BAD ;
    if (n - i < want) return MX_UTF8_BAD ;
    for (k = 1 ; k < want ; k++)
    {
      if ((s[i + k] & 0xc0) != 0x80) return MX_UTF8_BAD ;
      cp = (cp << 6) | (s[i + k] & 0x3f) ;
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return MX_UTF8_BAD ;
    kind = MX_UTF8_UTF8 ;
    i += want ;
  }
  return kind ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char out[256], again[256] ;
  enum mx_utf8_kind kind = mx_utf8_kind((char const *)data, size) ;
  size_t n, m, i ;
  check(kind == reference(data, size)) ;
  n = mx_utf8_domain((char const *)data, size, out, sizeof out) ;
  if (!n) return 0 ;
  check(kind != MX_UTF8_BAD) ;
  check(n < sizeof out && out[n] == 0 && strlen(out) == n) ;
  for (i = 0 ; i < n ; i++) check((unsigned char)out[i] < 0x80 && !(out[i] >= 'A' && out[i] <= 'Z')) ;
  m = mx_utf8_domain(out, n, again, sizeof again) ;
  check(m == n && !memcmp(out, again, n)) ;
  return 0 ;
}
