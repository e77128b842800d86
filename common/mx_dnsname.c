/* mx_dnsname: see mx_dnsname.h. */
#include "mx_dnsname.h"

static int is_digit (char c) { return c >= '0' && c <= '9' ; }
static int is_lower (char c) { return c >= 'a' && c <= 'z' ; }
static int is_upper (char c) { return c >= 'A' && c <= 'Z' ; }

int mx_dnsname_ok (char const *s, size_t n, size_t max, unsigned int flags)
{
  size_t i, start = 0 ;
  if (!n || (max && n > max)) return 0 ;
  if (s[0] == '[' && flags & MX_DNSNAME_LITERAL) return n > 2 && s[n - 1] == ']' ;
  if (n > 1 && s[n - 1] == '.' && flags & MX_DNSNAME_ROOTDOT) n-- ;
  for (i = 0 ; i <= n ; i++)
  {
    char c ;
    if (i == n || s[i] == '.')
    {
      size_t len = i - start ;
      if (!len) return 0 ;   /* an empty label */
      if (len > MX_DNSNAME_LABEL_MAX && !(flags & MX_DNSNAME_LONG)) return 0 ;
      if (!(flags & MX_DNSNAME_HYPHENS) && (s[start] == '-' || s[i - 1] == '-')) return 0 ;
      start = i + 1 ;
      continue ;
    }
    c = s[i] ;
    if (is_lower(c) || is_digit(c) || c == '-') continue ;
    if (is_upper(c) && !(flags & MX_DNSNAME_LOWER)) continue ;
    if (c == '_' && flags & MX_DNSNAME_UNDERSCORE) continue ;
    return 0 ;
  }
  return 1 ;
}
