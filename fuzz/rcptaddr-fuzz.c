/* rcptaddr-fuzz: libFuzzer harness for rcptaddr_parse,
 * rcptaddr_mailfrom and rcptaddr_keys_make. The input is a RCPT
 * command's argument (what follows "RCPT "). Aborts when a result
 * breaks the contract of rcptaddr.h, and on these invariants:
 *   - an address passed on as "not local" (RCPTADDR_DOMAIN) has a valid
 *     DNS name as its domain, checked here independently;
 *   - for every form rcptchecks does not refuse, qmail-smtpd's parse of
 *     the same line (t/unit/qmail-model.c) gives the same address:
 *     local@domain, the bare local part, or the literal (or ME for a
 *     literal qmail takes as its own), case aside; a source route and
 *     quotes are gone from what rcptchecks reads, as from qmail's
 *     address, so a quoted or source-routed form is judged as the
 *     address qmail delivers to, and has a domain;
 *   - qmail's limit (addr.len > 900 with the NUL counted) is kept: an
 *     address qmail refuses for its length is refused, but for a
 *     literal qmail rewrites to ME (check.c refuses it once local@-L is
 *     over RCPTADDR_MAX);
 *   - every form is classified: BAD or one of the forms, nothing else;
 *   - SMTPUTF8 (RFC 6531): a form accepted in a transaction that did
 *     not declare it holds no byte >= 0x80, and is read the same in one
 *     that did; a form accepted in one that did has a local part of
 *     well-formed UTF-8 (RFC 3629) and an ASCII lower-case domain (the
 *     lookup spelling: A-labels); the same for MAIL's path.
 * Every address that parses is turned into lookup keys with '-' and
 * '+', case folded and kept.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qmail-model.h"
#include "rcptaddr.h"
#include "mx_smtp.h"
#include "mx_utf8.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static int has_upper (char const *s, size_t n)
{
  size_t i ;
  for (i = 0 ; i < n ; i++) if (s[i] >= 'A' && s[i] <= 'Z') return 1 ;
  return 0 ;
}

static void keys (char const *addr, size_t alen, char delimiter, int keep_case)
{
  static rcptaddr_keys k ;
  char const *at = strrchr(addr, '@') ;
  size_t dlen = at ? alen - (size_t)(at - addr) - 1 : 0, llen, i, levels ;
  int r = rcptaddr_keys_make(addr, delimiter, keep_case, &k) ;
  if (dlen && at[dlen] == '.') dlen-- ;
  check(r == (at && dlen)) ;
  if (!r) { check(!k.n && !k.domain) ; return ; }
  llen = (size_t)(at - addr) ;
  check(k.domain == k.buf && strlen(k.domain) == dlen && !has_upper(k.domain, dlen)) ;
  check(!strncasecmp(k.domain, at + 1, dlen)) ;
  check(k.n >= 2 && k.n <= sizeof k.key / sizeof *k.key) ;
  for (i = 0 ; i < k.n ; i++)
  {
    char const *key = k.key[i], *kat ;
    size_t n ;
    check(key > k.buf && key < k.buf + sizeof k.buf) ;
    n = strnlen(key, (size_t)(k.buf + sizeof k.buf - key)) ;
    check(key + n < k.buf + sizeof k.buf) ;
    kat = strrchr(key, '@') ;
    check(kat && !strcmp(kat + 1, k.domain)) ;
    if (!keep_case) check(!has_upper(key, n)) ;
  }
  /* the exact address first, the catch-all last */
  check(strlen(k.key[0]) == llen + 1 + dlen && !strncasecmp(k.key[0], addr, llen)) ;
  if (keep_case) check(!memcmp(k.key[0], addr, llen)) ;
  check(k.key[k.n - 1][0] == '@') ;
  /* between them, for each delimiter after the first byte (at most
     12, rightmost first) its default, then the user alone */
  for (i = 1, levels = 0 ; i < llen ; i++) if (addr[i] == delimiter) levels++ ;
  if (levels > 12) levels = 12 ;
  check(k.n == (levels ? levels + 3 : 2)) ;
  for (i = 1 ; i + 1 < k.n ; i++)
  {
    char const *key = k.key[i] ;
    size_t kl = strlen(key) - dlen - 1 ;
    if (i + 2 < k.n)
    {
      check(kl >= 8 && key[kl - 8] == delimiter && !memcmp(key + kl - 7, "default", 7)) ;
      kl -= 8 ;
    }
    else check(!memchr(key + 1, delimiter, kl - 1)) ;
    check(kl > 0 && kl < llen && addr[kl] == delimiter && !strncasecmp(key, addr, kl)) ;
  }
}

int qmail_model_rcpthost (char const *domain) { (void)domain ; return 1 ; }

/* the domain of a "not local" address: letters, digits, hyphens inside
   labels of 1 to 63 bytes, dots between, at most 253 bytes, lower case */
