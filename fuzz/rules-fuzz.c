/* rules-fuzz: libFuzzer harness for rules_items, smtp-screen's reader
 * of one tcprules rule (the data tcprules writes for a key, as
 * tcpserver's found() reads it). The input's first byte sizes the
 * environment buffer (0 to 255 bytes), the rest is the rule's data.
 * Aborts when the result differs from a model written here item by
 * item (deny, the VAR=value items in order, -1 exactly when they do not
 * fit), when the buffer is written past its size, when an item without
 * its NUL counts, or when rules_env_get does not find the first value
 * of each variable the rule set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char env[256 + 16], want[65536] ;
  size_t envmax, envlen = 0, wantlen = 0, i = 0 ;
  char const *s ;
  int deny = 0, wantdeny = 0, over = 0, r ;
  if (!size || size > sizeof want) return 0 ;
  envmax = data[0] ;
  s = (char const *)data + 1 ; size-- ;
  memset(env, 0x5a, sizeof env) ;
  r = rules_items(s, size, &deny, env, envmax, &envlen) ;

  /* the model: whole items only, "D..." denies, "+X=..." sets */
  while (i < size)
  {
    size_t len = 0 ;
    while (i + len < size && s[i + len]) len++ ;
    if (i + len == size) break ;   /* no NUL: not an item */
    if (len && s[i] == 'D') wantdeny = 1 ;
    else if (len > 1 && s[i] == '+' && memchr(s + i + 1, '=', len - 1))
    {
      if (wantlen + len > envmax) { over = 1 ; break ; }
      memcpy(want + wantlen, s + i + 1, len) ;
      wantlen += len ;
    }
    i += len + 1 ;
  }

  for (i = envmax ; i < sizeof env ; i++) check(env[i] == 0x5a) ;
  if (over) { check(r == -1) ; return 0 ; }
  check(r == 1) ;
  check(deny == wantdeny) ;
  check(envlen == wantlen && envlen <= envmax) ;
  check(!memcmp(env, want, envlen)) ;

  /* each item: NUL-terminated, with '='; the first of a name wins */
  for (i = 0 ; i < envlen ; )
  {
    size_t l = strlen(env + i), vl ;
    char name[256] ;
    char const *eq = memchr(env + i, '=', l) ;
    check(i + l < envlen) ;
    check(eq != 0) ;
    vl = (size_t)(eq - (env + i)) ;
    if (vl && vl < sizeof name && !memchr(env + i, 0, vl))
    {
      size_t j ;
      char const *got ;
      memcpy(name, env + i, vl) ; name[vl] = 0 ;
      got = rules_env_get(env, envlen, name) ;
      check(got != 0 && rules_env_has(env, envlen, name)) ;
      /* the first item of this name, found by hand */
      for (j = 0 ; j < envlen ; j += strlen(env + j) + 1)
        if (strlen(env + j) > vl && env[j + vl] == '=' && !memcmp(env + j, name, vl)) break ;
      check(got == env + j + vl + 1) ;
    }
    i += l + 1 ;
  }
  return 0 ;
}
