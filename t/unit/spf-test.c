/* spf-test: the SPF evaluator (common/mx_spf.h) against a scripted
   resolver: the macro examples of RFC 7208 §7.4 verbatim, the zones
   and records of Appendix A, the limits of §4.6.4 (10 DNS-querying
   terms, 2 void lookups, 10 MX names, the first 10 PTR names), record
   selection (§4.5), syntax errors, modifiers, DNS errors and the HELO
   identity (§2.3). A zone is lines "name TYPE value"; TYPE TIMEOUT or
   SERVFAIL makes every question about the name fail so; a name absent
   from the zone is NXDOMAIN. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "mx_spf.h"
#include "mx_spfmacro.h"
#include "spfzone.h"
#include "tap.h"

/* a zone given as lines joined into spfzone's text */
static char zonetext[65536] ;
static spfzone zone ;

static void zone_set (char const *const *z)
{
  size_t n = 0 ;
  for (; *z ; z++)
  {
    size_t l = strlen(*z) ;
    if (n + l + 1 > sizeof zonetext) break ;
    memcpy(zonetext + n, *z, l) ; n += l ;
    zonetext[n++] = '\n' ;
  }
  zone.text = zonetext ; zone.len = n ; zone.asked = 0 ;
}

static enum mx_spf_result run (mx_spf *s, char const *const *z, char const *ip, char const *sender, char const *helo)
{
  memset(s, 0, sizeof *s) ;
  zone_set(z) ;
  s->dns.ask = &spfzone_ask ;
  s->dns.ctx = &zone ;
  s->is6 = strchr(ip, ':') != 0 ;
  inet_pton(s->is6 ? AF_INET6 : AF_INET, ip, s->ip) ;
  s->receiver = "mx.example.net" ;
  s->now = 1200000000 ;
  return mx_spf_check_mailfrom(s, sender, helo) ;
}

/* RFC 7208 §7.4, verbatim: sender strong-bad@email.example.com, client
   192.0.2.3 (and 2001:db8::cb01 for the last) */
static void macros (void)
{
  static struct { char const *in, *out ; int v6 ; } const t[] =
  {
    { "%{s}", "strong-bad@email.example.com", 0 },
    { "%{o}", "email.example.com", 0 },
    { "%{d}", "email.example.com", 0 },
    { "%{d4}", "email.example.com", 0 },
    { "%{d3}", "email.example.com", 0 },
    { "%{d2}", "example.com", 0 },
    { "%{d1}", "com", 0 },
    { "%{dr}", "com.example.email", 0 },
    { "%{d2r}", "example.email", 0 },
    { "%{l}", "strong-bad", 0 },
    { "%{l-}", "strong.bad", 0 },
    { "%{lr}", "strong-bad", 0 },
    { "%{lr-}", "bad.strong", 0 },
    { "%{l1r-}", "strong", 0 },
    { "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com", 0 },
    { "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com", 0 },
    { "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com", 0 },
    { "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com", 0 },
    { "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net", 0 },
    { "%{ir}.%{v}._spf.%{d2}", "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com", 1 },
  } ;
  mx_spf_macros m ;
  char out[MX_SPFMACRO_DOMAIN_ROOM], name[200] ;
  char big[600] ;
  size_t i ;
  memset(&m, 0, sizeof m) ;
  m.s = "strong-bad@email.example.com" ; m.l = "strong-bad" ; m.o = "email.example.com" ; m.d = "email.example.com" ; m.h = "mx.example.org" ;
  for (i = 0 ; i < sizeof t / sizeof *t ; i++)
  {
    m.i = t[i].v6 ? "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1" : "192.0.2.3" ;
    m.v = t[i].v6 ? "ip6" : "in-addr" ;
    snprintf(name, sizeof name, "§7.4: %s is %s", t[i].in, t[i].out) ;
    tap_ok(mx_spf_expand_domain(t[i].in, strlen(t[i].in), &m, out) && !strcmp(out, t[i].out), name) ;
  }
  m.i = "192.0.2.3" ; m.v = "in-addr" ;
  tap_ok(mx_spf_expand_exp("%{S} %% %_%-", 12, &m, out, sizeof out) && !strcmp(out, "strong-bad%40email.example.com %  %20"), "upper-case letters URL-escape; %% %_ %-") ;
  tap_ok(!mx_spf_macro_valid("%{d0}", 5, 0), "§7.1: a digit transformer of 0 is an error") ;
  tap_ok(!mx_spf_macro_valid("%{c}", 4, 0) && mx_spf_macro_valid("%{c}", 4, 1), "§7.2: c only in exp text") ;
  tap_ok(!mx_spf_macro_valid("a%b", 3, 0), "§7.1: % not followed by { % _ - is an error") ;
  tap_ok(!mx_spf_domainspec_valid("foo", 3) && mx_spf_domainspec_valid("foo.com.", 8) && mx_spf_domainspec_valid("x.%{d}", 6) && !mx_spf_domainspec_valid("a.123", 5), "§7.1: domain-end") ;
  /* §7.3: cut from the left to 253 */
  for (i = 0 ; i < 60 ; i++) memcpy(big + 9 * i, "%{d1}.ab.", 9) ;
  memcpy(big + 540, "com", 4) ;
  tap_ok(mx_spf_expand_domain(big, strlen(big), &m, out) && strlen(out) <= 253 && strlen(out) > 240 && !strcmp(out + strlen(out) - 10, "com.ab.com") && out[0] != '.', "§7.3: an expansion over 253 bytes loses labels on the left") ;
}

