/* mx_zonespec: see mx_zonespec.h. Octet sets are bitmaps: matching an answer
 * is four bit tests, whatever the filter's ranges.
 */
#include "mx_zonespec.h"

#include <string.h>

static void set_bit (unsigned char *set, unsigned int v) { set[v >> 3] |= (unsigned char)(1u << (v & 7)) ; }
static int has_bit (unsigned char const *set, unsigned int v) { return set[v >> 3] & (1u << (v & 7)) ; }

/* a decimal 0..255 at *s; advances *s */
static int scan_octet (char const **s, unsigned int *v)
{
  unsigned int n = 0, digits = 0 ;
  while (**s >= '0' && **s <= '9')
  {
    n = n * 10 + (unsigned int)(**s - '0') ;
    (*s)++ ;
    if (++digits > 3 || n > 255) return 0 ;
  }
  *v = n ;
  return digits > 0 ;
}

/* one octet pattern: N or [N;N..M;...]; advances *s */
static int scan_pattern (char const **s, unsigned char *set, char const **why)
{
  unsigned int lo, hi ;
  if (**s != '[')
  {
    if (!scan_octet(s, &lo)) { *why = "filter octet not a number 0..255 or a [list]" ; return 0 ; }
    set_bit(set, lo) ;
    return 1 ;
  }
  (*s)++ ;
  for (;;)
  {
    if (!scan_octet(s, &lo)) { *why = "filter list item not a number 0..255" ; return 0 ; }
    hi = lo ;
    if ((*s)[0] == '.' && (*s)[1] == '.')
    {
      *s += 2 ;
      if (!scan_octet(s, &hi)) { *why = "filter range end not a number 0..255" ; return 0 ; }
      if (hi < lo) { *why = "filter range runs backwards" ; return 0 ; }
    }
    for (; lo <= hi ; lo++) set_bit(set, lo) ;
    if (**s == ';') { (*s)++ ; continue ; }
    if (**s == ']') { (*s)++ ; return 1 ; }
    *why = "filter list not closed by ]" ;
    return 0 ;
  }
}

static int is_name_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ;
}

int zonespec_parse (char const *s, zonespec *z, char const **why)
{
  size_t n = strcspn(s, "=*"), len = n, i ;
  memset(z, 0, sizeof *z) ;
  z->weight = 1 ;
  if (len && s[len-1] == '.') len-- ;   /* one trailing dot is allowed */
  if (!len) { *why = "empty zone name" ; return 0 ; }
  if (len > ZONE_NAME_MAX) { *why = "zone name longer than 253 characters" ; return 0 ; }
  for (i = 0 ; i < len ; i++)
  {
    if (!is_name_char(s[i])) { *why = "zone name has a character other than letters, digits, - _ ." ; return 0 ; }
    /* "zen.example..": still a dot last once the one allowed is dropped */
    if (s[i] == '.' && (!i || s[i-1] == '.' || i + 1 == len)) { *why = "empty label in zone name" ; return 0 ; }
  }
  memcpy(z->name, s, len) ;
  z->name[len] = 0 ;
  s += n ;
  if (*s == '=')
  {
    unsigned int k ;
    s++ ;
    for (k = 0 ; k < 4 ; k++)
    {
      if (k && *s++ != '.') { *why = "filter needs four octets separated by dots" ; return 0 ; }
      if (!scan_pattern(&s, z->octet[k], why)) return 0 ;
    }
    z->has_filter = 1 ;
  }
  if (*s == '*')
  {
    int neg = 0 ;
    unsigned int w = 0, digits = 0 ;
    s++ ;
    if (*s == '-' || *s == '+') neg = *s++ == '-' ;
    while (*s >= '0' && *s <= '9')
    {
      w = w * 10 + (unsigned int)(*s++ - '0') ;
      if (++digits > 4 || w > ZONE_WEIGHT_MAX) { *why = "weight beyond -1000..1000" ; return 0 ; }
    }
    if (!digits) { *why = "weight not a whole number" ; return 0 ; }
    z->weight = neg ? -(int)w : (int)w ;
  }
  if (*s) { *why = "garbage after the zone spec (expected =filter, *weight or the end)" ; return 0 ; }
  return 1 ;
}

enum answer_verdict zonespec_verdict (zonespec const *z, unsigned char const *a)
{
  unsigned int i ;
  if (a[0] != 127 || (a[1] == 255 && a[2] == 255)) return ANSWER_FAULT ;
  if (!z->has_filter) return ANSWER_LISTED ;
  for (i = 0 ; i < 4 ; i++)
    if (!has_bit(z->octet[i], a[i])) return ANSWER_FILTERED ;
  return ANSWER_LISTED ;
}

int zonespec_points (zonespec const *z, int allowlist)
{
  if (!allowlist) return z->weight ;
  return z->weight < 0 ? z->weight : -z->weight ;
}
