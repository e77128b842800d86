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