/* Appendix A's zone, A.1 to A.4 */
#define ZONE_A \
  "example.com MX mail-a.example.com", "example.com MX mail-b.example.com", \
  "example.com A 192.0.2.10", "example.com A 192.0.2.11", \
  "amy.example.com A 192.0.2.65", "bob.example.com A 192.0.2.66", \
  "mail-a.example.com A 192.0.2.129", "mail-b.example.com A 192.0.2.130", \
  "example.org MX mail-c.example.org", "mail-c.example.org A 192.0.2.140", \
  "10.2.0.192.in-addr.arpa PTR example.com", "11.2.0.192.in-addr.arpa PTR example.com", \
  "65.2.0.192.in-addr.arpa PTR amy.example.com", "66.2.0.192.in-addr.arpa PTR bob.example.com", \
  "129.2.0.192.in-addr.arpa PTR mail-a.example.com", "130.2.0.192.in-addr.arpa PTR mail-b.example.com", \
  "140.2.0.192.in-addr.arpa PTR mail-c.example.org", "4.0.0.10.in-addr.arpa PTR bob.example.com"

typedef struct { char const *record, *ip ; enum mx_spf_result r ; } rcase ;

static void appendix_a1 (void)
{
  static rcase const t[] =
  {
    { "v=spf1 +all", "198.51.100.1", MX_SPF_PASS },
    { "v=spf1 a -all", "192.0.2.10", MX_SPF_PASS },
    { "v=spf1 a -all", "192.0.2.11", MX_SPF_PASS },
    { "v=spf1 a -all", "192.0.2.65", MX_SPF_FAIL },
    { "v=spf1 a:example.org -all", "192.0.2.10", MX_SPF_FAIL },
    { "v=spf1 mx -all", "192.0.2.129", MX_SPF_PASS },
    { "v=spf1 mx -all", "192.0.2.130", MX_SPF_PASS },
    { "v=spf1 mx -all", "192.0.2.140", MX_SPF_FAIL },
    { "v=spf1 mx:example.org -all", "192.0.2.140", MX_SPF_PASS },
    { "v=spf1 mx mx:example.org -all", "192.0.2.129", MX_SPF_PASS },
    { "v=spf1 mx mx:example.org -all", "192.0.2.140", MX_SPF_PASS },
    { "v=spf1 mx/30 mx:example.org/30 -all", "192.0.2.131", MX_SPF_PASS },
    { "v=spf1 mx/30 mx:example.org/30 -all", "192.0.2.143", MX_SPF_PASS },
    { "v=spf1 mx/30 mx:example.org/30 -all", "192.0.2.144", MX_SPF_FAIL },
    { "v=spf1 ptr -all", "192.0.2.65", MX_SPF_PASS },
    { "v=spf1 ptr -all", "192.0.2.140", MX_SPF_FAIL },
    { "v=spf1 ptr -all", "10.0.0.4", MX_SPF_FAIL },
    { "v=spf1 ip4:192.0.2.128/28 -all", "192.0.2.65", MX_SPF_FAIL },
    { "v=spf1 ip4:192.0.2.128/28 -all", "192.0.2.129", MX_SPF_PASS },
  } ;
  size_t i ;
  for (i = 0 ; i < sizeof t / sizeof *t ; i++)
  {
    char rec[200], name[300] ;
    char const *z[] = { ZONE_A, rec, 0 } ;
    mx_spf s ;
    enum mx_spf_result r ;
    snprintf(rec, sizeof rec, "example.com TXT %s", t[i].record) ;
    r = run(&s, z, t[i].ip, "user@example.com", "mx.example.com") ;
    snprintf(name, sizeof name, "A.1: \"%s\" from %s: %s (%s)", t[i].record, t[i].ip, mx_spf_result_name(t[i].r), mx_spf_result_name(r)) ;
    tap_ok(r == t[i].r, name) ;
  }
}

