/* spfallow: see spfallow.h. */
#include "spfallow.h"

#include <string.h>

#include "listline.h"

long spfallow_parse (char *text, size_t n, char *list, size_t max, unsigned int *line, char const **why)
{
  size_t i = 0, used = 0 ;
  unsigned int ln = 0 ;
  while (i < n)
  {
    size_t e = i ;
    listline l ;
    while (e < n && text[e] != '\n') e++ ;
    ln++ ;
    switch (listline_parse(text + i, e - i, 0, &l, why))
    {
      case LISTLINE_SKIP : break ;
      case LISTLINE_DOMAIN :
        if (l.dlen >= max - used) { *line = ln ; *why = ": too many domains" ; return -1 ; }
        memcpy(list + used, l.domain, l.dlen) ;
        used += l.dlen ;
        list[used++] = 0 ;
        break ;
      case LISTLINE_ADDRESS : *line = ln ; *why = ": an address, not a domain" ; return -1 ;
      default : *line = ln ; return -1 ;
    }
    i = e + 1 ;
  }
  return (long)used ;
}

int spfallow_match (char const *list, size_t len, char const *domain)
{
  size_t dl = strlen(domain), i = 0 ;
  while (i < len)
  {
    size_t el = strlen(list + i) ;
    if (el && el <= dl && !memcmp(domain + dl - el, list + i, el) && (el == dl || domain[dl - el - 1] == '.')) return 1 ;
    i += el + 1 ;
  }
  return 0 ;
}
