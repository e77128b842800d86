/* greystore-sql: the greylisting store shared by several MX hosts, two
 * MariaDB tables (greydb.8 gives their definitions):
 *   greylist (net, sender, rcpt, first, passed, count), key (net, sender, rcpt)
 *   greylist_nets (net, passes, last), key net
 * reached through rcptchecks' -g groups (mx_sql.h: option-file
 * credentials, failover to the next group when a server goes away).
 * Prepared statements only. A check is:
 *   1. the network's row (SELECT);
 *   2. INSERT ... ON DUPLICATE KEY UPDATE count = count + 1: the row is
 *      created or counted in one statement, so two sessions (on one
 *      host or two) that see a triplet at once make one row, never two,
 *      and neither is lost;
 *   3. the row read back (SELECT), the decision made (greystore_decide);
 *   4. a change of state written with its guard: the UPDATE applies
 *      only if the row is still as read (first and passed unchanged), so
 *      of two sessions retrying at once one moves the triplet to passed
 *      and counts the network (INSERT ... ON DUPLICATE KEY UPDATE
 *      passes = passes + 1), the other finds it passed already.
 */
#include "greystore.h"

#include <stdio.h>
#include <string.h>

#include "mx_sql.h"

#define PMAX 8

typedef struct param_s param ;
struct param_s
{
  char const *s ;          /* a string, or 0 for the number */
  unsigned long long u ;
} ;

static int fail (greystore *g, char const *what, char const *detail)
{
  snprintf(g->err, sizeof g->err, "%s%s%s", what, detail ? ": " : "", detail ? detail : "") ;
  return -1 ;
}

int greysql_open (greystore *g)
{
  (void)g ;
  return 1 ;   /* connected on first need */
}

void greysql_close (greystore *g)
{
  mx_mariadb const *my = g->my ;
  if (g->m) my->close(g->m) ;
  g->m = 0 ;
}

/* One statement: params in, up to nres numbers out (of the first row;
   *rows says how many rows, or the rows affected for a statement
   without results). 1, or -1 (*lost: the server went away). */
static int try1 (greystore *g, char const *sql, param const *p, unsigned int np, unsigned long long *res, unsigned int nres, unsigned long long *rows, int *lost)
{
  mx_mariadb const *my = g->my ;
  MYSQL_STMT *st = my->stmt_init(g->m) ;
  MYSQL_BIND b[PMAX], o[4] ;
  unsigned long len[PMAX] ;
  unsigned int i ;
  if (np > PMAX) return fail(g, "too many parameters", 0) ;
  if (!st) { *lost = mx_sql_gone(my->errno_(g->m)) ; return fail(g, "unable to prepare a statement", my->error(g->m)) ; }
  if (my->stmt_prepare(st, sql, strlen(sql))) goto err ;
  memset(b, 0, sizeof b) ;
  for (i = 0 ; i < np ; i++)
  {
    if (p[i].s)
    {
      b[i].buffer_type = MYSQL_TYPE_STRING ;
      b[i].buffer = (void *)p[i].s ;
      len[i] = strlen(p[i].s) ;
      b[i].buffer_length = len[i] ;
      b[i].length = &len[i] ;
    }
    else
    {
      b[i].buffer_type = MYSQL_TYPE_LONGLONG ;
      b[i].buffer = (void *)&p[i].u ;
      b[i].is_unsigned = 1 ;
    }
  }
  if (my->stmt_bind_param(st, b) || my->stmt_execute(st)) goto err ;
  if (!nres) { *rows = my->stmt_affected_rows(st) ; my->stmt_close(st) ; return 1 ; }
  memset(o, 0, sizeof o) ;
  for (i = 0 ; i < nres ; i++)
  {
    res[i] = 0 ;
    o[i].buffer_type = MYSQL_TYPE_LONGLONG ;
    o[i].buffer = &res[i] ;
    o[i].is_unsigned = 1 ;
  }
  if (my->stmt_bind_result(st, o) || my->stmt_store_result(st)) goto err ;
  *rows = my->stmt_num_rows(st) ;
  if (*rows)
  {
    int r = my->stmt_fetch(st) ;
    if (r == 1) goto err ;
  }
  my->stmt_free_result(st) ;
  my->stmt_close(st) ;
  return 1 ;
 err:
  *lost = mx_sql_gone(my->stmt_errno(st)) ;
  fail(g, "statement failed", my->stmt_error(st)) ;
  my->stmt_close(st) ;
  return -1 ;
}

/* try1, connected, once more on the next server when one went away */
static int run (greystore *g, char const *sql, param const *p, unsigned int np, unsigned long long *res, unsigned int nres, unsigned long long *rows)
{
  unsigned int tries ;
  for (tries = 0 ; tries < 3 ; tries++)
  {
    int lost = 0 ;
    if (!g->m)
    {
      mx_mariadb const *my = 0 ;
      g->m = mx_sql_connect_at(&my, g->cnf, g->group, g->timeout, g->err, &g->at) ;
      if (!g->m) return -1 ;
      g->my = (void *)my ;
    }
    if (try1(g, sql, p, np, res, nres, rows, &lost) > 0) return 1 ;
    if (!lost) return -1 ;
    greysql_close(g) ;
    g->at++ ;
  }
  return -1 ;
}

