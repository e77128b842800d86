/* text-test: mx_text_safe cuts and replaces as rblsmtpd does;
 * mx_text_decimal reads strict decimals (ports, prefix lengths). */
#include <string.h>

#include "mx_text.h"
#include "tap.h"

int main (void)
{
  char out[8] ;
  size_t n ;
  n = mx_text_safe(out, 7, "ab\r\n\0\x7f\xff", 7) ;
  tap_ok(n == 7 && !memcmp(out, "ab?????", 8), "control, DEL, 8-bit and NUL become ?") ;
  n = mx_text_safe(out, 3, "abcdef", 6) ;
  tap_ok(n == 3 && !strcmp(out, "abc"), "cut to max") ;
  n = mx_text_safe(out, 7, "", 0) ;
  tap_ok(n == 0 && !out[0], "empty stays empty") ;
  n = mx_text_safe(out, 7, " ~", 2) ;
  tap_ok(n == 2 && !strcmp(out, " ~"), "32 and 126 are kept") ;
  {
    static struct { char const *s ; unsigned long max ; int ok ; unsigned long v ; } const d[] =
    {
      { "0", 10, 1, 0 }, { "7", 10, 1, 7 }, { "10", 10, 1, 10 }, { "11", 10, 0, 0 },
      { "65535", 65535, 1, 65535 }, { "65536", 65535, 0, 0 }, { "01", 10, 0, 0 }, { "", 10, 0, 0 },
      { "-1", 10, 0, 0 }, { "+1", 10, 0, 0 }, { "1 ", 10, 0, 0 }, { "99999999999999999999999", 128, 0, 0 },
    } ;
    size_t i ;
    for (i = 0 ; i < sizeof d / sizeof *d ; i++)
    {
      unsigned long v = 12345 ;
      int ok = mx_text_decimal(d[i].s, strlen(d[i].s), d[i].max, &v) ;
      tap_ok(ok == d[i].ok && (!ok || v == d[i].v), d[i].s[0] ? d[i].s : "(empty)") ;
    }
  }
  return tap_done() ;
}
