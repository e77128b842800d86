/* text-test: mx_text_safe cuts and replaces as rblsmtpd does. */
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
  return tap_done() ;
}
