/* loadline-fuzz: libFuzzer harness for loadline_parse, the line parser
 * of "relaydb load". The input is split at newlines; each line is
 * parsed in a buffer of exactly its length plus the one byte the
 * contract gives. A line that parses must give a canonical IP (that
 * parses back to itself) and a timestamp within STORE_TS_MAX, and the
 * line "IP TIMESTAMP" that dump would print for it must parse back to
 * the same; a refusal must name one of the documented reasons.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadline.h"
#include "store.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static int blank_or_comment (char const *s, size_t n)
{
  size_t i = 0 ;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) i++ ;
  return i == n || s[i] == '#' ;
}

static void one_line (uint8_t const *data, size_t len)
{
  static char const *const reasons[] =
    { "NUL byte", "invalid IP address", "missing timestamp", "invalid timestamp", "trailing garbage" } ;
  char canon[MX_IP_FMT], canon2[MX_IP_FMT], printed[MX_IP_FMT + 32] ;
  char const *why = 0 ;
  uint64_t ts = 0, ts2 = 0 ;
  char *s = malloc(len + 1) ;
  int r, nul ;
  size_t i, n ;
  check(s != 0) ;
  memcpy(s, data, len) ;
  nul = memchr(s, 0, len) != 0 ;
  r = loadline_parse(s, len, canon, &ts, &why) ;
  if (r < 0)
  {
    for (i = 0 ; i < sizeof reasons / sizeof *reasons ; i++) if (why == reasons[i] || (why && !strcmp(why, reasons[i]))) break ;
    check(i < sizeof reasons / sizeof *reasons) ;
    check(nul == !strcmp(why, "NUL byte")) ;
    free(s) ;
    return ;
  }
  check(!nul) ;
  check(r == !blank_or_comment((char const *)data, len)) ;
  if (!r) { free(s) ; return ; }
  check(ts <= STORE_TS_MAX) ;
  {
    ip46 ip ;
    char back[MX_IP_FMT] ;
    check(mx_ip_scan(canon, strlen(canon), &ip)) ;
    mx_ip_fmt(back, &ip) ;
    check(!strcmp(back, canon)) ;
  }
  n = (size_t)snprintf(printed, sizeof printed, "%s %llu", canon, (unsigned long long)ts) ;
  check(n < sizeof printed - 1) ;
  check(loadline_parse(printed, n, canon2, &ts2, &why) == 1) ;
  check(!strcmp(canon, canon2) && ts == ts2) ;
  free(s) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  size_t start = 0 ;
  while (start <= size)
  {
    uint8_t const *nl = memchr(data + start, '\n', size - start) ;
    size_t end = nl ? (size_t)(nl - data) : size ;
    one_line(data + start, end - start) ;
    start = end + 1 ;
  }
  return 0 ;
}
