/* patterns-fuzz: libFuzzer harness for smtp-delay's pattern file
 * parser (patterns_parse: what patterns_load does with a file's text,
 * which t/unit/classify-test compares with the file read) and its
 * classifier (classify). The input is parsed as the text of a pattern
 * file; its first 8 lines, cut to 300 bytes, and a few fixed names are
 * then classified as host names (every pattern is tried on every name),
 * with the built-in keywords alone and with the loaded patterns, for an
 * IPv4 client whose address is the input's first four bytes and for
 * one with no known address. Aborts when a result breaks mx_classify.h's
 * contract, or when the loaded patterns change a result they cannot
 * (an earlier test's).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx_classify.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

/* the pattern file's name, as messages give it */
static char const file[] = "patterns" ;

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

/* the names of an input and their results, in this order: the fixed
   names for the client at the input's address, then for one with no
   known address, then no name at all, then the input's first lines
   for each client */
#define FIXED 6
#define LINES 8
#define NAMES (2 * FIXED + 1 + 2 * LINES)
typedef struct { enum rdns_class c ; char const *why ; } result ;

static void one (patterns const *p, char const *host, ip46 const *ip, result *res)
{
  char const *why = 0 ;
  enum rdns_class c = classify(p, host, ip, &why) ;
  check(why != 0) ;
  res->c = c ;
  res->why = why ;
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

/* Classifies the names with p into res[0..NAMES); returns how many of
   res hold a result. The names that do not depend on the input (no
   address, or no name) only if fixed_too: with the built-in set they
   are the same calls at every input, classified at the first, and
   their results stay in res. */
static size_t all_names (patterns const *p, uint8_t const *data, size_t size, ip46 const *ip, result *res, int fixed_too)
{
  static char const *const fixed[FIXED] =
  {
    "", "mail.example.org", "dyn-192-0-2-7.pool.example.net",
    "7.2.0.192.in-addr.example.com", "c000020701.example.com", "cable-1.example"
  } ;
  size_t i, k = 2 * FIXED + 1, start = 0, lines = 0 ;
  for (i = 0 ; i < FIXED ; i++) one(p, fixed[i], ip, &res[i]) ;
  if (fixed_too)
  {
    for (i = 0 ; i < FIXED ; i++) one(p, fixed[i], 0, &res[FIXED + i]) ;
    one(p, 0, ip, &res[2 * FIXED]) ;
  }
  while (start < size && lines++ < LINES)
  {
    uint8_t const *nl = memchr(data + start, '\n', size - start) ;
    size_t end = nl ? (size_t)(nl - data) : size ;
    /* DNS names are at most 253 bytes; a little more tests the cut */
    size_t n = end - start < 300 ? end - start : 300 ;
    char *host = malloc(n + 1) ;   /* the name and its NUL: ASan sees any overread */
    check(host != 0) ;
    memcpy(host, data + start, n) ;
    host[n] = 0 ;
    one(p, host, ip, &res[k++]) ;
    one(p, host, 0, &res[k++]) ;
    free(host) ;
    start = end + 1 ;
  }
  return k ;
}

/* A name's result with the loaded set l (built-in keywords if builtin)
   against its result with the built-in set alone b: the tests run in
   the order noname, ip, keyword, pattern, so patterns only ever turn
   what the earlier tests left ("name", or "keyword" when l has no
   keywords) into "pattern". */
static void same_base (result const *b, result const *l, int builtin)
{
  if (!strcmp(b->why, "noname") || !strcmp(b->why, "ip") || (builtin && !strcmp(b->why, "keyword")))
    check(l->c == b->c && !strcmp(l->why, b->why)) ;
  else check(!strcmp(l->why, "pattern") || !strcmp(l->why, "name")) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static result base[NAMES] ;   /* with the built-in set */
  static int base_fixed = 0 ;   /* base has the names with no address */
  result res[NAMES] ;
  patterns builtin, loaded ;
  char err[512] ;
  ip46 ip ;
  size_t k, i ;
  int r ;
  {
    char a[4] = { 0, 0, 0, 0 } ;
    memcpy(a, data, size < 4 ? size : 4) ;
    ip46_from_ip4(&ip, a) ;
  }
  patterns_init(&builtin, 1) ;
  k = all_names(&builtin, data, size, &ip, base, !base_fixed) ;
  base_fixed = 1 ;

  if (!tame(data, size)) return 0 ;
  patterns_init(&loaded, (int)(size & 1)) ;
  err[0] = 0 ;
  r = patterns_parse(&loaded, file, (char const *)data, size, err, sizeof err) ;
  check(r == 1 || r == 0) ;
  if (!r)
  {
    char *end ;
    check(!strncmp(err, file, strlen(file)) && err[strlen(file)] == ':') ;
    check(strtoul(err + strlen(file) + 1, &end, 10) > 0 && end[0] == ':' && end[1] == ' ') ;
  }
  else if (loaded.n || !loaded.builtin)   /* else the same set as builtin */
  {
    check(all_names(&loaded, data, size, &ip, res, 1) == k) ;
    for (i = 0 ; i < k ; i++) same_base(&base[i], &res[i], loaded.builtin) ;
  }
  patterns_free(&loaded) ;
  check(!loaded.n && !loaded.re) ;
  return 0 ;
}
