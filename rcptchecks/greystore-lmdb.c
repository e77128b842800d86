/* greystore-lmdb: the embedded greylisting store, LMDB (see greystore.h
 * and common/LIBRARIES).
 *
 * One environment in the directory g->dir (data.mdb, lock.mdb), opened
 * at the first check, not at the start of a session. Keys are text:
 * "T NET SENDER RCPT" for a triplet, "N NET" for a network; values three
 * (triplet) or two (network) 64-bit numbers in the host's byte order.
 * A check reads first, without a lock (LMDB's readers take none):
 * an allowed network, or a triplet that passed less than GREY_REFRESH
 * seconds ago, is decided there, nothing written (its pass time and
 * count are then not refreshed, which changes no decision). Every
 * other check is one write transaction that reads again and decides:
 * LMDB lets one writer in at a time (a mutex in lock.mdb shared by
 * every process), so concurrent sessions never lose or double a
 * triplet. MDB_NOSYNC: a commit is not flushed to disk at once (the
 * kernel writes it out); a crash of the machine may undo the last
 * triplets recorded, whose senders are then deferred once more, never
 * lost. The map may grow to GREY_LMDB_MAPSIZE.
 */
#include "greystore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#define GREY_LMDB_MAPSIZE ((size_t)1 << 34)   /* 16 GiB of address space, sparse on disk */
#define GREY_LMDB_READERS 4096

static int fail (greystore *g, char const *what, int rc)
{
  snprintf(g->err, sizeof g->err, "%s %s: %s", what, g->dir, rc > 0 ? strerror(rc) : mdb_strerror(rc)) ;
  return -1 ;
}

int greylmdb_open (greystore *g)
{
  MDB_env *env ;
  MDB_txn *t ;
  MDB_dbi dbi ;
  int rc ;
  if (g->env) return 1 ;
  if (!g->readonly && mkdir(g->dir, 0700) < 0 && errno != EEXIST) { fail(g, "unable to create", errno) ; return 0 ; }
  rc = mdb_env_create(&env) ;
  if (rc) { fail(g, "unable to open", rc) ; return 0 ; }
  mdb_env_set_mapsize(env, GREY_LMDB_MAPSIZE) ;
  mdb_env_set_maxreaders(env, GREY_LMDB_READERS) ;
  rc = mdb_env_open(env, g->dir, MDB_NOSYNC | (g->readonly ? MDB_RDONLY : 0), 0600) ;
  if (rc) { mdb_env_close(env) ; fail(g, "unable to open", rc) ; return 0 ; }
  rc = mdb_txn_begin(env, 0, g->readonly ? MDB_RDONLY : 0, &t) ;
  if (!rc) rc = mdb_dbi_open(t, 0, 0, &dbi) ;
  if (!rc) rc = mdb_txn_commit(t) ; else if (t) mdb_txn_abort(t) ;
  if (rc) { mdb_env_close(env) ; fail(g, "unable to open", rc) ; return 0 ; }
  g->env = env ;
  g->dbi = dbi ;
  return 1 ;
}

void greylmdb_close (greystore *g)
{
  if (g->env) mdb_env_close(g->env) ;
  g->env = 0 ;
}

static size_t key_rec (char *k, char const *net, char const *sender, char const *rcpt)
{
  size_t n = 0, l ;
  k[n++] = 'T' ; k[n++] = ' ' ;
  l = strlen(net) ; memcpy(k + n, net, l) ; n += l ; k[n++] = ' ' ;
  l = strlen(sender) ; memcpy(k + n, sender, l) ; n += l ; k[n++] = ' ' ;
  l = strlen(rcpt) ; memcpy(k + n, rcpt, l) ; n += l ;
  return n ;
}

static size_t key_net (char *k, char const *net)
{
  size_t l = strlen(net) ;
  k[0] = 'N' ; k[1] = ' ' ;
  memcpy(k + 2, net, l) ;
  return l + 2 ;
}

/* the records of net and the triplet in transaction t: 1 found, 0 not, -1 error */
static int get_both (greystore *g, MDB_txn *t, char *kn, char *kr, char const *net, char const *sender, char const *rcpt, greynet *n, greyrec *r)
{
  MDB_val key, val ;
  int rc ;
  n->passes = n->last = 0 ;
  key.mv_data = kn ; key.mv_size = key_net(kn, net) ;
  rc = mdb_get(t, g->dbi, &key, &val) ;
  if (rc && rc != MDB_NOTFOUND) return fail(g, "unable to read", rc) ;
  if (!rc && val.mv_size == sizeof *n) memcpy(n, val.mv_data, sizeof *n) ;
  key.mv_data = kr ; key.mv_size = key_rec(kr, net, sender, rcpt) ;
  rc = mdb_get(t, g->dbi, &key, &val) ;
  if (rc && rc != MDB_NOTFOUND) return fail(g, "unable to read", rc) ;
  if (rc || val.mv_size != sizeof *r) return 0 ;
  memcpy(r, val.mv_data, sizeof *r) ;
  return 1 ;
}

