/* store-sql: the relay store as a MariaDB/MySQL table, for sites where
 * several POP and SMTP hosts share one relay list.
 *
 * Connection parameters (host or socket, user, password, database) come
 * from an option-file group read by Connector/C: the group named with -g,
 * from the file named with -f or Connector/C's default files. Every
 * statement is prepared; the table is created the first time a statement
 * finds it missing. Connect, read and write each time out (conf.timeout,
 * mx_sql.h).
 * Connector/C is loaded only when this store is opened (mx_mariadb.h).
 */
#include "store.h"
#include "store-impl.h"

#include <string.h>
#include "mx_ip.h"
#include "mx_mariadb.h"
#include "mx_sql.h"

#define TABLE "relaydb"
#define ER_NO_SUCH_TABLE_CODE 1146
/* InnoDB gave up this statement or transaction for another's sake (a
   relaydb-rec insert against an expire's range delete): run it again */
#define ER_LOCK_WAIT_TIMEOUT_CODE 1205
#define ER_LOCK_DEADLOCK_CODE 1213
#define RETRIES 3
#define EXPIRE_BATCH 10000
#define EXPIRE_BATCH_TEXT "10000"
#define is_retryable(e) ((e) == ER_LOCK_DEADLOCK_CODE || (e) == ER_LOCK_WAIT_TIMEOUT_CODE)
/* The server went away under the statement (killed, restarted), or is a
   Galera node outside the primary component ("WSREP has not yet
   prepared node for application use"): connect again, to the first
   group of the list that answers, and run it there. Every statement of
   the store is safe to run twice (an upsert, a delete, a read). The
   codes that say so: mx_sql_gone (common/mx_sql.h). */

static mx_mariadb const *my ;  /* Connector/C, loaded by ssql_open */

static char const create_sql[] =
  "CREATE TABLE IF NOT EXISTS " TABLE " ("
  " ip VARCHAR(39) CHARACTER SET ascii NOT NULL PRIMARY KEY,"
  " ts BIGINT UNSIGNED NOT NULL,"
  " KEY ts (ts)"
  ") ENGINE=InnoDB" ;

/* reads no row: tells whether the table is there */
static char const probe_sql[] = "SELECT ts FROM " TABLE " LIMIT 0" ;

static int fail_db (store *s, char const *what)
{
  return store_fail(s, "unable to ", what, " (MariaDB group ", s->conf.group, "): ", my->error((MYSQL *)s->sql)) ;
}

static int fail_stmt (store *s, MYSQL_STMT *st, char const *what)
{
  return store_fail(s, "unable to ", what, " (MariaDB group ", s->conf.group, "): ", my->stmt_error(st)) ;
}

int ssql_open (store *s)
{
  char why[MX_SQL_ERRMAX] ;
  s->sql = mx_sql_connect_at(&my, s->conf.cnf, s->conf.group, s->conf.timeout ? s->conf.timeout : 5, why, &s->sql_at) ;
  return s->sql ? 1 : store_fail(s, why) ;
}

void ssql_close (store *s)
{
  if (s->sql) my->close((MYSQL *)s->sql) ;
  s->sql = 0 ;
}

/* One statement: binds ip (if any) then ts (if any) as parameters and,
   if out is given, fetches one BIGINT column of the first row.
   Returns rows found (out) or affected (otherwise), or -1 on error with
   the server's error number in *err. */
