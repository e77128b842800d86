/* spfzone: see spfzone.h. */
#include "spfzone.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

static void put (mx_spf_answer *out, void const *s, size_t n)
{
  if (out->len + 2 + n > sizeof out->buf) return ;
  out->buf[out->len++] = (unsigned char)(n >> 8) ;
  out->buf[out->len++] = (unsigned char)n ;
  memcpy(out->buf + out->len, s, n) ;
  out->len += n ;
  out->n++ ;
}

int spfzone_ask (void *ctx, enum mx_spf_qtype type, char const *name, mx_spf_answer *out)
{
  static char const *const tn[] = { "TXT", "A", "AAAA", "MX", "PTR" } ;
  spfzone *z = ctx ;
  size_t nl = strlen(name), pos = 0 ;
  int exists = 0 ;
  z->asked++ ;
  while (pos < z->len)
  {
    char const *line = z->text + pos, *end = memchr(line, '\n', z->len - pos), *sp, *v ;
    size_t ll = end ? (size_t)(end - line) : z->len - pos, tl ;
    pos += ll + 1 ;
    sp = memchr(line, ' ', ll) ;
    if (!sp) continue ;
    if (!((sp - line == 1 && line[0] == '*') || ((size_t)(sp - line) == nl && !strncasecmp(line, name, nl)))) continue ;
    exists = 1 ;
    v = memchr(sp + 1, ' ', ll - (size_t)(sp + 1 - line)) ;
    tl = v ? (size_t)(v - sp - 1) : ll - (size_t)(sp + 1 - line) ;
    if (tl == 7 && !memcmp(sp + 1, "TIMEOUT", 7)) return 0 ;
    if (tl == 8 && !memcmp(sp + 1, "SERVFAIL", 8)) return -1 ;
    if (!v || tl != strlen(tn[type]) || memcmp(sp + 1, tn[type], tl)) continue ;
    v++ ;
    {
      size_t vl = ll - (size_t)(v - line) ;
      if (type == MX_SPF_Q_A || type == MX_SPF_Q_AAAA)
      {
        char buf[64] ;
        unsigned char ip[16] ;
        if (vl < sizeof buf)
        {
          memcpy(buf, v, vl) ; buf[vl] = 0 ;
          if (inet_pton(type == MX_SPF_Q_A ? AF_INET : AF_INET6, buf, ip) == 1) put(out, ip, type == MX_SPF_Q_A ? 4 : 16) ;
        }
      }
      else put(out, v, vl) ;
    }
  }
  out->rcode = exists ? 0 : 3 ;
  return 1 ;
}
