/* greystore-any: greystore.h's calls, made to the store in use (LMDB
 * with a directory, SQL with a group).
 */
#include "greystore.h"

char const *greystore_kind (greystore const *g)
{
  return g->dir ? "lmdb" : "sql" ;
}

int greystore_open (greystore *g)
{
  return g->dir ? greylmdb_open(g) : greysql_open(g) ;
}

void greystore_close (greystore *g)
{
  if (g->dir) greylmdb_close(g) ; else greysql_close(g) ;
}

enum grey_verdict greystore_check (greystore *g, greyconf const *c, uint64_t now, char const *net, char const *sender, char const *rcpt, greyrec *r)
{
  return g->dir ? greylmdb_check(g, c, now, net, sender, rcpt, r) : greysql_check(g, c, now, net, sender, rcpt, r) ;
}

int greystore_each (greystore *g, greystore_each_fn *fn, void *data)
{
  return g->dir ? greylmdb_each(g, fn, data) : greysql_each(g, fn, data) ;
}

int greystore_put_rec (greystore *g, char const *net, char const *sender, char const *rcpt, greyrec const *r)
{
  return g->dir ? greylmdb_put(g, net, sender, rcpt, r, 0) : greysql_put(g, net, sender, rcpt, r, 0) ;
}

int greystore_put_net (greystore *g, char const *net, greynet const *n)
{
  return g->dir ? greylmdb_put(g, net, 0, 0, 0, n) : greysql_put(g, net, 0, 0, 0, n) ;
}

int greystore_delete (greystore *g, char const *net, char const *sender, char const *rcpt)
{
  return g->dir ? greylmdb_delete(g, net, sender, rcpt) : greysql_delete(g, net, sender, rcpt) ;
}

long long greystore_expire (greystore *g, greyconf const *c, uint64_t now)
{
  return g->dir ? greylmdb_expire(g, c, now) : greysql_expire(g, c, now) ;
}
