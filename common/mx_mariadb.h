/* mx_mariadb: MariaDB Connector/C, loaded on first use.
 *
 * The programs that can use a SQL store do not link libmariadb: loading
 * it and the TLS libraries it needs costs about 2 ms at every exec, four
 * times a static program's whole start, and a chain link configured for
 * a file store would pay it on every connection. mx_mariadb_load()
 * dlopen()s the library the first time SQL is asked for and hands out
 * the entry points mxguard uses, with Connector/C's own prototypes.
 */
#ifndef MX_MARIADB_H
#define MX_MARIADB_H

#include <mysql.h>

typedef struct mx_mariadb_s mx_mariadb ;
struct mx_mariadb_s
{
  __typeof__(mysql_init) *init ;
  __typeof__(mysql_optionsv) *optionsv ;
  __typeof__(mysql_real_connect) *real_connect ;
  __typeof__(mysql_close) *close ;
  __typeof__(mysql_error) *error ;
  __typeof__(mysql_errno) *errno_ ;
  __typeof__(mysql_query) *query ;
  __typeof__(mysql_ping) *ping ;
  __typeof__(mysql_stmt_init) *stmt_init ;
  __typeof__(mysql_stmt_prepare) *stmt_prepare ;
  __typeof__(mysql_stmt_bind_param) *stmt_bind_param ;
  __typeof__(mysql_stmt_execute) *stmt_execute ;
  __typeof__(mysql_stmt_affected_rows) *stmt_affected_rows ;
  __typeof__(mysql_stmt_bind_result) *stmt_bind_result ;
  __typeof__(mysql_stmt_store_result) *stmt_store_result ;
  __typeof__(mysql_stmt_fetch) *stmt_fetch ;
  __typeof__(mysql_stmt_errno) *stmt_errno ;
  __typeof__(mysql_stmt_error) *stmt_error ;
  __typeof__(mysql_stmt_close) *stmt_close ;
  __typeof__(mysql_stmt_param_count) *stmt_param_count ;
  __typeof__(mysql_stmt_num_rows) *stmt_num_rows ;
  __typeof__(mysql_stmt_free_result) *stmt_free_result ;
  __typeof__(mysql_stmt_field_count) *stmt_field_count ;
} ;

/* The loaded library, or 0 with *why saying what failed (static text). */
extern mx_mariadb const *mx_mariadb_load (char const **why) ;

/* A statically linked program cannot dlopen() Connector/C (the library
 * would bring a second libc into the process). The links of the SMTP
 * chain that can use SQL (relaydb-check, rcptchecks) are exec'd once per
 * connection, so they are built twice from the same objects: NAME,
 * static (mx_mariadb-static.o, MX_MARIADB_STATIC defined), for the file
 * stores, and NAME-sql, dynamic (mx_mariadb.o), which loads Connector/C
 * as above. Told to use SQL, NAME calls mx_mariadb_handover() with its
 * argv as it got it, before it has said or changed anything: in NAME-sql
 * that returns 1 at once (SQL can be loaded here); in NAME it execs
 * NAME-sql from the same directory (/proc/self/exe), or NAME-sql by PATH
 * when the directory is unknown, with the same arguments and environment,
 * and returns 0 with *why set only if that fails. */
extern int mx_mariadb_handover (char const *const *argv, char const **why) ;

#endif