/* A.2: several domains, one policy; A.3: DNSBL style; A.4: several
   requirements at once */
static void appendix_a234 (void)
{
  static char const *const a2[] =
  {
    ZONE_A,
    "la.example.org TXT v=spf1 ip4:192.0.2.10/31 ip4:192.0.2.20/31 -all",
    "ny.example.org TXT v=spf1 ip4:192.0.2.30/31 -all",
    "sf.example.org TXT v=spf1 ip4:192.0.2.40/31 -all",
    "example.org TXT v=spf1 include:la.example.org include:ny.example.org include:sf.example.org -all",
    "example.com TXT v=spf1 redirect=example.org",
    "example.net TXT v=spf1 redirect=example.org",
    0
  } ;
  static char const *const a3[] =
  {
    ZONE_A,
    "example.com TXT v=spf1 mx -exists:%{ir}.sbl.example.org include:mta.example.com ~all",
    "mta.example.com TXT v=spf1 exists:%{l1r+}.%{d} ?all",
    "strong.mta.example.com A 127.0.0.2",
    "66.2.0.192.sbl.example.org A 127.0.0.2",
    0
  } ;
  static char const *const a4[] =
  {
    ZONE_A,
    "example.com TXT v=spf1 -include:ip4._spf.%{d} -include:ptr._spf.%{d} +all",
    "ip4._spf.example.com TXT v=spf1 -ip4:192.0.2.0/24 +all",
    "ptr._spf.example.com TXT v=spf1 -ptr:example.com +all",
    0
  } ;
  mx_spf s ;
  tap_ok(run(&s, a2, "192.0.2.31", "x@example.com", "h.example.net") == MX_SPF_PASS, "A.2: example.com redirects to example.org, whose include of ny.example.org passes 192.0.2.31") ;
  tap_ok(run(&s, a2, "192.0.2.41", "x@example.net", "h.example.net") == MX_SPF_PASS, "A.2: example.net too, sf.example.org passes 192.0.2.41") ;
  tap_ok(run(&s, a2, "192.0.2.50", "x@example.com", "h.example.net") == MX_SPF_FAIL, "A.2: 192.0.2.50 in none of them fails") ;
  tap_ok(run(&s, a3, "192.0.2.129", "x@example.com", "h.example.net") == MX_SPF_PASS, "A.3: an MX of example.com passes") ;
  tap_ok(run(&s, a3, "192.0.2.66", "x@example.com", "h.example.net") == MX_SPF_FAIL, "A.3: a client listed in the DNSBL fails") ;
  tap_ok(run(&s, a3, "192.0.2.67", "strong+one@example.com", "h.example.net") == MX_SPF_PASS, "A.3: a local part with exists:%{l1r+}.%{d} passes") ;
  tap_ok(run(&s, a3, "192.0.2.67", "weak@example.com", "h.example.net") == MX_SPF_SOFTFAIL, "A.3: another local part softfails") ;
  tap_ok(run(&s, a4, "192.0.2.65", "x@example.com", "h.example.net") == MX_SPF_PASS, "A.4: in 192.0.2.0/24 with a name in example.com passes") ;
  tap_ok(run(&s, a4, "192.0.2.140", "x@example.com", "h.example.net") == MX_SPF_FAIL, "A.4: in 192.0.2.0/24 named in example.org fails") ;
  tap_ok(run(&s, a4, "10.0.0.4", "x@example.com", "h.example.net") == MX_SPF_FAIL, "A.4: outside 192.0.2.0/24 fails") ;
}

