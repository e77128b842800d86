/* sender: see sender.h. */
#include "sender.h"

#include <string.h>

#include "helo.h"
#include "mx_text.h"
#include "mx_utf8.h"

enum sender_form sender_parse (char const *arg, rcptaddr_from const *f, sender *s)
{
  size_t i = f->path, end = f->path + f->pathlen ;   /* brackets, blanks and parameters are rcptaddr's */
  char const *at ;
  s->addr[0] = s->domain[0] = 0 ;
  s->locallen = 0 ;
  if (end == i) return SENDER_NULL ;
  /* a source route: the mailbox is what follows its last colon (an
     unquoted local part holds none) */
  if (arg[i] == '@')
  {
    size_t c = end ;
    while (c > i && arg[c-1] != ':') c-- ;
    if (c > i) i = c ;
  }
  if (end - i > 256) return SENDER_TOOLONG ;
  /* a root dot ends the domain: "evil.test." is the name "evil.test"
     for every lookup (Postfix's trivial-rewrite strips it: "Strip
     trailing dot at end of domain, but not dot-dot or @-dot"); one
     place, so that no check sees the other spelling */
  if (end - i > 2 && arg[end-1] == '.' && arg[end-2] != '.' && arg[end-2] != '@' && memchr(arg + i, '@', end - i)) end-- ;
  memcpy(s->addr, arg + i, end - i) ;
  s->addr[end - i] = 0 ;
  at = strrchr(s->addr, '@') ;
  if (!at) { s->locallen = end - i ; return SENDER_NOT_FQDN ; }
  s->locallen = (size_t)(at - s->addr) ;
  /* U-labels (SMTPUTF8): every check sees the A-labels */
  if (mx_utf8_kind(at + 1, strlen(at + 1)) != MX_UTF8_ASCII)
  {
    if (!mx_utf8_domain(at + 1, strlen(at + 1), s->domain, sizeof s->domain)) return SENDER_NOT_FQDN ;
  }
  else strcpy(s->domain, at + 1) ;
  mx_text_lower(s->domain, strlen(s->domain)) ;
  if (s->domain[0] == '[') return SENDER_LITERAL ;
  if (!helo_is_domain(s->domain, strlen(s->domain)) || !strchr(s->domain, '.')) return SENDER_NOT_FQDN ;
  return SENDER_DOMAIN ;
}
