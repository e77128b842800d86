/* rules: see rules.h. tcpserver's rules.c and found(), over skalibs'
 * cdb. */
#include "rules.h"

#include <string.h>

int rules_open (rules *r, char const *path)
{
  cdb c = CDB_ZERO ;
  struct stat st ;
  if (stat(path, &st) < 0) return 0 ;
  if (!cdb_init(&c, path)) return 0 ;
  if (r->open) cdb_free(&r->c) ;
  r->c = c ;
  r->st = st ;
  r->open = 1 ;
  return 1 ;
}

int rules_changed (rules const *r, char const *path)
{
  struct stat st ;
  if (!r->open || stat(path, &st) < 0) return 1 ;
  return st.st_ino != r->st.st_ino || st.st_dev != r->st.st_dev || st.st_size != r->st.st_size
    || st.st_mtim.tv_sec != r->st.st_mtim.tv_sec || st.st_mtim.tv_nsec != r->st.st_mtim.tv_nsec ;
}

void rules_close (rules *r)
{
  if (r->open) cdb_free(&r->c) ;
  r->open = 0 ;
}

int rules_items (char const *s, size_t n, int *deny, char *env, size_t envmax, size_t *envlen)
{
  size_t i = 0 ;
  while (i < n)
  {
    char const *z = memchr(s + i, 0, n - i) ;
    size_t len ;
    if (!z) break ;   /* tcpserver takes no unterminated item either */
    len = (size_t)(z - (s + i)) ;
    if (len && s[i] == 'D') *deny = 1 ;
    else if (len > 1 && s[i] == '+' && memchr(s + i + 1, '=', len - 1))
    {
      if (*envlen + len > envmax) return -1 ;
      memcpy(env + *envlen, s + i + 1, len) ;   /* VAR=value and its NUL */
      *envlen += len ;
    }
    i += len + 1 ;
  }
  return 1 ;
}

int rules_find (rules const *r, char const *ip, int *deny, char *env, size_t envmax, size_t *envlen)
{
  size_t len = strlen(ip) ;
  cdb_data d ;
  *deny = 0 ;
  *envlen = 0 ;
  if (!r->open) return 0 ;
  if (cdb_find(&r->c, &d, ip, (uint32_t)len) > 0) return rules_items(d.s, d.len, deny, env, envmax, envlen) ;
  while (len)
  {
    if ((ip[len - 1] == '.' || ip[len - 1] == ':') && cdb_find(&r->c, &d, ip, (uint32_t)len) > 0)
      return rules_items(d.s, d.len, deny, env, envmax, envlen) ;
    len-- ;
  }
  if (cdb_find(&r->c, &d, "", 0) > 0) return rules_items(d.s, d.len, deny, env, envmax, envlen) ;
  return 0 ;
}

int rules_env_has (char const *env, size_t envlen, char const *var)
{
  size_t vl = strlen(var), i = 0 ;
  while (i < envlen)
  {
    size_t l = strlen(env + i) ;
    if (l > vl && env[i + vl] == '=' && !memcmp(env + i, var, vl)) return 1 ;
    i += l + 1 ;
  }
  return 0 ;
}

char const *rules_env_get (char const *env, size_t envlen, char const *var)
{
  size_t vl = strlen(var), i = 0 ;
  while (i < envlen)
  {
    size_t l = strlen(env + i) ;
    if (l > vl && env[i + vl] == '=' && !memcmp(env + i, var, vl)) return env + i + vl + 1 ;
    i += l + 1 ;
  }
  return 0 ;
}
