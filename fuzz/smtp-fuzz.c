/* smtp-fuzz: libFuzzer harness for the SMTP functions of common/
 * mx_smtp (mx_smtp.h): smtp_verb, smtp_reply_len, smtp_reply_code,
 * smtp_reply_valid, smtp_params_ok, smtp_starttls_line, smtp_ehlo_filter
 * and smtp_ehlo_keep on a copy, and datascan_run, fed the whole input at
 * once, a byte at a time and in chunks of pseudo-random sizes (seeded
 * by the first byte). Aborts when a result breaks the contract of
 * mx_smtp.h or the three data scans disagree with each other or with a
 * plain reading of RFC 5321's end of data.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mx_smtp.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

/* The first end of data, read the slow way: a dot alone on a line.
   After CRLF (or at the start) and followed by CRLF it ends the data
   (END, used counts the terminator); next to a bare LF it is BARE
   (used stops before the LF that would end it). */
static enum datascan_result model (char const *s, size_t n, size_t *used)
{
  size_t p ;
  for (p = 0 ; p < n ; p++)
  {
    int crlf ;
    if (s[p] != '.' || (p && s[p-1] != '\n')) continue ;
    crlf = !p || (p >= 2 && s[p-2] == '\r') ;
    if (p + 1 < n && s[p+1] == '\n') { *used = p + 1 ; return DATASCAN_BARE ; }
    if (p + 2 < n && s[p+1] == '\r' && s[p+2] == '\n')
    {
      if (crlf) { *used = p + 3 ; return DATASCAN_END ; }
      *used = p + 2 ; return DATASCAN_BARE ;
    }
  }
  *used = n ;
  return DATASCAN_MORE ;
}

/* s fed in pieces; sizes from the seed (0: a byte at a time) */
static enum datascan_result scan_chunks (char const *s, size_t n, unsigned int seed, size_t *used)
{
  datascan d ;
  size_t off = 0 ;
  uint32_t x = seed * 2654435761u + 1 ;
  datascan_start(&d) ;
  while (off < n)
  {
    size_t len = 1, u = (size_t)-1 ;
    enum datascan_result r ;
    char *piece ;
    if (seed)
    {
      x ^= x << 13 ; x ^= x >> 17 ; x ^= x << 5 ;
      len = 1 + x % 64 ;
    }
    if (len > n - off) len = n - off ;
    piece = malloc(len) ;   /* exactly len bytes: ASan sees any overread */
    check(piece != 0) ;
    memcpy(piece, s + off, len) ;
    r = datascan_run(&d, piece, len, &u) ;
    free(piece) ;
    check(u <= len) ;
    if (r != DATASCAN_MORE) { *used = off + u ; return r ; }
    check(u == len) ;
    off += len ;
  }
  *used = n ;
  return DATASCAN_MORE ;
}

