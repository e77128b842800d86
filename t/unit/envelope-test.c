/* envelope-test: the HELO/EHLO name and the MAIL FROM sender as
   rcptchecks' envelope checks judge them, table-driven. Each case says
   which rule of RFC 5321 (or RFC 1035 / Postfix) decides it:
     4.1.1.1  ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
     4.1.2    Domain = sub-domain *("." sub-domain)
              sub-domain = Let-dig [Ldh-str]; Let-dig = ALPHA / DIGIT
              Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
     4.1.3    address-literal = "[" ( IPv4-address-literal /
              IPv6-address-literal / General-address-literal ) "]"
              Snum = 1*3DIGIT (0-255); "IPv6:" IPv6-addr;
              General-address-literal = Standardized-tag ":" 1*dcontent
     1035     labels <= 63 octets, names <= 255
     postfix  valid_hostname: an all-numeric name is an address
     fqdn     reject_non_fqdn_*: a Domain needs a dot */
#include <stdio.h>
#include <string.h>

#include "helo.h"
#include "rcptaddr.h"
#include "sender.h"
#include "senderline.h"
#include "tap.h"

#define L63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"

static struct { char const *arg ; enum helo_result want ; char const *rule ; } const helos[] =
{
  { "mail.example.com", HELO_OK, "4.1.2 Domain" },
  { "MAIL.Example.COM", HELO_OK, "4.1.2 ALPHA is any case" },
  { "a.b", HELO_OK, "4.1.2 one-letter sub-domains" },
  { "mx-1.example.com", HELO_OK, "4.1.2 Ldh-str inner hyphen" },
  { "mx--1.example.com", HELO_OK, "4.1.2 Ldh-str hyphens in a row" },
  { "1mx.example.com", HELO_OK, "4.1.2 Let-dig may be a DIGIT" },
  { "123.example.com", HELO_OK, "4.1.2 an all-digit label among others" },
  { "mail.example.com  ", HELO_OK, "trailing blanks ignored" },
  { "  mail.example.com", HELO_OK, "leading blanks: the separator's (exim, Postfix split so)" },
  { L63 ".example.com", HELO_OK, "1035 a 63-octet label" },
  { "[192.0.2.7]", HELO_OK, "4.1.3 IPv4-address-literal, the client's" },
  { "[IPv6:2001:db8::7]", HELO_NOT_CLIENT, "4.1.3 IPv6 literal, not the client's" },
  { "[ipv6:::ffff:192.0.2.7]", HELO_OK, "4.1.3 IPv6 tag any case; mapped address is the client's" },
  { "[192.0.2.8]", HELO_NOT_CLIENT, "4.1.3 another address" },
  { "[10.0.0.1]", HELO_NOT_CLIENT, "4.1.3 a private address" },
  { "[127.0.0.1]", HELO_NOT_CLIENT, "4.1.3 the server's loopback" },
  { "[x-tag:anything]", HELO_NOT_CLIENT, "4.1.3 General-address-literal: not the client's" },
  { "localhost", HELO_NOT_FQDN, "fqdn no dot" },
  { "mail", HELO_NOT_FQDN, "fqdn no dot" },
  { "WIN-7QH2J3K", HELO_NOT_FQDN, "fqdn a Windows machine name" },
  { "x", HELO_NOT_FQDN, "fqdn one letter" },
  { "", HELO_INVALID, "4.1.1.1 Domain required" },
  { "   ", HELO_INVALID, "4.1.1.1 blanks are no Domain" },
  { "mail.example.com.", HELO_OK, "postfix smtpd_check.c dup_if_truncate: a root dot, judged without it" },
  { "mail.example.net. ", HELO_OK, "postfix dup_if_truncate: root dot, then a blank" },
  { "localhost.", HELO_NOT_FQDN, "postfix dup_if_truncate: judged as localhost, no dot" },
  { "mail.example.com..", HELO_INVALID, "postfix dup_if_truncate: not dot-dot; 4.1.2 no empty sub-domain" },
  { ".", HELO_INVALID, "4.1.2 the root alone is no Domain" },
  { "mail .", HELO_INVALID, "4.1.1.1 a blank before the root dot: one Domain only" },
  { "192.0.2.7.", HELO_INVALID, "postfix an address without brackets, root dot or not" },
  { "[192.0.2.7].", HELO_INVALID, "4.1.3 nothing after the literal, not even a dot" },
  { ".example.com", HELO_INVALID, "4.1.2 no empty sub-domain (leading dot)" },
  { "mail..example.com", HELO_INVALID, "4.1.2 no empty sub-domain" },
  { "-mx.example.com", HELO_INVALID, "4.1.2 sub-domain starts with Let-dig" },
  { "mx-.example.com", HELO_INVALID, "4.1.2 Ldh-str ends with Let-dig" },
  { "mx_1.example.com", HELO_INVALID, "4.1.2 no underscore" },
  { "mail example.com", HELO_INVALID, "4.1.1.1 one Domain only" },
  { "mail.example.com extra", HELO_INVALID, "4.1.1.1 nothing after the Domain" },
  { "mail.example.com\tx", HELO_INVALID, "4.1.1.1 no tab inside" },
  { "m\xc3\xa4il.example.com", HELO_INVALID, "4.1.2 ASCII only (no U-label)" },
  { "mail.example.com;", HELO_INVALID, "4.1.2 no punctuation" },
  { "mail@example.com", HELO_INVALID, "4.1.2 an address is no Domain" },
  { "<mail.example.com>", HELO_INVALID, "4.1.2 no angle brackets" },
  { "\"mail.example.com\"", HELO_INVALID, "4.1.2 no quotes" },
  { L63 "x.example.com", HELO_INVALID, "1035 a 64-octet label" },
  { "192.0.2.7", HELO_INVALID, "postfix an address without brackets" },
  { "1.2.3", HELO_INVALID, "postfix all-numeric name" },
  { "[192.0.2.256]", HELO_INVALID, "4.1.3 Snum at most 255" },
  { "[192.0.2]", HELO_INVALID, "4.1.3 four Snums" },
  { "[192.0.2.7.1]", HELO_INVALID, "4.1.3 four Snums, not five" },
  { "[0192.0.2.7]", HELO_INVALID, "4.1.3 Snum 1*3DIGIT" },
  { "[192.0.2.7", HELO_INVALID, "4.1.3 closing bracket" },
  { "192.0.2.7]", HELO_INVALID, "4.1.3 opening bracket" },
  { "[]", HELO_INVALID, "4.1.3 empty literal" },
  { "[IPv6:]", HELO_INVALID, "4.1.3 IPv6-addr required" },
  { "[IPv6:192.0.2.7]", HELO_INVALID, "4.1.3 IPv6-addr, not IPv4" },
  { "[IPv6:2001:db8::zz]", HELO_INVALID, "4.1.3 IPv6 hex only" },
  { "[2001:db8::7]", HELO_NOT_CLIENT, "4.1.3 no IPv6: tag, so a General-address-literal (tag 2001)" },
  { "[tag:]", HELO_INVALID, "4.1.3 1*dcontent" },
  { "[:x]", HELO_INVALID, "4.1.3 Standardized-tag required" },
  { "[ 192.0.2.7 ]", HELO_INVALID, "4.1.3 no blanks inside" },
  { "[192.0.2.7] x", HELO_INVALID, "4.1.1.1 nothing after the literal" },
} ;

