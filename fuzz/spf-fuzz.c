/* spf-fuzz: libFuzzer harness for the SPF evaluator (common/mx_spf.h):
 * its record parser, macro expander and limits. The input is a zone,
 * one "name TYPE value" a line (TYPE TXT A AAAA MX PTR, or TIMEOUT and
 * SERVFAIL for every question about name; name "*" answers any name),
 * served by a scripted resolver; the first byte picks the client
 * (IPv4 or IPv6) and the identity (MAIL FROM user@d.example, or the
 * HELO d.example). Aborts when more than 10 DNS-querying terms are
 * evaluated or the 11th does not end in permerror, when the void limit
 * is passed without a permerror, when more questions are asked than
 * the limits allow (1 record, 10 terms of 11 questions at most, the
 * exp text, %{p}'s 11), when a name asked is not a bounded domain
 * name, or when the explanation is not bounded.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mx_spf.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static char const *zone ;
static size_t zonelen ;
static unsigned int asked ;

static void put (mx_spf_answer *out, void const *s, size_t n)
{
  if (out->len + 2 + n > sizeof out->buf) return ;
  out->buf[out->len++] = (unsigned char)(n >> 8) ;
  out->buf[out->len++] = (unsigned char)n ;
  memcpy(out->buf + out->len, s, n) ;
  out->len += n ;
  out->n++ ;
}

static int scripted (void *ctx, enum mx_spf_qtype type, char const *name, mx_spf_answer *out)
{
  static char const *const tn[] = { "TXT", "A", "AAAA", "MX", "PTR" } ;
  size_t nl = strlen(name), pos = 0 ;
  int exists = 0 ;
  (void)ctx ;
  asked++ ;
  check(nl <= 253 && (!nl || name[nl - 1] != '.' || nl == 1)) ;
  while (pos < zonelen)
  {
    char const *line = zone + pos, *end = memchr(line, '\n', zonelen - pos), *sp, *v ;
    size_t ll = end ? (size_t)(end - line) : zonelen - pos, tl ;
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

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  mx_spf s ;
  enum mx_spf_result r ;
  if (!size) return 0 ;
  memset(&s, 0, sizeof s) ;
  zone = (char const *)data + 1 ; zonelen = size - 1 ; asked = 0 ;
  s.dns.ask = &scripted ;
  s.is6 = data[0] & 1 ;
  if (s.is6) inet_pton(AF_INET6, "2001:db8::1", s.ip) ;
  else inet_pton(AF_INET, "10.0.0.1", s.ip) ;
  s.now = 1200000000 ;
  r = data[0] & 2 ? mx_spf_check_helo(&s, "d.example") : mx_spf_check_mailfrom(&s, data[0] & 4 ? "" : "user@d.example", "d.example") ;
  check((unsigned int)r <= MX_SPF_PERMERROR) ;
  check(s.terms <= MX_SPF_MAX_TERMS + 1) ;
  check(s.terms <= MX_SPF_MAX_TERMS || r == MX_SPF_PERMERROR) ;
  check(s.voids <= MX_SPF_MAX_VOID + 1) ;
  check(s.voids <= MX_SPF_MAX_VOID || r == MX_SPF_PERMERROR) ;
  check(asked == s.queries) ;
  check(asked <= 1 + MX_SPF_MAX_TERMS * (1 + MX_SPF_MAX_NAMES) + 1 + 1 + MX_SPF_MAX_NAMES) ;
  check(strlen(s.exp) < MX_SPF_EXP_MAX && strlen(s.why) < MX_SPF_WHY_MAX) ;
  check(r == MX_SPF_FAIL || !s.exp[0]) ;
  return 0 ;
}