static void datascan_check (char const *s, size_t n, unsigned int seed)
{
  size_t um, uw, ub, uc ;
  enum datascan_result rm = model(s, n, &um) ;
  enum datascan_result rw ;
  enum datascan_result rb = scan_chunks(s, n, 0, &ub) ;
  enum datascan_result rc = scan_chunks(s, n, seed, &uc) ;
  {
    /* whole: the same bytes in one call */
    datascan d ;
    datascan_start(&d) ;
    rw = datascan_run(&d, s, n, &uw) ;
    check(uw <= n) ;
    if (rw == DATASCAN_MORE) check(uw == n) ;
  }
  if (rw == DATASCAN_END) check(uw >= 3 && !memcmp(s + uw - 3, ".\r\n", 3) && (uw == 3 || (uw >= 5 && !memcmp(s + uw - 5, "\r\n", 2)))) ;
  if (rw == DATASCAN_BARE) check(uw < n && s[uw] == '\n' && (s[uw-1] == '.' || (s[uw-1] == '\r' && s[uw-2] == '.'))) ;
  check(rw == rm && uw == um) ;
  check(rb == rw && ub == uw) ;
  check(rc == rw && uc == uw) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char *s = malloc(size ? size : 1) ;
  size_t arg = (size_t)-1, n ;
  enum smtp_verb v ;
  unsigned int code ;
  check(s != 0) ;
  memcpy(s, data, size) ;

  v = smtp_verb(s, size, &arg) ;
  check(arg <= size) ;
  check(arg == size || s[arg - 1] == ' ') ;
  if (!memchr(s, ' ', size)) check(arg == size) ;
  if (v != VERB_UNKNOWN) check(arg >= 4) ;

  /* STARTTLS as a TLS proxy reads it: 1 only for "STARTTLS" and
     blanks, 2 for any other line that starts with it after blanks,
     and every line smtp_verb takes for STARTTLS is one of them */
  {
    int st = smtp_starttls_line(s, size) ;
    size_t i ;
    check(st >= 0 && st <= 2) ;
    if (st == 1)
    {
      check(size >= 8 && !strncasecmp(s, "STARTTLS", 8)) ;
      for (i = 8 ; i < size ; i++) check(s[i] == ' ' || s[i] == '\t') ;
    }
    if (st == 0)
    {
      for (i = 0 ; i < size && (s[i] == ' ' || s[i] == '\t') ; i++) ;
      check(size - i < 8 || strncasecmp(s + i, "STARTTLS", 8)) ;
    }
    if (v == VERB_STARTTLS) check(st != 0) ;
  }

  n = smtp_reply_len(s, size) ;
  check(n <= size) ;
  if (n) check(s[n-1] == '\n' && smtp_reply_len(s, n) == n) ;

  code = smtp_reply_code(s, size) ;
  check(code <= 999) ;
  if (code) check(size >= 3 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9') ;

  /* the EHLO filter only removes lines, and a second pass changes nothing */
  {
    char *copy = malloc(size ? size : 1) ;
    size_t m, m2 ;
    check(copy != 0) ;
    memcpy(copy, s, size) ;
    unsigned int offered, offered2 ;
    m = smtp_ehlo_filter(copy, size, &offered) ;
    check(m <= size) ;
    {
      char *again = malloc(m ? m : 1) ;
      check(again != 0) ;
      memcpy(again, copy, m) ;
      m2 = smtp_ehlo_filter(again, m, &offered2) ;
      check(m2 == m && !memcmp(again, copy, m) && offered2 == offered) ;
      free(again) ;
    }
    check(!(offered & EXT_SMTPUTF8)) ;   /* never by default */
    /* smtp_ehlo_keep with EXT_DEFAULT is smtp_ehlo_filter; with
       SMTPUTF8 too it keeps a superset, and again a second pass
       changes nothing */
    {
      char *k = malloc(size ? size : 1) ;
      size_t mk, mk2 ;
      unsigned int ok1, ok2 ;
      check(k != 0) ;
      memcpy(k, s, size) ;
      mk = smtp_ehlo_keep(k, size, EXT_DEFAULT, &ok1) ;
      check(mk == m && !memcmp(k, copy, m) && ok1 == offered) ;
      memcpy(k, s, size) ;
      mk = smtp_ehlo_keep(k, size, EXT_DEFAULT | EXT_SMTPUTF8, &ok1) ;
      check(mk >= m && mk <= size && (ok1 & ~EXT_SMTPUTF8) == offered) ;
      mk2 = smtp_ehlo_keep(k, mk, EXT_DEFAULT | EXT_SMTPUTF8, &ok2) ;
      check(mk2 == mk && ok2 == ok1) ;
      mk2 = smtp_ehlo_keep(k, mk, EXT_DEFAULT & ~EXT_AUTH, &ok2) ;
      check(!(ok2 & (EXT_AUTH | EXT_SMTPUTF8))) ;
      free(k) ;
    }
    free(copy) ;
  }

  /* smtp-tls's rewriting: at most one STARTTLS line is added, and a
     second pass with the same flag changes nothing */
  {
    char *copy = malloc(size + 14) ;
    size_t m, m2 ;
    check(copy != 0) ;
    memcpy(copy, s, size) ;
    m = smtp_ehlo_starttls(copy, size, size + 14, 1) ;
    check(m <= size + 14) ;
    if (m)
    {
      char *again = malloc(m + 14) ;
      check(again != 0) ;
      memcpy(again, copy, m) ;
      m2 = smtp_ehlo_starttls(again, m, m + 14, 1) ;
      check(m2 == m && !memcmp(again, copy, m)) ;
      free(again) ;
    }
    memcpy(copy, s, size) ;
    check(smtp_ehlo_starttls(copy, size, size + 14, 0) <= size) ;   /* removing only */
    free(copy) ;
  }

  /* a valid reply's every line carries its code; accepted parameters
     hold no byte that could start a path */
  if (n && smtp_reply_valid(s, n)) check(smtp_reply_valid(s, n) == smtp_reply_code(s, n) && n >= 4) ;
  if (smtp_params_ok(s, size, ~0u, 1)) check(!memchr(s, '<', size) && !memchr(s, '"', size) && !memchr(s, 0, size)) ;
  if (smtp_params_ok(s, size, ~0u, 0)) check(!memchr(s, '"', size) && !memchr(s, 0, size)) ;
  /* what is accepted without SMTPUTF8 offered is accepted with it */
  if (smtp_params_ok(s, size, EXT_DEFAULT, 0)) check(smtp_params_ok(s, size, EXT_DEFAULT | EXT_SMTPUTF8, 0)) ;
  if (!smtp_params_ok(s, size, ~0u, 0)) check(!smtp_params_ok(s, size, EXT_DEFAULT, 0)) ;

  if (size) datascan_check(s + 1, size - 1, (unsigned char)s[0]) ;
  else datascan_check(s, 0, 0) ;
  free(s) ;
  return 0 ;
}
