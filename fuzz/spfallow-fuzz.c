/* spfallow-fuzz: libFuzzer harness for greylisting's allow-list of big
 * senders (spfallow.h): the file's parser and the domain match.
 *
 * The first byte sets the room of the list (1 to 1021 bytes, so that
 * "too many domains" is met); the rest is the file. A parsed list must
 * fit its room and hold only non-empty domains listline_domain_ok
 * accepts, each NUL-terminated; every entry must match itself and a
 * subdomain of itself, never a name that merely ends with it; and a
 * name from the input is matched exactly when some entry is it or a
 * parent of it (a brute-force model). A refusal names a line of the
 * file and a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listline.h"
#include "spfallow.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

static int model (char const *list, size_t len, char const *d)
{
  size_t i = 0, dl = strlen(d) ;
  while (i < len)
  {
    char const *e = list + i ;
    size_t el = strlen(e) ;
    if (el == dl && !memcmp(e, d, dl)) return 1 ;
    if (el + 1 <= dl && d[dl - el - 1] == '.' && !strcmp(d + dl - el, e)) return 1 ;
    i += el + 1 ;
  }
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static char list[SPFALLOW_LIST_MAX], name[600] ;
  char *text ;
  size_t max, n, i, lines = 1 ;
  unsigned int line = 0 ;
  char const *why = 0 ;
  long r ;
  if (!size || size - 1 > SPFALLOW_FILE_MAX) return 0 ;
  max = 1 + (size_t)data[0] * 4 ;
  n = size - 1 ;
  text = malloc(n + 1) ;
  if (!text) return 0 ;
  memcpy(text, data + 1, n) ;
  for (i = 0 ; i < n ; i++) if (text[i] == '\n') lines++ ;
  r = spfallow_parse(text, n, list, max, &line, &why) ;
  free(text) ;
  if (r < 0)
  {
    check(r == -1 && line >= 1 && line <= lines && why && why[0] == ':') ;
    return 0 ;
  }
  check((size_t)r <= max) ;
  check(!r || !list[r - 1]) ;
  for (i = 0 ; i < (size_t)r ; )
  {
    size_t el = strlen(list + i) ;
    check(el > 0 && i + el < (size_t)r) ;
    check(listline_domain_ok(list + i, el)) ;
    check(spfallow_match(list, (size_t)r, list + i)) ;
    if (el + 2 < sizeof name)
    {
      name[0] = 'a' ; name[1] = '.' ; memcpy(name + 2, list + i, el + 1) ;
      check(spfallow_match(list, (size_t)r, name)) ;
      name[1] = 'x' ;   /* "ax" + entry: a parent only if some other entry is */
      check(spfallow_match(list, (size_t)r, name) == model(list, (size_t)r, name)) ;
    }
    i += el + 1 ;
  }
  /* the input's last line, as a name to match */
  {
    size_t s = n, k ;
    while (s && data[s] != '\n') s-- ;   /* data[s] is the file's byte s - 1 */
    k = n - s < sizeof name ? n - s : sizeof name - 1 ;
    memcpy(name, data + 1 + s, k) ;
    name[k] = 0 ;   /* a NUL inside ends it sooner */
    check(spfallow_match(list, (size_t)r, name) == model(list, (size_t)r, name)) ;
  }
  return 0 ;
}
