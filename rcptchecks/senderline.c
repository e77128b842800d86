/* senderline: see senderline.h. */
#include "senderline.h"

#include <string.h>
#include <strings.h>

#include "listline.h"
#include "mx_text.h"

static int blank (char c) { return c == ' ' || c == '\t' || c == '\r' ; }

enum senderline_kind senderline_parse (char *s, size_t len, senderline *l, char const **why)
{
  size_t i = 0, p, pe, a, ae, n ;
  char *at ;
  if (memchr(s, 0, len)) { *why = ": NUL byte" ; return SENDERLINE_BAD ; }
  while (i < len && blank(s[i])) i++ ;
  while (len > i && blank(s[len-1])) len-- ;
  if (i == len || s[i] == '#') return SENDERLINE_SKIP ;
  p = i ;
  while (i < len && !blank(s[i])) i++ ;
  pe = i ;
  while (i < len && blank(s[i])) i++ ;
  a = i ;
  while (i < len && !blank(s[i])) i++ ;
  ae = i ;
  while (i < len && blank(s[i])) i++ ;
  for (size_t k = p ; k < pe ; k++) if ((unsigned char)s[k] < 33 || (unsigned char)s[k] > 126) { *why = ": unprintable byte in the pattern" ; return SENDERLINE_BAD ; }
  if (ae - a == 2 && !strncasecmp(s + a, "OK", 2)) { if (i < len) { *why = ": text after OK" ; return SENDERLINE_BAD ; } l->reject = 0 ; }
  else if (ae - a == 6 && !strncasecmp(s + a, "REJECT", 6)) l->reject = 1 ;
  else { *why = ": no OK or REJECT after the pattern" ; return SENDERLINE_BAD ; }
  l->text = 0 ; l->textlen = 0 ;
  if (i < len)
  {
    for (size_t k = i ; k < len ; k++) if ((unsigned char)s[k] < 32 || (unsigned char)s[k] > 126) { *why = ": unprintable byte in the text" ; return SENDERLINE_BAD ; }
    if (len - i > SENDERLINE_TEXT_MAX) { *why = ": text longer than 200 bytes" ; return SENDERLINE_BAD ; }
    l->text = s + i ; l->textlen = len - i ;
  }
  n = pe - p ;
  mx_text_lower(s + p, n) ;
  at = memchr(s + p, '@', n) ;
  if (at && at == s + p) { l->kind = 'd' ; p++ ; n-- ; }
  else if (at)
  {
    size_t local = (size_t)(at - (s + p)) ;
    if (memchr(at + 1, '@', n - local - 1)) { *why = ": two @ in the pattern" ; return SENDERLINE_BAD ; }
    if (!listline_domain_ok(at + 1, n - local - 1)) { *why = ": not a domain after @" ; return SENDERLINE_BAD ; }
    l->kind = 'a' ; l->key = s + p ; l->keylen = n ;
    return SENDERLINE_ENTRY ;
  }
  else if (s[p] == '.') { l->kind = 's' ; p++ ; n-- ; }
  else l->kind = 'd' ;
  if (n > 1 && s[p + n - 1] == '.') n-- ;   /* a root dot: the same name */
  if (!listline_domain_ok(s + p, n) || s[p] == '[') { *why = ": not a domain" ; return SENDERLINE_BAD ; }
  l->key = s + p ; l->keylen = n ;
  return SENDERLINE_ENTRY ;
}

unsigned int senderline_keys (char const *addr, char const *domain, char keys[][SENDERLINE_KEY_MAX], unsigned int max)
{
  unsigned int n = 0 ;
  size_t al = strlen(addr), dl = strlen(domain) ;
  if (!max || al + 3 > SENDERLINE_KEY_MAX || dl + 3 > SENDERLINE_KEY_MAX) return 0 ;
  memcpy(keys[n], "a:", 2) ;
  memcpy(keys[n] + 2, addr, al + 1) ;
  mx_text_lower(keys[n] + 2, al) ;
  n++ ;
  if (!dl) return n ;
  if (n < max) { memcpy(keys[n], "d:", 2) ; memcpy(keys[n] + 2, domain, dl + 1) ; n++ ; }
  for (char const *p = strchr(domain, '.') ; p && n < max ; p = strchr(p + 1, '.'))
  {
    if (!p[1]) break ;
    memcpy(keys[n], "s:", 2) ;
    strcpy(keys[n] + 2, p + 1) ;
    n++ ;
  }
  return n ;
}
