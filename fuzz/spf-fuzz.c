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

#include "mx_spf.h"
#include "spfzone.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static spfzone zone ;

/* every question is of a bounded domain name, then the zone's answer */
static int scripted (void *ctx, enum mx_spf_qtype type, char const *name, mx_spf_answer *out)
{
  size_t nl = strlen(name) ;
  check(nl <= 253 && (!nl || name[nl - 1] != '.' || nl == 1)) ;
  return spfzone_ask(ctx, type, name, out) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  mx_spf s ;
  enum mx_spf_result r ;
  if (!size) return 0 ;
  memset(&s, 0, sizeof s) ;
  zone.text = (char const *)data + 1 ; zone.len = size - 1 ; zone.asked = 0 ;
  s.dns.ask = &scripted ;
  s.dns.ctx = &zone ;
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
  check(zone.asked == s.queries) ;
  check(zone.asked <= 1 + MX_SPF_MAX_TERMS * (1 + MX_SPF_MAX_NAMES) + 1 + 1 + MX_SPF_MAX_NAMES) ;
  check(strlen(s.exp) < MX_SPF_EXP_MAX && strlen(s.why) < MX_SPF_WHY_MAX) ;
  check(r == MX_SPF_FAIL || !s.exp[0]) ;
  return 0 ;
}
