/* rcptaddr-fuzz: libFuzzer harness for rcptaddr_parse and
 * rcptaddr_keys_make. The input is the argument of a RCPT command;
 * every address that parses is turned into lookup keys with '-' and
 * '+', case folded and kept. Aborts when a result breaks the contract
 * of rcptaddr.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rcptaddr.h"

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

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char out[RCPTADDR_MAX + 1] ;
  char *arg = malloc(size ? size : 1) ;   /* exactly size bytes: ASan sees any overread */
  int n ;
  check(arg != 0) ;
  memcpy(arg, data, size) ;
  n = rcptaddr_parse(arg, size, out) ;
  check(n >= -1 && n <= RCPTADDR_MAX) ;
  if (n >= 0)
  {
    size_t i ;
    check(out[n] == 0 && strlen(out) == (size_t)n) ;
    for (i = 0 ; i < (size_t)n ; i++) check(out[i] != '\r' && out[i] != '\n') ;
    keys(out, (size_t)n, '-', 0) ;
    keys(out, (size_t)n, '-', 1) ;
    keys(out, (size_t)n, '+', 0) ;
    keys(out, (size_t)n, '+', 1) ;
  }
  free(arg) ;
  return 0 ;
}
