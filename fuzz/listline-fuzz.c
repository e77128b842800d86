/* listline-fuzz: libFuzzer harness for listline_parse, the line parser
 * of rcptchecks-make. The input is split at newlines; each line is
 * parsed with the case folded and kept, in a buffer of exactly its
 * length plus the one byte the contract gives. A domain must hold only
 * bytes 33..126 (ASCII: U-labels are stored as A-labels) in lower case,
 * be one listline_domain_ok accepts, and parse again to itself; an
 * address holds no blank or control byte and is well-formed UTF-8; a
 * refusal must name one of the documented reasons.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listline.h"
#include "mx_utf8.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static int has_upper (char const *s, size_t n)
{
  size_t i ;
  for (i = 0 ; i < n ; i++) if (s[i] >= 'A' && s[i] <= 'Z') return 1 ;
  return 0 ;
}

static int no_control (char const *s, size_t n)
{
  size_t i ;
  for (i = 0 ; i < n ; i++) if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] == 127) return 0 ;
  return 1 ;
}

static int printable (char const *s, size_t n)
{
  size_t i ;
  for (i = 0 ; i < n ; i++) if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] >= 127) return 0 ;
  return 1 ;
}

static void one_line (uint8_t const *data, size_t len, int keep_case)
{
  static char const *const reasons[] =
  {
    ": NUL byte", ": blank or unprintable byte inside the entry",
    ": not a domain", ": not a domain after @", ": not valid UTF-8"
  } ;
  char const *why = 0 ;
  listline l ;
  char *s = malloc(len + 1) ;
  enum listline_kind k ;
  size_t i ;
  check(s != 0) ;
  memcpy(s, data, len) ;
  k = listline_parse(s, len, keep_case, &l, &why) ;
  if (k == LISTLINE_BAD)
  {
    for (i = 0 ; i < sizeof reasons / sizeof *reasons ; i++) if (why && !strcmp(why, reasons[i])) break ;
    check(i < sizeof reasons / sizeof *reasons) ;
    free(s) ;
    return ;
  }
  if (k == LISTLINE_SKIP) { free(s) ; return ; }
  check(k == LISTLINE_DOMAIN || k == LISTLINE_ADDRESS) ;
  check((l.domain >= s && l.domain + l.dlen <= s + len) || (l.domain >= l.out && l.domain + l.dlen < l.out + sizeof l.out)) ;
  check(l.dlen > 0 && listline_domain_ok(l.domain, l.dlen) && printable(l.domain, l.dlen) && !has_upper(l.domain, l.dlen)) ;
  check(!memchr(l.domain, '@', l.dlen)) ;
  if (k == LISTLINE_ADDRESS)
  {
    size_t llen ;
    check(((l.addr >= s && l.addr + l.alen <= s + len) || (l.addr == l.out && l.alen < sizeof l.out)) && l.alen > l.dlen) ;
    llen = l.alen - l.dlen - 1 ;
    check(l.addr[llen] == '@' && l.domain == l.addr + llen + 1) ;
    check(no_control(l.addr, l.alen) && mx_utf8_kind(l.addr, l.alen) != MX_UTF8_BAD) ;
    if (!keep_case) check(!has_upper(l.addr, l.alen)) ;
  }
  /* what was recorded reads back as itself, if no dot more is dropped */
  if (l.domain[l.dlen - 1] != '.')
  {
    char const *src = k == LISTLINE_ADDRESS ? l.addr : l.domain ;
    size_t n = k == LISTLINE_ADDRESS ? l.alen : l.dlen ;
    char *again = malloc(n + 1) ;
    listline l2 ;
    check(again != 0) ;
    memcpy(again, src, n) ;
    check(listline_parse(again, n, keep_case, &l2, &why) == k) ;
    check(l2.dlen == l.dlen && !memcmp(l2.domain, l.domain, l.dlen)) ;
    if (k == LISTLINE_ADDRESS) check(l2.alen == l.alen && !memcmp(l2.addr, l.addr, l.alen)) ;
    free(again) ;
  }
  free(s) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  size_t start = 0 ;
  while (start <= size)
  {
    uint8_t const *nl = memchr(data + start, '\n', size - start) ;
    size_t end = nl ? (size_t)(nl - data) : size ;
    one_line(data + start, end - start, 0) ;
    one_line(data + start, end - start, 1) ;
    start = end + 1 ;
  }
  return 0 ;
}
