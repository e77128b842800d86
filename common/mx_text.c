/* mx_text: as rblsmtpd does, keep a client's bytes from forging log
   lines or replies: cut to a fixed length, printable ASCII only. */
#include "mx_text.h"

size_t mx_text_safe(char *dst, size_t max, char const *src, size_t len)
{
  size_t i ;
  if (len > max) len = max ;
  for (i = 0 ; i < len ; i++)
  {
    unsigned char c = (unsigned char)src[i] ;
    dst[i] = (c >= 32 && c <= 126) ? (char)c : '?' ;
  }
  dst[len] = 0 ;
  return len ;
}

void mx_text_lower (char *s, size_t n)
{
  for (; n-- ; s++) if (*s >= 'A' && *s <= 'Z') *s += 'a' - 'A' ;
}

int mx_text_decimal (char const *s, size_t n, unsigned long max, unsigned long *v)
{
  unsigned long x = 0 ;
  size_t i ;
  if (!n || (n > 1 && s[0] == '0')) return 0 ;
  for (i = 0 ; i < n ; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0 ;
    x = x * 10 + (unsigned long)(s[i] - '0') ;
    if (x > max) return 0 ;   /* before it could overflow */
  }
  *v = x ;
  return 1 ;
}