enum grey_verdict greylmdb_check (greystore *g, greyconf const *c, uint64_t now, char const *net, char const *sender, char const *rcpt, greyrec *r)
{
  char kr[GREY_KEY_MAX + 4], kn[GREY_NET_MAX + 4] ;
  MDB_txn *t ;
  MDB_val key, val ;
  greynet n ;
  int rc, found, wr, wn ;
  enum grey_verdict v ;
  if (!greylmdb_open(g)) return GREY_ERROR ;
  /* a read first, without a lock: an allowed network, or a triplet
     that passed within the last GREY_REFRESH seconds, is decided
     without writing (the steady state of a known sender) */
  rc = mdb_txn_begin(g->env, 0, MDB_RDONLY, &t) ;
  if (rc) { fail(g, "unable to read", rc) ; return GREY_ERROR ; }
  found = get_both(g, t, kn, kr, net, sender, rcpt, &n, r) ;
  mdb_txn_abort(t) ;
  if (found < 0) return GREY_ERROR ;
  if (c->autoallow && n.passes >= c->autoallow && !greystore_stale_net(c, now, &n)) return GREY_ALLOWED ;
  if (found && r->passed && r->passed <= now && now - r->passed < GREY_REFRESH && !greystore_stale_rec(c, now, r)) return GREY_KNOWN ;
  /* the decision again, in the write transaction: another process may
     have written meanwhile */
  rc = mdb_txn_begin(g->env, 0, 0, &t) ;
  if (rc) { fail(g, "unable to write", rc) ; return GREY_ERROR ; }
  found = get_both(g, t, kn, kr, net, sender, rcpt, &n, r) ;
  if (found < 0) { mdb_txn_abort(t) ; return GREY_ERROR ; }
  v = greystore_decide(c, now, r, found, &n, &wr, &wn) ;
  if (wr)
  {
    key.mv_data = kr ; key.mv_size = key_rec(kr, net, sender, rcpt) ;
    val.mv_data = r ; val.mv_size = sizeof *r ;
    rc = mdb_put(t, g->dbi, &key, &val, 0) ;
    if (rc) goto err ;
  }
  if (wn)
  {
    key.mv_data = kn ; key.mv_size = key_net(kn, net) ;
    val.mv_data = &n ; val.mv_size = sizeof n ;
    rc = mdb_put(t, g->dbi, &key, &val, 0) ;
    if (rc) goto err ;
  }
  if (wr || wn) rc = mdb_txn_commit(t) ; else { mdb_txn_abort(t) ; rc = 0 ; }
  if (rc) { fail(g, "unable to write", rc) ; return GREY_ERROR ; }
  return v ;
 err:
  mdb_txn_abort(t) ;
  fail(g, "unable to write", rc) ;
  return GREY_ERROR ;
}

int greylmdb_each (greystore *g, greystore_each_fn *fn, void *data)
{
  MDB_txn *t ;
  MDB_cursor *cur ;
  MDB_val key, val ;
  int rc, r = 1 ;
  if (!greylmdb_open(g)) return -1 ;
  rc = mdb_txn_begin(g->env, 0, MDB_RDONLY, &t) ;
  if (rc) return fail(g, "unable to read", rc) ;
  rc = mdb_cursor_open(t, g->dbi, &cur) ;
  if (rc) { mdb_txn_abort(t) ; return fail(g, "unable to read", rc) ; }
  while (!(rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)))
  {
    char k[GREY_KEY_MAX + 4], *f[3] ;
    unsigned int nf = 0 ;
    size_t i ;
    if (key.mv_size < 3 || key.mv_size > GREY_KEY_MAX + 2) continue ;
    memcpy(k, key.mv_data, key.mv_size) ;
    k[key.mv_size] = 0 ;
    for (i = 2, f[nf++] = k + 2 ; i < key.mv_size && nf < 3 ; i++)
      if (k[i] == ' ') { k[i] = 0 ; f[nf++] = k + i + 1 ; }
    if (k[0] == 'T' && nf == 3 && val.mv_size == sizeof (greyrec))
    {
      greyrec rr ;
      memcpy(&rr, val.mv_data, sizeof rr) ;
      if (!fn(f[0], f[1], f[2], &rr, 0, data)) { r = 0 ; break ; }
    }
    else if (k[0] == 'N' && nf == 1 && val.mv_size == sizeof (greynet))
    {
      greynet nn ;
      memcpy(&nn, val.mv_data, sizeof nn) ;
      if (!fn(f[0], 0, 0, 0, &nn, data)) { r = 0 ; break ; }
    }
  }
  mdb_cursor_close(cur) ;
  mdb_txn_abort(t) ;
  if (r && rc != MDB_NOTFOUND) return fail(g, "unable to read", rc) ;
  return r ;
}

