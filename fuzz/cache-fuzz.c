/* cache-fuzz: libFuzzer harness for smtp-screen's cache file reader
 * (cache_load_buf) and writer (cache_dump). The input's first byte
 * gives max_entries (low 4 bits, plus 1) and, in its top bit, whether
 * the version line goes before the rest; the next three bytes give
 * each test's cap (n * 1024 seconds, 0: none); the rest is the file's
 * text, read at now = 1800000000. Aborts when:
 * - a load that is not of this version adds anything or counts any;
 * - the cache holds more than max_entries clients, or cache_check()
 *   finds its structure unsound;
 * - a pass is reported valid that is expired at now, or expires beyond
 *   its test's cap, or that no line of the input gave (the same test,
 *   expiry and value, on a line whose address is the same client), or
 *   that cache_valid() does not report with the same value;
 * - the written text, loaded into a new cache of the same size with the
 *   same caps, is not taken whole (every line stored, nothing bad,
 *   expired, capped, dropped or cut) or is not written back the same,
 *   byte for byte, through the smallest buffer too;
 * - a sweep at a later time leaves a client whose passes have all
 *   expired, or a pass valid then.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

#define NOW 1800000000u
#define DUMP_MAX (sizeof CACHE_HEADER + 16 * CACHE_DUMP_MIN)

static void check (int cond) { if (!cond) abort() ; }

static char const key[CACHE_KEYLEN] = "cache-fuzz key!" ;

static size_t dump_all (cache const *c, uint64_t now, char *out, size_t len)
{
  char buf[DUMP_MAX] ;
  size_t cursor = 0, w = 0, n ;
  while ((n = cache_dump(c, now, &cursor, buf, len)))
  {
    check(n <= len && n <= DUMP_MAX - w) ;
    memcpy(out + w, buf, n) ;
    w += n ;
  }
  return w ;
}

/* 1 if a whole line of s (len bytes) reads ADDRESS SP name SP tail,
   ADDRESS being the client ip; tail is the line's end, LF included */
static int given (char const *s, size_t len, ip46 const *ip, char const *name, char const *tail)
{
  char pat[64] ;
  size_t pl = (size_t)snprintf(pat, sizeof pat, " %s %s", name, tail), i ;
  for (i = 0 ; i + pl <= len ; i++)
  {
    size_t b = i ;
    ip46 x ;
    if (memcmp(s + i, pat, pl)) continue ;
    while (b && s[b - 1] != '\n') b-- ;
    if (i + pl - 1 - b > CACHE_LINE_MAX) continue ;   /* too long a line */
    if (mx_ip_scan(s + b, i - b, &x) && ip46_is6(&x) == ip46_is6(ip) && !memcmp(x.ip, ip->ip, ip46_is6(ip) ? 16 : 4))
      return 1 ;
  }
  return 0 ;
}

/* checks every line of the dump text d (n bytes) against the cache and
   the input s; returns the number of passes */
