/* zonespec-fuzz: libFuzzer harness for zonespec_parse (common/
 * mx_zonespec: rblenv's -r/-a and rcptchecks' -R zone=filter*weight).
 * The input, up to its first NUL, is one spec.
 * What parses must keep mx_zonespec.h's promises (a name of letters,
 * digits, - _ and dots, no empty label, no trailing dot, at most 253
 * bytes; a weight in -1000..1000) and must come back the same when
 * written out in the same syntax and parsed again; what fails must say
 * why. Answers are then judged against the filter's bitmaps.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx_zonespec.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static int has (zonespec const *z, unsigned int k, unsigned int v)
{
  return z->octet[k][v >> 3] & (1u << (v & 7)) ;
}

/* z in the syntax users write: every filter octet as a [list] */
static void unparse (zonespec const *z, char *buf, size_t max)
{
  size_t n = (size_t)snprintf(buf, max, "%s", z->name) ;
  unsigned int k, v ;
  if (z->has_filter)
    for (k = 0 ; k < 4 ; k++)
    {
      char sep = '[' ;
      n += (size_t)snprintf(buf + n, max - n, "%s", k ? "." : "=") ;
      for (v = 0 ; v < 256 ; v++)
        if (has(z, k, v)) { n += (size_t)snprintf(buf + n, max - n, "%c%u", sep, v) ; sep = ';' ; }
      n += (size_t)snprintf(buf + n, max - n, "%s", sep == '[' ? "[]" : "]") ;
    }
  snprintf(buf + n, max - n, "*%d", z->weight) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static char buf[ZONE_NAME_MAX + 4 * (2 + 256 * 4) + 16] ;
  char *s = malloc(size + 1) ;
  char const *why = 0 ;
  zonespec z, z2 ;
  size_t i, len ;
  check(s != 0) ;
  memcpy(s, data, size) ;
  s[size] = 0 ;
  if (!zonespec_parse(s, &z, &why))
  {
    check(why && *why) ;
    free(s) ;
    return 0 ;
  }
  len = strlen(z.name) ;
  check(len > 0 && len <= ZONE_NAME_MAX) ;
  check(z.name[0] != '.' && z.name[len-1] != '.' && !strstr(z.name, "..")) ;
  for (i = 0 ; i < len ; i++)
    check(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", z.name[i]) != 0) ;
  check(z.weight >= -ZONE_WEIGHT_MAX && z.weight <= ZONE_WEIGHT_MAX) ;
  if (z.has_filter)
    for (i = 0 ; i < 4 ; i++)
    {
      unsigned int v, any = 0 ;
      for (v = 0 ; v < 256 ; v++) any |= has(&z, (unsigned int)i, v) ;
      check(any) ;   /* every octet pattern names at least one value */
    }

  unparse(&z, buf, sizeof buf) ;
  why = 0 ;
  check(zonespec_parse(buf, &z2, &why)) ;
  check(!memcmp(&z, &z2, sizeof z)) ;

  /* answers: the bytes of the input, four at a time, and 127.0.0.2 */
  for (i = 0 ; i + 4 <= size && i < 64 ; i += 4)
  {
    unsigned char const *a = data + i ;
    enum answer_verdict v = zonespec_verdict(&z, a) ;
    if (a[0] != 127 || (a[1] == 255 && a[2] == 255)) check(v == ANSWER_FAULT) ;
    else if (!z.has_filter) check(v == ANSWER_LISTED) ;
    else check(v == (has(&z, 0, a[0]) && has(&z, 1, a[1]) && has(&z, 2, a[2]) && has(&z, 3, a[3]) ? ANSWER_LISTED : ANSWER_FILTERED)) ;
  }
  check(zonespec_points(&z, 0) == z.weight) ;
  check(zonespec_points(&z, 1) <= 0 && (zonespec_points(&z, 1) == z.weight || zonespec_points(&z, 1) == -z.weight)) ;
  free(s) ;
  return 0 ;
}
