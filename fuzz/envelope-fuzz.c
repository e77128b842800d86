/* envelope-fuzz: libFuzzer harness for the HELO/EHLO name and MAIL FROM
 * sender parsers of rcptchecks' envelope checks (helo.h, sender.h). The
 * input is a client's argument. Aborts when a name is judged a Domain
 * that breaks RFC 5321's grammar (a label out of Let-dig/Ldh-str, over
 * 63 bytes, an empty label) or lacks its dot, when a sender accepted as
 * SENDER_DOMAIN has a domain that is no FQDN or not lower case, or when
 * a sender text runs past what was given; and when a root dot changes
 * anything: a name with one is judged as the name without it (HELO),
 * and no sender domain or address keeps one (Postfix strips it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "helo.h"
#include "rcptaddr.h"
#include "sender.h"
#include "senderline.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

/* the grammar again, written the other way: label by label */
static int grammar_ok (char const *s, size_t n)
{
  size_t start = 0 ;
  if (!n || n > 255) return 0 ;
  for (size_t i = 0 ; i <= n ; i++)
  {
    if (i < n && s[i] != '.') continue ;
    size_t l = i - start ;
    if (!l || l > 63) return 0 ;
    for (size_t k = start ; k < i ; k++)
    {
      char c = s[k] ;
      int ld = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ;
      if (!ld && (c != '-' || k == start || k == i - 1)) return 0 ;
    }
    start = i + 1 ;
  }
  return 1 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char const *s = (char const *)data ;
  ip46 client ;
  mx_ip_scan("192.0.2.7", 9, &client) ;
  {
    enum helo_result r = helo_judge(s, size, &client) ;
    size_t n = size ;
    char const *h = s ;
    while (n && (h[n-1] == ' ' || h[n-1] == '\t')) n-- ;
    while (n && (h[0] == ' ' || h[0] == '\t')) { h++ ; n-- ; }
    check(r == HELO_OK || r == HELO_INVALID || r == HELO_NOT_FQDN || r == HELO_NOT_CLIENT) ;
    check(helo_is_domain(s, size) == grammar_ok(s, size)) ;
    /* a root dot (not "..") is judged as the name without it */
    if (n > 1 && h[0] != '[' && h[n-1] == '.' && h[n-2] != '.' && h[n-2] != ' ' && h[n-2] != '\t')
    {
      check(r == helo_judge(h, n - 1, &client)) ;
      n-- ;
    }
    else if (n && n < 300 && h[0] != '[' && h[n-1] != '.')
    {
      char dotted[301] ;
      memcpy(dotted, h, n) ;
      dotted[n] = '.' ;
      check(helo_judge(dotted, n + 1, &client) == r) ;
    }
    if (r == HELO_NOT_FQDN) check(grammar_ok(h, n) && !memchr(h, '.', n)) ;
    if (r == HELO_OK && n && h[0] != '[') check(grammar_ok(h, n) && memchr(h, '.', n)) ;
    if (r == HELO_OK && n && h[0] == '[') check(h[n-1] == ']') ;
  }
  {
    rcptaddr_from p ;
    sender snd ;
    if (rcptaddr_mailfrom(s, size, &p))
    {
      enum sender_form f = sender_parse(s, &p, &snd) ;
      size_t dl = strlen(snd.domain) ;
      check(strlen(snd.addr) <= SENDER_MAX && snd.locallen <= strlen(snd.addr)) ;
      for (size_t i = 0 ; i < dl ; i++) check(!(snd.domain[i] >= 'A' && snd.domain[i] <= 'Z')) ;
      if (f == SENDER_DOMAIN) check(grammar_ok(snd.domain, dl) && memchr(snd.domain, '.', dl)) ;
      /* one spelling for every check: a root dot is gone from the
         domain and the address alike (only ".." or "@." keep theirs) */
      if (dl && snd.domain[dl-1] == '.') check(dl == 1 || snd.domain[dl-2] == '.') ;
      if (dl) { size_t al = strlen(snd.addr) ; check(al > dl && snd.addr[al-dl-1] == '@' && !strncasecmp(snd.addr + al - dl, snd.domain, dl)) ; }
      if (f == SENDER_NULL) check(!snd.addr[0] && !dl) ;
      /* a source route is dropped: no "@relay:" left in front */
      if (f != SENDER_TOOLONG) check(strlen(snd.addr) <= 256 && !(snd.addr[0] == '@' && strchr(snd.addr, ':'))) ;
    }
  }
  {
    /* a sender access list line: the key is a domain, or an address
       whose domain is one, lower case */
    char buf[1200] ;
    senderline l ;
    char const *why ;
    if (size < sizeof buf)
    {
      memcpy(buf, s, size) ;
      if (senderline_parse(buf, size, &l, &why) == SENDERLINE_ENTRY)
      {
        check(l.keylen && l.key >= buf && l.key + l.keylen <= buf + size) ;
        check(l.kind == 'a' || l.kind == 'd' || l.kind == 's') ;
        for (size_t i = 0 ; i < l.keylen ; i++) check(l.key[i] > 32 && l.key[i] < 127 && !(l.key[i] >= 'A' && l.key[i] <= 'Z')) ;
        if (l.kind != 'a') check(!memchr(l.key, '@', l.keylen)) ;
        check(l.textlen <= SENDERLINE_TEXT_MAX) ;
      }
    }
  }
  return 0 ;
}