/* §4.6.4: 10 DNS-querying terms, 2 void lookups, 10 MX names, the
   first 10 PTR names */
static void limits (void)
{
  static char const *const ten[] =
  {
    "l.example TXT v=spf1 a:a1.l.example a:a2.l.example a:a3.l.example a:a4.l.example a:a5.l.example a:a6.l.example a:a7.l.example a:a8.l.example a:a9.l.example a:a10.l.example -all",
    "a1.l.example A 10.0.0.1", "a2.l.example A 10.0.0.2", "a3.l.example A 10.0.0.3", "a4.l.example A 10.0.0.4", "a5.l.example A 10.0.0.5",
    "a6.l.example A 10.0.0.6", "a7.l.example A 10.0.0.7", "a8.l.example A 10.0.0.8", "a9.l.example A 10.0.0.9", "a10.l.example A 10.0.0.10",
    "a11.l.example A 10.0.0.11",
    "m.example TXT v=spf1 include:l.example a:a11.l.example ip4:10.0.0.99",
    "i.example TXT v=spf1 include:i.example",
    "v.example TXT v=spf1 a:n1.v.example a:n2.v.example a:n3.v.example ip4:10.0.0.99",
    "w.example TXT v=spf1 a:n1.v.example mx:n2.v.example ip4:10.0.0.99",
    "x.example TXT v=spf1 mx -all",
    "x.example MX m1.x.example", "x.example MX m2.x.example", "x.example MX m3.x.example", "x.example MX m4.x.example",
    "x.example MX m5.x.example", "x.example MX m6.x.example", "x.example MX m7.x.example", "x.example MX m8.x.example",
    "x.example MX m9.x.example", "x.example MX m10.x.example", "x.example MX m11.x.example",
    "m1.x.example A 10.0.0.1",
    "y.example TXT v=spf1 mx -all",
    "y.example MX m1.x.example", "y.example MX m2.x.example", "y.example MX m3.x.example", "y.example MX m4.x.example",
    "y.example MX m5.x.example", "y.example MX m6.x.example", "y.example MX m7.x.example", "y.example MX m8.x.example",
    "y.example MX m9.x.example", "y.example MX m1.x.example",
    "p.example TXT v=spf1 ptr -all",
    "1.0.0.10.in-addr.arpa PTR q1.example", "1.0.0.10.in-addr.arpa PTR q2.example", "1.0.0.10.in-addr.arpa PTR q3.example",
    "1.0.0.10.in-addr.arpa PTR q4.example", "1.0.0.10.in-addr.arpa PTR q5.example", "1.0.0.10.in-addr.arpa PTR q6.example",
    "1.0.0.10.in-addr.arpa PTR q7.example", "1.0.0.10.in-addr.arpa PTR q8.example", "1.0.0.10.in-addr.arpa PTR q9.example",
    "1.0.0.10.in-addr.arpa PTR q10.example", "1.0.0.10.in-addr.arpa PTR h.p.example",
    "h.p.example A 10.0.0.1", "q1.example A 10.0.0.2",
    0
  } ;
  mx_spf s ;
  tap_ok(run(&s, ten, "10.0.0.10", "x@l.example", "h.example") == MX_SPF_PASS && s.terms == 10, "§4.6.4: 10 DNS-querying terms are evaluated") ;
  tap_ok(run(&s, ten, "10.0.0.11", "x@m.example", "h.example") == MX_SPF_PERMERROR && s.terms == 11, "§4.6.4: the 11th is a permerror (include counts, and its terms)") ;
  tap_ok(run(&s, ten, "10.0.0.1", "x@i.example", "h.example") == MX_SPF_PERMERROR && s.terms == 11, "§4.6.4: an include loop ends at the limit") ;
  tap_ok(run(&s, ten, "10.0.0.99", "x@v.example", "h.example") == MX_SPF_PERMERROR && s.voids == 3, "§4.6.4: a third void lookup is a permerror") ;
  tap_ok(run(&s, ten, "10.0.0.99", "x@w.example", "h.example") == MX_SPF_PASS && s.voids == 2, "§4.6.4: two void lookups are allowed") ;
  tap_ok(run(&s, ten, "10.0.0.1", "x@x.example", "h.example") == MX_SPF_PERMERROR, "§4.6.4: an mx with 11 names is a permerror") ;
  tap_ok(run(&s, ten, "10.0.0.1", "x@y.example", "h.example") == MX_SPF_PASS, "§4.6.4: an mx with 10 names is evaluated") ;
  tap_ok(run(&s, ten, "10.0.0.1", "x@p.example", "h.example") == MX_SPF_FAIL, "§4.6.4: a ptr looks at the first 10 names only") ;
}