static size_t passes (cache const *c, char const *d, size_t n, uint32_t const *cap, char const *s, size_t len)
{
  size_t count = 0, i = sizeof CACHE_HEADER - 1 ;
  check(n >= i && !memcmp(d, CACHE_HEADER, i)) ;
  while (i < n)
  {
    char const *lf = memchr(d + i, '\n', n - i) ;
    char line[CACHE_LINE_MAX + 1], addr[64], name[16], tail[40] ;
    unsigned long long expiry ;
    long value ;
    unsigned int t ;
    int32_t v = 0 ;
    ip46 ip ;
    check(lf && (size_t)(lf - (d + i)) <= CACHE_LINE_MAX) ;
    memcpy(line, d + i, (size_t)(lf - (d + i))) ;
    line[lf - (d + i)] = 0 ;
    i = (size_t)(lf - d) + 1 ;
    check(sscanf(line, "%63s %15s %llu %ld", addr, name, &expiry, &value) == 4) ;
    check(mx_ip_scan(addr, strlen(addr), &ip)) ;
    for (t = 0 ; t < CACHE_NTESTS ; t++) if (!strcmp(name, cache_test_name(t))) break ;
    check(t < CACHE_NTESTS) ;
    check(expiry > NOW && expiry <= UINT32_MAX) ;
    check(!cap[t] || expiry <= (unsigned long long)NOW + cap[t]) ;
    check(cache_valid(c, &ip, t, NOW, &v) && v == value && cache_valid(c, &ip, t, expiry - 1, 0) && !cache_valid(c, &ip, t, expiry, 0)) ;
    snprintf(tail, sizeof tail, "%llu %ld\n", expiry, value) ;
    if (given(s, len, &ip, name, tail)) { count++ ; continue ; }
    check(!value) ;
    snprintf(tail, sizeof tail, "%llu\n", expiry) ;
    check(given(s, len, &ip, name, tail)) ;
    count++ ;
  }
  return count ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static char text[6000] ;
  static char d1[DUMP_MAX], d2[DUMP_MAX], d3[DUMP_MAX] ;
  cache_loaded st, st2 ;
  cache_stat cs ;
  uint32_t cap[CACHE_NTESTS] ;
  size_t max, len = 0, n1, n2, n3, count, i ;
  cache *c, *c2 ;
  int r ;
  if (size < 4) return 0 ;
  max = (data[0] & 15) + 1 ;
  for (i = 0 ; i < CACHE_NTESTS ; i++) cap[i] = (uint32_t)data[1 + i] * 1024 ;
  if (data[0] & 128) { memcpy(text, CACHE_HEADER, sizeof CACHE_HEADER - 1) ; len = sizeof CACHE_HEADER - 1 ; }
  if (size - 4 > sizeof text - len) return 0 ;
  memcpy(text + len, data + 4, size - 4) ;
  len += size - 4 ;

  c = cache_init(max, key) ;
  check(c != 0) ;
  r = cache_load_buf(c, text, len, NOW, cap, &st) ;
  cache_stats(c, &cs) ;
  check(cs.entries <= max && cache_check(c)) ;
  if (!r)
  {
    check(!cs.entries && !st.stored && !st.expired && !st.future && !st.bad && !st.full && !st.cut) ;
    cache_free(c) ;
    return 0 ;
  }
  check(r == 1) ;
  check(!st.cut || len > (max * CACHE_NTESTS + 1) * (CACHE_LINE_MAX + 1)) ;

  /* what it holds: every valid pass is one the input gave, within bounds */
  n1 = dump_all(c, NOW, d1, DUMP_MAX) ;
  count = passes(c, d1, n1, cap, text, len) ;
  check(count <= st.stored && count <= max * CACHE_NTESTS) ;

  /* written, read back, written again: the same */
  c2 = cache_init(max, 0) ;
  check(c2 != 0) ;
  check(cache_load_buf(c2, d1, n1, NOW, cap, &st2) == 1) ;
  check(st2.stored == count && !st2.bad && !st2.expired && !st2.future && !st2.full && !st2.cut) ;
  n2 = dump_all(c2, NOW, d2, DUMP_MAX) ;
  check(n2 == n1 && !memcmp(d1, d2, n1)) ;
  n3 = dump_all(c2, NOW, d3, CACHE_DUMP_MIN) ;
  check(n3 == n1 && !memcmp(d1, d3, n1)) ;
  check(cache_check(c2)) ;
  cache_free(c2) ;

  /* swept later: nothing expired is left, nothing valid is lost */
  {
    uint64_t later = NOW + (data[0] & 64 ? 3600 : 86400) ;
    size_t swept = cache_expire(c, later, max + 1), n4 ;
    cache_stat cs2 ;
    cache_stats(c, &cs2) ;
    check(swept <= max && cs2.entries + swept == cs.entries && cache_check(c)) ;
    n4 = dump_all(c, later, d3, DUMP_MAX) ;
    /* every client still held has a pass valid at later */
    {
      size_t lines = 0, clients = 0, j ;
      char prev[64] = "" ;
      for (j = sizeof CACHE_HEADER - 1 ; j < n4 ; )
      {
        char const *lf = memchr(d3 + j, '\n', n4 - j), *sp = memchr(d3 + j, ' ', n4 - j) ;
        size_t al = (size_t)(sp - (d3 + j)) ;
        check(lf && sp && sp < lf && al < sizeof prev) ;
        if (strlen(prev) != al || memcmp(prev, d3 + j, al)) { clients++ ; memcpy(prev, d3 + j, al) ; prev[al] = 0 ; }
        lines++ ;
        j = (size_t)(lf - d3) + 1 ;
      }
      check(clients == cs2.entries && lines <= count) ;
    }
  }
  cache_free(c) ;
  return 0 ;
}
