/* mx_text: network text made safe for a log line or an SMTP reply. */
#ifndef MX_TEXT_H
#define MX_TEXT_H

#include <stddef.h>

/* Copies at most max bytes of src (len bytes) into dst and NUL-terminates
   it; every byte outside 32..126 becomes '?'. dst has room for max + 1
   bytes. Returns the number of bytes written before the NUL. */
extern size_t mx_text_safe(char *dst, size_t max, char const *src, size_t len);

/* Lower-cases the ASCII letters of s[0..n) in place (DNS names and
   mail domains: no locale). */
extern void mx_text_lower (char *s, size_t n) ;

/* Reads s[0..n) as a decimal number as configuration and headers write
   one: digits only, no sign, no leading zero (but "0" itself), at most
   max. Returns 1 and sets *v, or 0. */
extern int mx_text_decimal (char const *s, size_t n, unsigned long max, unsigned long *v) ;

#endif