static long long run_once (store *s, char const *sql, char const *ip, uint64_t const *ts, uint64_t *out, unsigned int *err)
{
  MYSQL_BIND par[2], res[1] ;
  unsigned long iplen = ip ? strlen(ip) : 0 ;
  uint64_t tsval = ts ? *ts : 0 ;
  unsigned int n = 0 ;
  long long r ;
  MYSQL_STMT *st = my->stmt_init((MYSQL *)s->sql) ;
  if (!st) return fail_db(s, "prepare a statement"), -1 ;
  if (my->stmt_prepare(st, sql, strlen(sql)))
  {
    *err = my->stmt_errno(st) ;
    fail_stmt(s, st, "prepare a statement") ;
    my->stmt_close(st) ;
    return -1 ;
  }
  memset(par, 0, sizeof par) ;
  if (ip)
  {
    par[n].buffer_type = MYSQL_TYPE_STRING ;
    par[n].buffer = (void *)ip ;
    par[n].buffer_length = iplen ;
    par[n].length = &iplen ;
    n++ ;
  }
  if (ts)
  {
    par[n].buffer_type = MYSQL_TYPE_LONGLONG ;
    par[n].buffer = &tsval ;
    par[n].is_unsigned = 1 ;
    n++ ;
  }
  if ((n && my->stmt_bind_param(st, par)) || my->stmt_execute(st))
  {
    *err = my->stmt_errno(st) ;
    fail_stmt(s, st, "run a statement") ;
    my->stmt_close(st) ;
    return -1 ;
  }
  if (!out) r = (long long)my->stmt_affected_rows(st) ;
  else
  {
    int f ;
    memset(res, 0, sizeof res) ;
    res[0].buffer_type = MYSQL_TYPE_LONGLONG ;
    res[0].buffer = out ;
    res[0].is_unsigned = 1 ;
    if (my->stmt_bind_result(st, res))
    {
      fail_stmt(s, st, "read a result") ;
      my->stmt_close(st) ;
      return -1 ;
    }
    f = my->stmt_fetch(st) ;
    if (f == 1)
    {
      fail_stmt(s, st, "read a result") ;
      my->stmt_close(st) ;
      return -1 ;
    }
    r = f == MYSQL_NO_DATA ? 0 : 1 ;
  }
  my->stmt_close(st) ;
  return r ;
}

/* A missing table is created once, and a statement InnoDB gave up for
   a concurrent one is run again, each time followed by the statement. */
static long long run (store *s, char const *sql, char const *ip, uint64_t const *ts, uint64_t *out)
{
  int created = 0, tries = 0, reconnects = 0 ;
  for (;;)
  {
    unsigned int err = 0 ;
    long long r = run_once(s, sql, ip, ts, out, &err) ;
    if (r >= 0) return r ;
    if (err == ER_NO_SUCH_TABLE_CODE && !created++)
    {
      if (my->query((MYSQL *)s->sql, create_sql)) return fail_db(s, "create table " TABLE), -1 ;
    }
    else if (mx_sql_gone(err) && reconnects++ < RETRIES)
    {
      /* on from the next group of the list: this one is gone */
      ssql_close(s) ;
      s->sql_at++ ;
      if (!ssql_open(s)) return -1 ;
    }
    else if (!is_retryable(err) || ++tries > RETRIES) return -1 ;
  }
}

int ssql_put (store *s, char const *ip, uint64_t ts)
{
  return run(s, "INSERT INTO " TABLE " (ip, ts) VALUES (?, ?)"
                " ON DUPLICATE KEY UPDATE ts = VALUES(ts)", ip, &ts, 0) >= 0 ;
}

int ssql_get (store *s, char const *ip, uint64_t *ts)
{
  long long r = run(s, "SELECT ts FROM " TABLE " WHERE ip = ?", ip, 0, ts) ;
  return r < 0 ? -1 : r > 0 ;
}

int ssql_delete (store *s, char const *ip)
{
  long long r = run(s, "DELETE FROM " TABLE " WHERE ip = ?", ip, 0, 0) ;
  return r < 0 ? -1 : r > 0 ;
}

/* the condition in the statement makes a concurrent renewal win */
int ssql_delete_older (store *s, char const *ip, uint64_t cutoff)
{
  long long r = run(s, "DELETE FROM " TABLE " WHERE ip = ? AND ts < ?", ip, &cutoff, 0) ;
  return r < 0 ? -1 : r > 0 ;
}

/* In batches: one huge DELETE would hold its locks (and keep every
   relaydb-rec insert waiting) for as long as it runs. */
long long ssql_expire (store *s, uint64_t cutoff)
{
  long long total = 0 ;
  for (;;)
  {
    long long r = run(s, "DELETE FROM " TABLE " WHERE ts < ? LIMIT " EXPIRE_BATCH_TEXT, 0, &cutoff, 0) ;
    if (r < 0) return -1 ;
    total += r ;
    if (r < EXPIRE_BATCH) return total ;
  }
}