#define WHERE_KEY " WHERE net = ? AND sender = ? AND rcpt = ?"

enum grey_verdict greysql_check (greystore *g, greyconf const *c, uint64_t now, char const *net, char const *sender, char const *rcpt, greyrec *r)
{
  unsigned long long res[3], rows ;
  greynet n = { 0, 0 } ;
  greyrec was ;
  int wr, wn ;
  enum grey_verdict v ;
  {
    param p[1] = { { net, 0 } } ;
    if (run(g, "SELECT passes, last FROM " GREY_SQL_NETS " WHERE net = ?", p, 1, res, 2, &rows) < 0) return GREY_ERROR ;
    if (rows) { n.passes = res[0] ; n.last = res[1] ; }
  }
  if (c->autoallow && n.passes >= c->autoallow && !greystore_stale_net(c, now, &n)) return GREY_ALLOWED ;
  /* a read first, as the LMDB store does: a triplet that passed within
     the last GREY_REFRESH seconds is decided without a write, so a
     known sender's RCPT costs no commit (no log flush on every node) */
  {
    param p[3] = { { net, 0 }, { sender, 0 }, { rcpt, 0 } } ;
    if (run(g, "SELECT first, passed, count FROM " GREY_SQL_TABLE WHERE_KEY, p, 3, res, 3, &rows) < 0) return GREY_ERROR ;
    if (rows)
    {
      r->first = res[0] ; r->passed = res[1] ; r->count = res[2] ;
      if (r->passed && r->passed <= now && now - r->passed < GREY_REFRESH && !greystore_stale_rec(c, now, r)) return GREY_KNOWN ;
    }
  }
  {
    param p[4] = { { net, 0 }, { sender, 0 }, { rcpt, 0 }, { 0, now } } ;
    if (run(g, "INSERT INTO " GREY_SQL_TABLE " (net, sender, rcpt, first, passed, count) VALUES (?, ?, ?, ?, 0, 1)"
               " ON DUPLICATE KEY UPDATE count = count + 1", p, 4, 0, 0, &rows) < 0) return GREY_ERROR ;
    if (rows == 1) { r->first = now ; r->passed = 0 ; r->count = 1 ; return GREY_NEW ; }   /* inserted */
  }
  {
    param p[3] = { { net, 0 }, { sender, 0 }, { rcpt, 0 } } ;
    if (run(g, "SELECT first, passed, count FROM " GREY_SQL_TABLE WHERE_KEY, p, 3, res, 3, &rows) < 0) return GREY_ERROR ;
    if (!rows) { fail(g, "a triplet recorded is not found", 0) ; return GREY_ERROR ; }
  }
  /* the count was raised already: decide on the record as it was */
  r->first = res[0] ; r->passed = res[1] ; r->count = res[2] ? res[2] - 1 : 0 ;
  was = *r ;
  v = greystore_decide(c, now, r, 1, &n, &wr, &wn) ;
  if (v == GREY_NEW || v == GREY_RETRIED || v == GREY_KNOWN)
  {
    param p[7] = { { 0, r->first }, { 0, r->passed }, { net, 0 }, { sender, 0 }, { rcpt, 0 }, { 0, was.first }, { 0, was.passed } } ;
    if (run(g, v == GREY_NEW ? "UPDATE " GREY_SQL_TABLE " SET first = ?, passed = ?, count = 1" WHERE_KEY " AND first = ? AND passed = ?"
                              : "UPDATE " GREY_SQL_TABLE " SET first = ?, passed = ?" WHERE_KEY " AND first = ? AND passed = ?",
            p, 7, 0, 0, &rows) < 0) return GREY_ERROR ;
    /* another session moved it first: it counted the network */
    if (!rows && v == GREY_RETRIED) wn = 0 ;
  }
  if (wn)
  {
    param p[3] = { { net, 0 }, { 0, now }, { 0, c->lifetime } } ;
    if (run(g, "INSERT INTO " GREY_SQL_NETS " (net, passes, last) VALUES (?, 1, ?)"
               " ON DUPLICATE KEY UPDATE passes = IF(VALUES(last) - last > ?, 1, passes + 1), last = VALUES(last)", p, 3, 0, 0, &rows) < 0) return GREY_ERROR ;
  }
  return v ;
}

/* the rows of one table, fetched one by one: string columns into
   buffers of their greatest length, numbers as numbers */
