/* sender: see sender.h. */
#include "sender.h"

#include <string.h>

#include "helo.h"
#include "mx_text.h"

enum sender_form sender_parse (char const *arg, size_t len, size_t params, size_t paramslen, sender *s)
{
  size_t i = 5, end = paramslen ? params : len ;   /* after "FROM:" */
  char const *at ;
  s->addr[0] = s->domain[0] = 0 ;
  s->locallen = 0 ;
  while (i < end && arg[i] == ' ') i++ ;
  while (end > i && arg[end-1] == ' ') end-- ;
  if (end > i && arg[i] == '<' && arg[end-1] == '>') { i++ ; end-- ; }
  if (end == i) return SENDER_NULL ;
  if (end - i > SENDER_MAX) end = i + SENDER_MAX ;
  memcpy(s->addr, arg + i, end - i) ;
  s->addr[end - i] = 0 ;
  at = strrchr(s->addr, '@') ;
  if (!at) { s->locallen = end - i ; return SENDER_NOT_FQDN ; }
  s->locallen = (size_t)(at - s->addr) ;
  strcpy(s->domain, at + 1) ;
  mx_text_lower(s->domain, strlen(s->domain)) ;
  if (s->domain[0] == '[') return SENDER_LITERAL ;
  if (!helo_is_domain(s->domain, strlen(s->domain)) || !strchr(s->domain, '.')) return SENDER_NOT_FQDN ;
  return SENDER_DOMAIN ;
}