static void semantics (void)
{
  static char const *const z[] =
  {
    "two.example TXT v=spf1 +all", "two.example TXT v=spf1 -all",
    "other.example TXT v=spf10 +all", "other.example TXT spf1 -all",
    "case.example TXT V=SPF1 -ALL",
    "unk.example TXT v=spf1 foo=%{d}.x -all", "bad.example TXT v=spf1 -all foo",
    "badmod.example TXT v=spf1 -all foo=%q",
    "dup.example TXT v=spf1 redirect=a.example redirect=b.example",
    "late.example TXT v=spf1 ip4:10.0.0.1 -all bogus:x",
    "cidr.example TXT v=spf1 ip4:10.0.0.0/33 -all",
    "six.example TXT v=spf1 ip6:2001:db8::/32 a//64 -all", "six.example AAAA 2001:db9::1",
    "t.example TXT v=spf1 a:slow.example -all", "slow.example TIMEOUT",
    "sf.example SERVFAIL",
    "tp.example TXT v=spf1 ptr:slow.example ip4:10.0.0.1 -all",
    "ri.example TXT v=spf1 include:nothing.example -all",
    "rr.example TXT v=spf1 redirect=nothing.example",
    "e.example TXT v=spf1 -all exp=explain.e.example", "explain.e.example TXT %{i} is not one of %{d}'s hosts, see %{c} %{r} %{t}",
    "ie.example TXT v=spf1 include:e.example ~all",
    "re.example TXT v=spf1 redirect=e.example exp=other.e.example", "other.e.example TXT wrong",
    "helo.example TXT v=spf1 a -all", "helo.example A 10.0.0.7",
    "neutral.example TXT v=spf1 ip4:10.9.9.9",
    "q.example TXT v=spf1 ?ip4:10.0.0.1 ~ip4:10.0.0.2 -ip4:10.0.0.3 +ip4:10.0.0.4",
    "ex.example TXT v=spf1 exists:%{i}._spf.%{d} -all", "10.0.0.5._spf.ex.example A 127.0.0.2",
    "emptylocal.example TXT v=spf1 exists:%{l}.%{d} -all", "postmaster.emptylocal.example A 127.0.0.2",
    0
  } ;
  mx_spf s ;
  tap_ok(run(&s, z, "10.0.0.1", "x@two.example", "h.example") == MX_SPF_PERMERROR, "§4.5: two v=spf1 records: permerror") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@other.example", "h.example") == MX_SPF_NONE, "§4.5: no v=spf1 record: none") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@nx.example", "h.example") == MX_SPF_NONE, "§4.4: NXDOMAIN: none") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@nodot", "h.example") == MX_SPF_NONE, "§4.3: not a multi-label domain: none") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@case.example", "h.example") == MX_SPF_FAIL, "§4.5, §4.6.1: names are case-insensitive") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@unk.example", "h.example") == MX_SPF_FAIL, "§6: an unknown modifier is ignored") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@bad.example", "h.example") == MX_SPF_PERMERROR, "§4.6: an unknown mechanism is a permerror") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@badmod.example", "h.example") == MX_SPF_PERMERROR, "§7.1: an unknown modifier with a bad macro is a permerror") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@dup.example", "h.example") == MX_SPF_PERMERROR, "§6: redirect twice is a permerror") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@late.example", "h.example") == MX_SPF_PERMERROR, "§4.6: a syntax error after a match still a permerror") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@cidr.example", "h.example") == MX_SPF_PERMERROR, "§5.6: ip4 /33 is a permerror") ;
  tap_ok(run(&s, z, "2001:db8:1::1", "x@six.example", "h.example") == MX_SPF_PASS, "ip6 with a prefix") ;
  tap_ok(run(&s, z, "2001:db9::ff", "x@six.example", "h.example") == MX_SPF_PASS, "a//64: the IPv6 CIDR length of a dual one") ;
  tap_ok(run(&s, z, "2001:dba::1", "x@six.example", "h.example") == MX_SPF_FAIL, "IPv6 outside both: fail") ;
  tap_ok(run(&s, z, "::ffff:10.0.0.4", "x@q.example", "h.example") == MX_SPF_PASS, "an IPv4-mapped client is IPv4") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@t.example", "h.example") == MX_SPF_TEMPERROR, "§5: a timeout in a: temperror") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@sf.example", "h.example") == MX_SPF_TEMPERROR, "§4.4: a server failure of the record: temperror") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@tp.example", "h.example") == MX_SPF_PASS, "§5.5: a DNS error in ptr: no match") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@ri.example", "h.example") == MX_SPF_PERMERROR, "§5.2: include of a domain without record: permerror") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@rr.example", "h.example") == MX_SPF_PERMERROR, "§6.1: redirect to a domain without record: permerror") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@e.example", "h.example") == MX_SPF_FAIL && !strcmp(s.exp, "10.0.0.1 is not one of e.example's hosts, see 10.0.0.1 mx.example.net 1200000000"), "§6.2: exp text with c r t") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@ie.example", "h.example") == MX_SPF_SOFTFAIL && !s.exp[0], "§6.2: no explanation from an include") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@re.example", "h.example") == MX_SPF_FAIL && !strncmp(s.exp, "10.0.0.1 is", 11), "§6.2: a redirect's exp, not the original's") ;
  tap_ok(run(&s, z, "10.0.0.7", "", "helo.example") == MX_SPF_PASS, "§2.3: MAIL FROM:<> checks postmaster@helo") ;
  tap_ok(run(&s, z, "10.0.0.8", "", "helo.example") == MX_SPF_FAIL, "§2.3: and fails it") ;
  tap_ok(run(&s, z, "10.0.0.8", "", "[10.0.0.8]") == MX_SPF_NONE, "§2.3: an address literal HELO: none") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@neutral.example", "h.example") == MX_SPF_NEUTRAL, "§4.7: no match, no redirect: neutral") ;
  tap_ok(run(&s, z, "10.0.0.1", "x@q.example", "h.example") == MX_SPF_NEUTRAL, "§4.6.2: ? is neutral") ;
  tap_ok(run(&s, z, "10.0.0.2", "x@q.example", "h.example") == MX_SPF_SOFTFAIL, "§4.6.2: ~ is softfail") ;
  tap_ok(run(&s, z, "10.0.0.3", "x@q.example", "h.example") == MX_SPF_FAIL, "§4.6.2: - is fail") ;
  tap_ok(run(&s, z, "10.0.0.5", "x@ex.example", "h.example") == MX_SPF_PASS, "§5.7: exists") ;
  tap_ok(run(&s, z, "10.0.0.5", "@emptylocal.example", "h.example") == MX_SPF_PASS, "§4.3: an empty local part is postmaster") ;
}

int main (void)
{
  macros() ;
  appendix_a1() ;
  appendix_a234() ;
  limits() ;
  semantics() ;
  return tap_done() ;
}