int greylmdb_put (greystore *g, char const *net, char const *sender, char const *rcpt, greyrec const *r, greynet const *n)
{
  char k[GREY_KEY_MAX + 4] ;
  MDB_txn *t ;
  MDB_val key, val ;
  int rc ;
  if (!greylmdb_open(g)) return -1 ;
  if (sender) { key.mv_size = key_rec(k, net, sender, rcpt) ; val.mv_data = (void *)r ; val.mv_size = sizeof *r ; }
  else { key.mv_size = key_net(k, net) ; val.mv_data = (void *)n ; val.mv_size = sizeof *n ; }
  key.mv_data = k ;
  rc = mdb_txn_begin(g->env, 0, 0, &t) ;
  if (rc) return fail(g, "unable to write", rc) ;
  rc = mdb_put(t, g->dbi, &key, &val, 0) ;
  if (rc) { mdb_txn_abort(t) ; return fail(g, "unable to write", rc) ; }
  rc = mdb_txn_commit(t) ;
  if (rc) return fail(g, "unable to write", rc) ;
  return 1 ;
}

int greylmdb_delete (greystore *g, char const *net, char const *sender, char const *rcpt)
{
  char k[GREY_KEY_MAX + 4] ;
  MDB_txn *t ;
  MDB_val key ;
  int rc ;
  if (!greylmdb_open(g)) return -1 ;
  key.mv_size = sender ? key_rec(k, net, sender, rcpt) : key_net(k, net) ;
  key.mv_data = k ;
  rc = mdb_txn_begin(g->env, 0, 0, &t) ;
  if (rc) return fail(g, "unable to write", rc) ;
  rc = mdb_del(t, g->dbi, &key, 0) ;
  if (rc == MDB_NOTFOUND) { mdb_txn_abort(t) ; return 0 ; }
  if (rc) { mdb_txn_abort(t) ; return fail(g, "unable to write", rc) ; }
  rc = mdb_txn_commit(t) ;
  if (rc) return fail(g, "unable to write", rc) ;
  return 1 ;
}

long long greylmdb_expire (greystore *g, greyconf const *c, uint64_t now)
{
  MDB_txn *t ;
  MDB_cursor *cur ;
  MDB_val key, val ;
  long long gone = 0 ;
  int rc ;
  if (!greylmdb_open(g)) return -1 ;
  rc = mdb_txn_begin(g->env, 0, 0, &t) ;
  if (rc) return fail(g, "unable to write", rc) ;
  rc = mdb_cursor_open(t, g->dbi, &cur) ;
  if (rc) { mdb_txn_abort(t) ; return fail(g, "unable to write", rc) ; }
  while (!(rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)))
  {
    char const *k = key.mv_data ;
    int stale = 1 ;   /* a record of no known form goes too */
    if (key.mv_size && k[0] == 'T' && val.mv_size == sizeof (greyrec))
    {
      greyrec r ;
      memcpy(&r, val.mv_data, sizeof r) ;
      stale = greystore_stale_rec(c, now, &r) ;
    }
    else if (key.mv_size && k[0] == 'N' && val.mv_size == sizeof (greynet))
    {
      greynet n ;
      memcpy(&n, val.mv_data, sizeof n) ;
      stale = greystore_stale_net(c, now, &n) ;
    }
    if (!stale) continue ;
    rc = mdb_cursor_del(cur, 0) ;
    if (rc) break ;
    gone++ ;
  }
  mdb_cursor_close(cur) ;
  if (rc != MDB_NOTFOUND) { mdb_txn_abort(t) ; return fail(g, "unable to expire", rc) ; }
  rc = mdb_txn_commit(t) ;
  if (rc) return fail(g, "unable to write", rc) ;
  return gone ;
}