static struct { char const *arg ; enum sender_form want ; char const *domain ; char const *rule ; } const senders[] =
{
  { "FROM:<>", SENDER_NULL, "", "4.5.5 null reverse-path" },
  { "FROM: <>", SENDER_NULL, "", "4.5.5 null reverse-path after a blank" },
  { "FROM:<> BODY=8BITMIME", SENDER_NULL, "", "4.5.5 with a parameter" },
  { "FROM:<user@example.com>", SENDER_DOMAIN, "example.com", "4.1.2 Mailbox" },
  { "FROM:user@example.com", SENDER_DOMAIN, "example.com", "bare path, as qmail takes it" },
  { "FROM:<User@Mail.Example.COM>", SENDER_DOMAIN, "mail.example.com", "domain lower-cased" },
  { "FROM:<user@example.com> SIZE=100", SENDER_DOMAIN, "example.com", "4.1.2 Mail-parameters apart" },
  { "FROM:<a.b-c+d@sub.example.co.uk>", SENDER_DOMAIN, "sub.example.co.uk", "4.1.2 Dot-string" },
  { "FROM:<user@[192.0.2.7]>", SENDER_LITERAL, "[192.0.2.7]", "4.1.3 address literal" },
  { "FROM:<user>", SENDER_NOT_FQDN, "", "fqdn no domain" },
  { "FROM:<user@localhost>", SENDER_NOT_FQDN, "localhost", "fqdn no dot" },
  { "FROM:<user@>", SENDER_NOT_FQDN, "", "fqdn empty domain" },
  { "FROM:<user@example.com.>", SENDER_DOMAIN, "example.com", "postfix trivial-rewrite rewrite.c: root dot stripped, \"not dot-dot or @-dot\"" },
  { "FROM:<x@Evil.Test.> SIZE=1", SENDER_DOMAIN, "evil.test", "postfix trivial-rewrite: root dot stripped, before the parameters" },
  { "FROM:x@evil.test.", SENDER_DOMAIN, "evil.test", "postfix trivial-rewrite: root dot stripped, bare path" },
  { "FROM:<@relay.example:x@evil.test.>", SENDER_DOMAIN, "evil.test", "4.1.2 source route dropped, then the root dot" },
  { "FROM:<user@example.com..>", SENDER_NOT_FQDN, "example.com..", "postfix: not dot-dot; 4.1.2 no empty label" },
  { "FROM:<user@.>", SENDER_NOT_FQDN, ".", "postfix: not @-dot" },
  { "FROM:<user@localhost.>", SENDER_NOT_FQDN, "localhost", "root dot stripped, then fqdn no dot" },
  { "FROM:<user.>", SENDER_NOT_FQDN, "", "fqdn no domain: a dot ending a local part is no root dot" },
  { "FROM:<user@exa_mple.com>", SENDER_NOT_FQDN, "exa_mple.com", "4.1.2 no underscore" },
  { "FROM:<@relay.example:user@example.com>", SENDER_DOMAIN, "example.com", "4.1.2 source route (A-d-l) dropped" },
} ;

