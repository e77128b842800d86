/* listline: see listline.h. */
#include "listline.h"

#include <string.h>

#include "mx_dnsname.h"
#include "mx_text.h"
#include "mx_utf8.h"

/* a list is text the servers compare: mx_dnsname's list rule (letters,
   digits, '-', '_', any label length, one root dot, a literal "[...]",
   lower case) */
int listline_domain_ok (char const *d, size_t n)
{
  return mx_dnsname_ok(d, n, 0, MX_DNSNAME_LIST) ;
}

enum listline_kind listline_parse (char *s, size_t w, int keep_case, listline *l, char const **why)
{
  char *at ;
  size_t n ;
  if (memchr(s, 0, w)) { *why = ": NUL byte" ; return LISTLINE_BAD ; }
  while (w && (s[w-1] == ' ' || s[w-1] == '\t' || s[w-1] == '\r')) w-- ;
  while (w && (*s == ' ' || *s == '\t')) { s++ ; w-- ; }
  if (!w || *s == '#') return LISTLINE_SKIP ;
  for (n = 0 ; n < w ; n++)
    if ((unsigned char)s[n] <= 32 || (unsigned char)s[n] == 127)
    {
      *why = ": blank or unprintable byte inside the entry" ;
      return LISTLINE_BAD ;
    }
  if (mx_utf8_kind(s, w) == MX_UTF8_BAD) { *why = ": not valid UTF-8" ; return LISTLINE_BAD ; }
  s[w] = 0 ;
  at = strrchr(s, '@') ;
  if (!at)
  {
    mx_text_lower(s, w) ;
    if (w && s[w-1] == '.') w-- ;
    if (mx_utf8_kind(s, w) == MX_UTF8_UTF8)
    {
      w = mx_utf8_domain(s, w, l->out, sizeof l->out) ;
      s = l->out ;
    }
    if (!listline_domain_ok(s, w)) { *why = ": not a domain" ; return LISTLINE_BAD ; }
    l->domain = s ; l->dlen = w ;
    l->addr = 0 ; l->alen = 0 ;
    return LISTLINE_DOMAIN ;
  }
  else
  {
    size_t llen = (size_t)(at - s), dlen = w - llen - 1 ;
    if (dlen && at[dlen] == '.') dlen-- ;
    mx_text_lower(at + 1, dlen) ;
    if (!keep_case) mx_text_lower(s, llen) ;
    if (mx_utf8_kind(at + 1, dlen) == MX_UTF8_UTF8)
    {
      /* local@ then the A-labels, in out */
      if (llen + 1 >= sizeof l->out) { *why = ": not a domain after @" ; return LISTLINE_BAD ; }
      memcpy(l->out, s, llen + 1) ;
      dlen = mx_utf8_domain(at + 1, dlen, l->out + llen + 1, sizeof l->out - llen - 1) ;
      s = l->out ; at = s + llen ;
    }
    if (!listline_domain_ok(at + 1, dlen)) { *why = ": not a domain after @" ; return LISTLINE_BAD ; }
    l->domain = at + 1 ; l->dlen = dlen ;
    l->addr = s ; l->alen = llen + 1 + dlen ;
    return LISTLINE_ADDRESS ;
  }
}