int ssql_each (store *s, store_each_fn *fn, void *data)
{
  static char const sql[] = "SELECT ip, ts FROM " TABLE ;
  char ipbuf[64] ;
  unsigned long iplen = 0 ;
  uint64_t ts = 0 ;
  MYSQL_BIND res[2] ;
  unsigned int err = 0 ;
  int f, r = 1 ;
  MYSQL_STMT *st ;

  /* a missing table is an empty store */
  if (run_once(s, probe_sql, 0, 0, &ts, &err) < 0) return err == ER_NO_SUCH_TABLE_CODE ? 1 : -1 ;
  st = my->stmt_init((MYSQL *)s->sql) ;
  if (!st) return fail_db(s, "prepare a statement"), -1 ;
  memset(res, 0, sizeof res) ;
  res[0].buffer_type = MYSQL_TYPE_STRING ;
  res[0].buffer = ipbuf ;
  res[0].buffer_length = sizeof ipbuf - 1 ;
  res[0].length = &iplen ;
  res[1].buffer_type = MYSQL_TYPE_LONGLONG ;
  res[1].buffer = &ts ;
  res[1].is_unsigned = 1 ;
  if (my->stmt_prepare(st, sql, sizeof sql - 1) || my->stmt_execute(st)
   || my->stmt_bind_result(st, res))
  {
    fail_stmt(s, st, "list the table") ;
    my->stmt_close(st) ;
    return -1 ;
  }
  /* rows stream from the server one by one: memory stays flat */
  while (!(f = my->stmt_fetch(st)))
  {
    ip46 ip ;
    if (iplen >= sizeof ipbuf) continue ;
    ipbuf[iplen] = 0 ;
    if (!mx_ip_scan(ipbuf, iplen, &ip)) continue ;  /* a row written by hand */
    if (!fn(ipbuf, ts, data)) { r = 0 ; break ; }
  }
  if (r && f != MYSQL_NO_DATA)
  {
    fail_stmt(s, st, "list the table") ;
    r = -1 ;
  }
  my->stmt_close(st) ;
  return r ;
}

/* One prepared INSERT executed n times inside one transaction. Returns 1,
   or 0 with the server's error number in *err (the transaction is then
   rolled back). */
static int load_once (store *s, char const *const *ips, uint64_t const *ts, size_t n, unsigned int *err)
{
  static char const sql[] = "INSERT INTO " TABLE " (ip, ts) VALUES (?, ?)"
                            " ON DUPLICATE KEY UPDATE ts = VALUES(ts)" ;
  MYSQL *m = (MYSQL *)s->sql ;
  MYSQL_BIND par[2] ;
  unsigned long iplen = 0 ;
  uint64_t tsval = 0 ;
  MYSQL_STMT *st ;
  size_t i ;
  if (my->query(m, "START TRANSACTION"))
  {
    *err = my->errno_(m) ;
    return fail_db(s, "start a transaction") ;
  }
  st = my->stmt_init(m) ;
  if (!st)
  {
    *err = my->errno_(m) ;
    fail_db(s, "load entries") ;
    my->query(m, "ROLLBACK") ;
    return 0 ;
  }
  memset(par, 0, sizeof par) ;
  par[0].buffer_type = MYSQL_TYPE_STRING ;
  par[0].length = &iplen ;
  par[1].buffer_type = MYSQL_TYPE_LONGLONG ;
  par[1].buffer = &tsval ;
  par[1].is_unsigned = 1 ;
  if (my->stmt_prepare(st, sql, sizeof sql - 1)) goto stmterr ;
  for (i = 0 ; i < n ; i++)
  {
    par[0].buffer = (void *)ips[i] ;
    par[0].buffer_length = iplen = strlen(ips[i]) ;
    tsval = ts[i] ;
    if (my->stmt_bind_param(st, par) || my->stmt_execute(st)) goto stmterr ;
  }
  my->stmt_close(st) ;
  if (my->query(m, "COMMIT"))
  {
    *err = my->errno_(m) ;
    return fail_db(s, "commit") ;
  }
  return 1 ;

 stmterr:
  *err = my->stmt_errno(st) ;
  fail_stmt(s, st, "load entries") ;
  my->stmt_close(st) ;
  my->query(m, "ROLLBACK") ;
  return 0 ;
}

int ssql_load (store *s, char const *const *ips, uint64_t const *ts, size_t n)
{
  int tries = 0 ;
  uint64_t none ;
  /* make sure the table exists before the transaction starts */
  if (run(s, probe_sql, 0, 0, &none) < 0) return 0 ;
  for (;;)
  {
    unsigned int err = 0 ;
    if (load_once(s, ips, ts, n, &err)) return 1 ;
    if (!is_retryable(err) || ++tries > RETRIES) return 0 ;
  }
}