static int each_table (greystore *g, int nets, greystore_each_fn *fn, void *data)
{
  static char const *const sql[2] =
  {
    "SELECT net, sender, rcpt, first, passed, count FROM " GREY_SQL_TABLE " ORDER BY net, sender, rcpt",
    "SELECT net, passes, last FROM " GREY_SQL_NETS " ORDER BY net"
  } ;
  mx_mariadb const *my ;
  MYSQL_STMT *st ;
  MYSQL_BIND o[6] ;
  char s[3][GREY_FIELD_MAX + 2] ;
  unsigned long len[3] ;
  unsigned long long u[3] ;
  unsigned int ns = nets ? 1 : 3, i ;
  int r, ret = 1 ;
  if (!g->m)
  {
    mx_mariadb const *m0 = 0 ;
    g->m = mx_sql_connect_at(&m0, g->cnf, g->group, g->timeout, g->err, &g->at) ;
    if (!g->m) return -1 ;
    g->my = (void *)m0 ;
  }
  my = g->my ;
  st = my->stmt_init(g->m) ;
  if (!st) return fail(g, "unable to prepare a statement", my->error(g->m)) ;
  if (my->stmt_prepare(st, sql[nets], strlen(sql[nets])) || my->stmt_execute(st)) goto err ;
  memset(o, 0, sizeof o) ;
  for (i = 0 ; i < ns ; i++)
  {
    o[i].buffer_type = MYSQL_TYPE_STRING ;
    o[i].buffer = s[i] ;
    o[i].buffer_length = sizeof s[i] - 1 ;
    o[i].length = &len[i] ;
  }
  for (i = 0 ; i < 3 && ns + i < (nets ? 3u : 6u) ; i++)
  {
    o[ns + i].buffer_type = MYSQL_TYPE_LONGLONG ;
    o[ns + i].buffer = &u[i] ;
    o[ns + i].is_unsigned = 1 ;
  }
  if (my->stmt_bind_result(st, o)) goto err ;
  while (!(r = my->stmt_fetch(st)) || r == MYSQL_DATA_TRUNCATED)
  {
    int ok = 1 ;
    for (i = 0 ; i < ns ; i++)
    {
      if (len[i] > GREY_FIELD_MAX) { ok = 0 ; break ; }   /* no record of ours: skipped */
      s[i][len[i]] = 0 ;
    }
    if (!ok || r == MYSQL_DATA_TRUNCATED) continue ;
    if (nets)
    {
      greynet n = { u[0], u[1] } ;
      if (!fn(s[0], 0, 0, 0, &n, data)) { ret = 0 ; break ; }
    }
    else
    {
      greyrec rr = { u[0], u[1], u[2] } ;
      if (!fn(s[0], s[1], s[2], &rr, 0, data)) { ret = 0 ; break ; }
    }
  }
  if (ret && r == 1) goto err ;
  my->stmt_close(st) ;
  return ret ;
 err:
  fail(g, "statement failed", my->stmt_error(st)) ;
  my->stmt_close(st) ;
  return -1 ;
}

int greysql_each (greystore *g, greystore_each_fn *fn, void *data)
{
  int r = each_table(g, 1, fn, data) ;
  return r <= 0 ? r : each_table(g, 0, fn, data) ;
}

int greysql_put (greystore *g, char const *net, char const *sender, char const *rcpt, greyrec const *r, greynet const *n)
{
  unsigned long long rows ;
  if (sender)
  {
    param p[6] = { { net, 0 }, { sender, 0 }, { rcpt, 0 }, { 0, r->first }, { 0, r->passed }, { 0, r->count } } ;
    return run(g, "REPLACE INTO " GREY_SQL_TABLE " (net, sender, rcpt, first, passed, count) VALUES (?, ?, ?, ?, ?, ?)", p, 6, 0, 0, &rows) ;
  }
  {
    param p[3] = { { net, 0 }, { 0, n->passes }, { 0, n->last } } ;
    return run(g, "REPLACE INTO " GREY_SQL_NETS " (net, passes, last) VALUES (?, ?, ?)", p, 3, 0, 0, &rows) ;
  }
}

int greysql_delete (greystore *g, char const *net, char const *sender, char const *rcpt)
{
  unsigned long long rows ;
  int r ;
  if (sender)
  {
    param p[3] = { { net, 0 }, { sender, 0 }, { rcpt, 0 } } ;
    r = run(g, "DELETE FROM " GREY_SQL_TABLE WHERE_KEY, p, 3, 0, 0, &rows) ;
  }
  else
  {
    param p[1] = { { net, 0 } } ;
    r = run(g, "DELETE FROM " GREY_SQL_NETS " WHERE net = ?", p, 1, 0, 0, &rows) ;
  }
  return r < 0 ? -1 : rows > 0 ;
}

long long greysql_expire (greystore *g, greyconf const *c, uint64_t now)
{
  unsigned long long a, b ;
  param p[4] = { { 0, now }, { 0, c->window }, { 0, now }, { 0, c->lifetime } } ;
  param q[2] = { { 0, now }, { 0, c->lifetime } } ;
  if (run(g, "DELETE FROM " GREY_SQL_TABLE " WHERE (passed = 0 AND ? > first + ?) OR (passed > 0 AND ? > passed + ?)", p, 4, 0, 0, &a) < 0) return -1 ;
  if (run(g, "DELETE FROM " GREY_SQL_NETS " WHERE ? > last + ?", q, 2, 0, 0, &b) < 0) return -1 ;
  return (long long)(a + b) ;
}
