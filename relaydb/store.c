/* store: dispatch to the directory or the MariaDB back end. */
#include "store.h"
#include "store-impl.h"

#include <string.h>

int store_failv (store *s, char const *const *part, size_t nparts)
{
  size_t len = 0 ;
  size_t i ;
  for (i = 0 ; i < nparts ; i++)
  {
    size_t n = strlen(part[i]) ;
    if (n > sizeof s->err - 1 - len) n = sizeof s->err - 1 - len ;
    memcpy(s->err + len, part[i], n) ;
    len += n ;
  }
  s->err[len] = 0 ;
  return 0 ;
}

int store_open (store *s, store_conf const *conf)
{
  memset(s, 0, sizeof *s) ;
  s->conf = *conf ;
  s->dirfd = -1 ;
  return conf->group ? ssql_open(s) : sdir_open(s) ;
}

void store_close (store *s)
{
  if (s->conf.group) ssql_close(s) ; else sdir_close(s) ;
}

char const *store_kind (store const *s)
{
  return s->conf.group ? "sql" : "dir" ;
}

int store_put (store *s, char const *ip, uint64_t ts)
{
  return s->conf.group ? ssql_put(s, ip, ts) : sdir_put(s, ip, ts) ;
}

int store_get (store *s, char const *ip, uint64_t *ts)
{
  return s->conf.group ? ssql_get(s, ip, ts) : sdir_get(s, ip, ts) ;
}

int store_delete (store *s, char const *ip)
{
  return s->conf.group ? ssql_delete(s, ip) : sdir_delete(s, ip) ;
}

int store_delete_older (store *s, char const *ip, uint64_t cutoff)
{
  return s->conf.group ? ssql_delete_older(s, ip, cutoff) : sdir_delete_older(s, ip, cutoff) ;
}

long long store_expire (store *s, uint64_t cutoff)
{
  return s->conf.group ? ssql_expire(s, cutoff) : sdir_expire(s, cutoff) ;
}

int store_each (store *s, store_each_fn *fn, void *data)
{
  return s->conf.group ? ssql_each(s, fn, data) : sdir_each(s, fn, data) ;
}

/* The directory store has no transactions: the caller validated every
   entry first, so only an I/O error can stop it half-way, and each entry
   written is whole. */
int store_load (store *s, char const *const *ips, uint64_t const *ts, size_t n)
{
  size_t i ;
  if (s->conf.group) return ssql_load(s, ips, ts, n) ;
  for (i = 0 ; i < n ; i++)
    if (!sdir_put(s, ips[i], ts[i])) return 0 ;
  return 1 ;
}