static int valid_domain (char const *d)
{
  size_t n = strlen(d), i, label = 0 ;
  if (!n || n > 253) return 0 ;
  for (i = 0 ; i <= n ; i++)
  {
    char c = d[i] ;
    if (i == n || c == '.')
    {
      if (!label || d[i - 1] == '-') return 0 ;
      label = 0 ;
    }
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label))
    {
      if (++label > 63) return 0 ;
    }
    else return 0 ;
  }
  return 1 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static rcptaddr a ;
  static char line[2048], q[2048], want[2 * RCPTADDR_MAX + 32] ;
  char *arg = malloc(size ? size : 1) ;   /* exactly size bytes: ASan sees any overread */
  enum rcptaddr_form f ;
  check(arg != 0) ;
  memcpy(arg, data, size) ;
  {
    static rcptaddr u ;
    enum rcptaddr_form g = rcptaddr_parse8(arg, size, 1, &u) ;
    f = rcptaddr_parse(arg, size, &a) ;
    check(f >= RCPTADDR_BAD && f <= RCPTADDR_NEEDUTF8 && g >= RCPTADDR_BAD && g <= RCPTADDR_NEEDUTF8) ;
    check(g != RCPTADDR_NEEDUTF8) ;
    if (f == RCPTADDR_NOTUTF8) check(g == RCPTADDR_NOTUTF8) ;
    if (f > RCPTADDR_BAD && f <= RCPTADDR_POSTMASTER)
    {
      check(mx_utf8_kind(a.local, strlen(a.local)) == MX_UTF8_ASCII && mx_utf8_kind(a.domain, strlen(a.domain)) == MX_UTF8_ASCII) ;
      check(g == f && !strcmp(u.local, a.local) && !strcmp(u.domain, a.domain)) ;
    }
    if (g > RCPTADDR_BAD && g <= RCPTADDR_POSTMASTER)
    {
      check(mx_utf8_kind(u.local, strlen(u.local)) != MX_UTF8_BAD) ;
      check(mx_utf8_kind(u.domain, strlen(u.domain)) == MX_UTF8_ASCII && !has_upper(u.domain, strlen(u.domain))) ;
      if (g == RCPTADDR_DOMAIN) check(valid_domain(u.domain)) ;
    }
    if (f == RCPTADDR_NOTUTF8 || f == RCPTADDR_NEEDUTF8) f = RCPTADDR_BAD ;
  }
  check(a.params <= size && a.paramslen <= size - a.params) ;
  /* parameters rcptchecks would refuse, whatever was offered */
  if (a.paramslen && !smtp_params_ok(arg + a.params, a.paramslen, ~0u, 1)) f = RCPTADDR_BAD ;
  if (f != RCPTADDR_BAD)
  {
    size_t ll = strlen(a.local), dl = strlen(a.domain) ;
    check(ll > 0 && ll <= RCPTADDR_MAX && dl <= RCPTADDR_MAX) ;
    if (f == RCPTADDR_DOMAIN) check(valid_domain(a.domain)) ;
    if (f == RCPTADDR_LITERAL) check(a.domain[0] == '[' && a.domain[dl - 1] == ']') ;
    if (f == RCPTADDR_NODOMAIN || f == RCPTADDR_POSTMASTER) check(!dl) ;
    check(ll + (dl ? dl + 1 : 0) <= RCPTADDR_MAX && !strchr(a.local, '"') && !strchr(a.local, ':')) ;
    {
      /* a quoted or source-routed path has been reduced: it has a domain */
      char const *path = memchr(arg, ':', size) ;
      size_t k = path ? (size_t)(path - arg) + 1 : size ;
      while (k < size && (arg[k] == ' ' || arg[k] == '<')) k++ ;
      if (k < size && (arg[k] == '@' || arg[k] == '"')) check(dl > 0) ;
    }
    /* qmail-smtpd reads the same line as the same address */
    if (size + 5 < 2048 && !memchr(arg, 0, size) && !memchr(arg, '\r', size) && !memchr(arg, '\n', size))
    {
      memcpy(line, "RCPT ", 5) ;
      memcpy(line + 5, arg, size) ;
      if (!qmail_model_addrparse(line, size + 5, q))
      {
        /* only a literal qmail takes as its own, made longer by ME */
        check(f == RCPTADDR_LITERAL && ll + 1 + strlen(ME) > RCPTADDR_MAX) ;
        goto keys ;
      }
      if (dl) snprintf(want, sizeof want, "%s@%s", a.local, a.domain) ;
      else snprintf(want, sizeof want, "%s", a.local) ;
      if (f == RCPTADDR_LITERAL && strcasecmp(q, want))
      {
        snprintf(want, sizeof want, "%s@%s", a.local, ME) ;   /* its own literal */
        check(!strcasecmp(q, want)) ;
      }
      else check(!strcasecmp(q, want)) ;
    }
   keys:
    if (dl)
    {
      snprintf(want, sizeof want, "%s@%s", a.local, a.domain) ;
      keys(want, strlen(want), '-', 0) ;
      keys(want, strlen(want), '-', 1) ;
      keys(want, strlen(want), '+', 0) ;
      keys(want, strlen(want), '+', 1) ;
    }
  }
  {
    rcptaddr_from mf ;
    enum rcptaddr_mail m = rcptaddr_mailfrom8(arg, size, &mf) ;
    int utf8 = mf.utf8 ;
    size_t params = mf.params ;
    check(m >= RCPTADDR_MAIL_BAD && m <= RCPTADDR_MAIL_NEEDUTF8) ;
    check(rcptaddr_mailfrom(arg, size, &mf) == (m == RCPTADDR_MAIL_OK)) ;
    if (m == RCPTADDR_MAIL_OK)
    {
      size_t k ;
      check(mf.params <= size && mf.paramslen <= size - mf.params && (utf8 == 0 || utf8 == 1)) ;
      /* the path found once, for every reader: inside what was given,
         before the parameters, and not holding a blank or a bracket */
      check(mf.path >= 5 && mf.path + mf.pathlen <= size && mf.path + mf.pathlen <= mf.params) ;
      check(!memchr(arg + mf.path, ' ', mf.pathlen) && !memchr(arg + mf.path, '<', mf.pathlen) && !memchr(arg + mf.path, '>', mf.pathlen)) ;
      /* the bytes up to the parameters: "FROM:", the path, blanks */
      if (!utf8) for (k = 0 ; k < params ; k++) check((unsigned char)arg[k] < 0x80) ;
      else check(mx_utf8_kind(arg, params) != MX_UTF8_BAD) ;
    }
  }
  free(arg) ;
  return 0 ;
}