/* sender access list lines (rcptchecks-make -s) */
static struct { char const *line ; int kind ; char k ; char const *key ; int reject ; char const *text ; } const lines_[] =
{
  { "user@Example.COM  REJECT  go away ", SENDERLINE_ENTRY, 'a', "user@example.com", 1, "go away" },
  { "@example.net OK", SENDERLINE_ENTRY, 'd', "example.net", 0, 0 },
  { "example.org reject", SENDERLINE_ENTRY, 'd', "example.org", 1, 0 },
  { ".Example.org ok", SENDERLINE_ENTRY, 's', "example.org", 0, 0 },
  { "example.org. OK", SENDERLINE_ENTRY, 'd', "example.org", 0, 0 },
  { "  # a comment", SENDERLINE_SKIP, 0, 0, 0, 0 },
  { "", SENDERLINE_SKIP, 0, 0, 0, 0 },
  { "example.org", SENDERLINE_BAD, 0, 0, 0, 0 },              /* no action */
  { "example.org DISCARD", SENDERLINE_BAD, 0, 0, 0, 0 },      /* not OK or REJECT */
  { "example.org OK but", SENDERLINE_BAD, 0, 0, 0, 0 },       /* text after OK */
  { "a@b@example.org OK", SENDERLINE_BAD, 0, 0, 0, 0 },
  { "user@ex ample.org OK", SENDERLINE_BAD, 0, 0, 0, 0 },
  { "exa$mple.org OK", SENDERLINE_BAD, 0, 0, 0, 0 },
  { "user@ OK", SENDERLINE_BAD, 0, 0, 0, 0 },
} ;

/* which entry decides for an address: the lookup order */
static char const *const table[] = { "a:boss@a.b.example.com", "d:b.example.com", "s:example.com", "s:com", "a:x@example.org", "d:example.org", 0 } ;
static struct { char const *addr ; char const *domain ; char const *decides ; } const order[] =
{
  { "boss@a.b.example.com", "a.b.example.com", "a:boss@a.b.example.com" },   /* the address first */
  { "Boss@a.b.example.com", "a.b.example.com", "a:boss@a.b.example.com" },   /* in lower case */
  { "other@a.b.example.com", "a.b.example.com", "s:example.com" },           /* no d:, nearest parent */
  { "other@b.example.com", "b.example.com", "d:b.example.com" },             /* the domain before its parents */
  { "other@example.com", "example.com", "s:com" },                           /* .example.com is not example.com */
  { "x@example.org", "example.org", "a:x@example.org" },
  { "y@example.org", "example.org", "d:example.org" },
  { "y@sub.example.org", "sub.example.org", 0 },                             /* example.org does not cover its subdomains */
  { "user", "", 0 },
} ;

