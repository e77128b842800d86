/* patterns-fuzz: libFuzzer harness for smtp-delay's pattern file
 * (patterns_load) and its classifier (classify). The input is written
 * to a temporary file and loaded as a pattern file; its first 8 lines,
 * cut to 300 bytes, and a few fixed names are then classified as host
 * names (every pattern is tried on every name), with the built-in
 * keywords alone and with the loaded patterns, for an IPv4 client whose
 * address is the input's first four bytes and for one with no known
 * address. Aborts when a result breaks classify.h's contract.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

/* the pattern file: a temporary file, unlinked at once (nothing is
   left behind however the run ends), opened again by its /dev/fd name */
static char file[32] ;
static int fd = -1 ;

/* glibc's regcomp copies a repeated subexpression for each repetition
   and its work grows with the square of the copies: nested repetitions
   grow exponentially ("x*" and 12 '+' take 10 s to compile, 13 take
   47 s; "(a{99}){99}{99}" gigabytes). The pattern file is the
   administrator's and that cost is glibc's, not the parser's: a file is
   loaded only if no line multiplies out past 256 copies (counting
   every repetition as nested). */
static int tame (uint8_t const *data, size_t size)
{
  double product = 1 ;
  size_t i ;
  for (i = 0 ; i < size ; i++)
  {
    uint8_t c = data[i] ;
    if (c == '\n') product = 1 ;
    else if (c == '+' || c == '*' || c == '?') product *= 2 ;
    else if (c == '{')
    {
      unsigned long m = 0, v = 0 ;
      while (++i < size && ((data[i] >= '0' && data[i] <= '9') || data[i] == ','))
      {
        if (data[i] == ',') { v = 0 ; continue ; }
        if (v < 100000) v = v * 10 + (unsigned long)(data[i] - '0') ;
        if (v > m) m = v ;
      }
      i-- ;
      product *= (double)m + 2 ;
    }
    if (product > 256) return 0 ;
  }
  return 1 ;
}

static void one (patterns const *p, char const *host, ip46 const *ip)
{
  char const *why = 0 ;
  enum rdns_class c = classify(p, host, ip, &why) ;
  check(why != 0) ;
  if (!host || !*host) { check(c == CLASS_NONE && !strcmp(why, "noname")) ; return ; }
  if (c == CLASS_DYNAMIC)
    check(!strcmp(why, "ip") || !strcmp(why, "keyword") || !strcmp(why, "pattern")) ;
  else check(c == CLASS_NAMED && !strcmp(why, "name")) ;
  if (!strcmp(why, "ip")) check(ip != 0) ;
  if (!strcmp(why, "keyword")) check(p->builtin) ;
  if (!strcmp(why, "pattern")) check(p->n > 0) ;
  check(classify(p, host, ip, 0) == c) ;
  check(strlen(class_name(c)) > 0) ;
}

static void all_names (patterns const *p, uint8_t const *data, size_t size, ip46 const *ip)
{
  static char const *const fixed[] =
  {
    "", "mail.example.org", "dyn-192-0-2-7.pool.example.net",
    "7.2.0.192.in-addr.example.com", "c000020701.example.com", "cable-1.example"
  } ;
  size_t i, start = 0, lines = 0 ;
  for (i = 0 ; i < sizeof fixed / sizeof *fixed ; i++) { one(p, fixed[i], ip) ; one(p, fixed[i], 0) ; }
  one(p, 0, ip) ;
  while (start < size && lines++ < 8)
  {
    uint8_t const *nl = memchr(data + start, '\n', size - start) ;
    size_t end = nl ? (size_t)(nl - data) : size ;
    /* DNS names are at most 253 bytes; a little more tests the cut */
    size_t n = end - start < 300 ? end - start : 300 ;
    char *host = malloc(n + 1) ;   /* the name and its NUL: ASan sees any overread */
    check(host != 0) ;
    memcpy(host, data + start, n) ;
    host[n] = 0 ;
    one(p, host, ip) ;
    one(p, host, 0) ;
    free(host) ;
    start = end + 1 ;
  }
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  patterns builtin, loaded ;
  char err[512] ;
  ip46 ip ;
  int r ;
  if (fd < 0)
  {
    char tmp[] = "/tmp/patterns-fuzz.XXXXXX" ;
    fd = mkstemp(tmp) ;
    check(fd >= 0 && unlink(tmp) == 0) ;
    snprintf(file, sizeof file, "/dev/fd/%d", fd) ;
  }
  check(ftruncate(fd, 0) == 0) ;
  check(pwrite(fd, data, size, 0) == (ssize_t)size) ;

  {
    char a[4] = { 0, 0, 0, 0 } ;
    memcpy(a, data, size < 4 ? size : 4) ;
    ip46_from_ip4(&ip, a) ;
  }
  patterns_init(&builtin, 1) ;
  all_names(&builtin, data, size, &ip) ;

  if (!tame(data, size)) return 0 ;
  patterns_init(&loaded, (int)(size & 1)) ;
  err[0] = 0 ;
  r = patterns_load(&loaded, file, err, sizeof err) ;
  check(r == 1 || r == 0) ;   /* the file is there: never "cannot be read" */
  if (r) all_names(&loaded, data, size, &ip) ;
  else check(!strncmp(err, file, strlen(file)) && err[strlen(file)] == ':') ;
  patterns_free(&loaded) ;
  check(!loaded.n && !loaded.re) ;
  return 0 ;
}
