/* mx_utf8: see mx_utf8.h. */
#include "mx_utf8.h"

#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "mx_text.h"

/* Length of the well-formed UTF-8 sequence at s (n bytes available,
   s[0] >= 0x80), or 0: RFC 3629 section 4's table, byte by byte. */
static size_t sequence (unsigned char const *s, size_t n)
{
  unsigned char lo = 0x80, hi = 0xbf ;
  size_t want, i ;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) want = 2 ;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
  {
    want = 3 ;
    if (s[0] == 0xe0) lo = 0xa0 ;        /* no overlong form */
    else if (s[0] == 0xed) hi = 0x9f ;   /* no surrogate */
  }
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
  {
    want = 4 ;
    if (s[0] == 0xf0) lo = 0x90 ;        /* no overlong form */
    else if (s[0] == 0xf4) hi = 0x8f ;   /* nothing above U+10FFFF */
  }
  else return 0 ;
  if (n < want || s[1] < lo || s[1] > hi) return 0 ;
  for (i = 2 ; i < want ; i++) if (s[i] < 0x80 || s[i] > 0xbf) return 0 ;
  return want ;
}

enum mx_utf8_kind mx_utf8_kind (char const *s, size_t len)
{
  unsigned char const *u = (unsigned char const *)s ;
  enum mx_utf8_kind kind = MX_UTF8_ASCII ;
  size_t i = 0 ;
  while (i < len)
  {
    size_t n ;
    if (u[i] < 0x80) { i++ ; continue ; }
    n = sequence(u + i, len - i) ;
    if (!n) return MX_UTF8_BAD ;
    kind = MX_UTF8_UTF8 ;
    i += n ;
  }
  return kind ;
}

size_t mx_utf8_domain (char const *d, size_t len, char *out, size_t room)
{
  enum mx_utf8_kind kind = mx_utf8_kind(d, len) ;
  char *in, *alabels = 0 ;
  size_t n ;
  int r ;
  if (!len || kind == MX_UTF8_BAD || memchr(d, 0, len)) return 0 ;
  if (kind == MX_UTF8_ASCII)
  {
    if (len >= room) return 0 ;
    memcpy(out, d, len) ;
    out[len] = 0 ;
    mx_text_lower(out, len) ;
    return len ;
  }
  /* libidn2 wants a C string */
  in = malloc(len + 1) ;
  if (!in) return 0 ;
  memcpy(in, d, len) ;
  in[len] = 0 ;
  r = idn2_lookup_u8((uint8_t const *)in, (uint8_t **)&alabels, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) ;
  free(in) ;
  if (r != IDN2_OK) return 0 ;
  n = strlen(alabels) ;
  if (!n || n >= room) { idn2_free(alabels) ; return 0 ; }
  memcpy(out, alabels, n + 1) ;
  idn2_free(alabels) ;
  mx_text_lower(out, n) ;
  return n ;
}