static void access_tests (void)
{
  char name[256] ;
  size_t i ;
  for (i = 0 ; i < sizeof lines_ / sizeof *lines_ ; i++)
  {
    char buf[256] ;
    senderline l ;
    char const *why = 0 ;
    int r, good ;
    strcpy(buf, lines_[i].line) ;
    r = senderline_parse(buf, strlen(buf), &l, &why) ;
    good = r == lines_[i].kind ;
    if (good && r == SENDERLINE_ENTRY)
      good = l.kind == lines_[i].k && l.keylen == strlen(lines_[i].key) && !memcmp(l.key, lines_[i].key, l.keylen) && l.reject == lines_[i].reject
        && (lines_[i].text ? l.textlen == strlen(lines_[i].text) && !memcmp(l.text, lines_[i].text, l.textlen) : !l.textlen) ;
    snprintf(name, sizeof name, "access list line '%s'", lines_[i].line) ;
    tap_ok(good, name) ;
  }
  for (i = 0 ; i < sizeof order / sizeof *order ; i++)
  {
    static char keys[SENDERLINE_KEYS_MAX][SENDERLINE_KEY_MAX] ;
    unsigned int n = senderline_keys(order[i].addr, order[i].domain, keys, SENDERLINE_KEYS_MAX), k ;
    char const *hit = 0 ;
    for (k = 0 ; k < n && !hit ; k++)
      for (char const *const *t = table ; *t ; t++) if (!strcmp(keys[k], *t)) { hit = *t ; break ; }
    snprintf(name, sizeof name, "access list: %s is decided by %s", order[i].addr, order[i].decides ? order[i].decides : "nothing") ;
    tap_ok(order[i].decides ? hit && !strcmp(hit, order[i].decides) : !hit, name) ;
  }
}

int main (void)
{
  char name[256] ;
  ip46 client ;
  size_t i ;
  mx_ip_scan("192.0.2.7", 9, &client) ;
  for (i = 0 ; i < sizeof helos / sizeof *helos ; i++)
  {
    enum helo_result r = helo_judge(helos[i].arg, strlen(helos[i].arg), &client) ;
    snprintf(name, sizeof name, "HELO %.40s: %s (%s)", helos[i].arg, helos[i].want == HELO_OK ? "ok" : helos[i].want == HELO_INVALID ? "invalid"
      : helos[i].want == HELO_NOT_FQDN ? "not fqdn" : "not the client's", helos[i].rule) ;
    if (!tap_ok(r == helos[i].want, name)) fprintf(stderr, "# got %d\n", (int)r) ;
  }
  for (i = 0 ; i < sizeof senders / sizeof *senders ; i++)
  {
    sender s ;
    rcptaddr_from p ;
    size_t n = strlen(senders[i].arg) ;
    int ok = rcptaddr_mailfrom(senders[i].arg, n, &p) ;
    enum sender_form f = ok ? sender_parse(senders[i].arg, &p, &s) : (enum sender_form)-1 ;
    snprintf(name, sizeof name, "MAIL %s: form %d, domain '%s' (%s)", senders[i].arg, (int)senders[i].want, senders[i].domain, senders[i].rule) ;
    if (!tap_ok(ok && f == senders[i].want && !strcmp(s.domain, senders[i].domain) && !(s.addr[0] == '@' && strchr(s.addr, ':'))
        && (!strchr(s.addr, '@') || s.addr[strlen(s.addr) - 1] != '.' || (*s.domain && s.domain[strlen(s.domain) - 1] == '.')), name))
      fprintf(stderr, "# syntax %d form %d domain '%s'\n", ok, (int)f, ok ? s.domain : "") ;
  }
  {
    /* a path over RFC 5321's 256 bytes (4.5.3.1.3) is not judged cut short */
    static char arg[400] ;
    rcptaddr_from p ;
    sender s ;
    memset(arg, 'a', sizeof arg - 1) ;
    memcpy(arg, "FROM:<", 6) ;
    memcpy(arg + 380, "@example.com>", 13) ;
    arg[393] = 0 ;
    tap_ok(rcptaddr_mailfrom(arg, strlen(arg), &p) && sender_parse(arg, &p, &s) == SENDER_TOOLONG,
      "MAIL: a path of 387 bytes is too long (4.5.3.1.3)") ;
  }
  access_tests() ;
  return tap_done() ;
}
