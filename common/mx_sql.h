/* mx_sql: a MariaDB/MySQL connection, opened the one way every mxguard
 * program opens it.
 *
 * Host or socket, user, password and database come from an option-file
 * group (the password never appears on a command line): the group named
 * group, in the file cnf or, with cnf 0, in Connector/C's default files.
 * Connecting, reading and writing each time out after timeout seconds.
 *
 * Failover: group may name several groups, "node1,node2,node3" (one
 * server each, e.g. the nodes of a Galera cluster): they are tried in
 * order, each within the timeout, and the first that takes the
 * connection is used. Nothing is remembered between processes: each
 * connection starts again with the first.
 */
#ifndef MX_SQL_H
#define MX_SQL_H

#include "mx_mariadb.h"

#define MX_SQL_ERRMAX 256

/* Loads Connector/C (mx_mariadb_load) into *my and connects. Returns
   the connection, or 0 with why (MX_SQL_ERRMAX bytes) saying what
   went wrong, in words an administrator can act on. */
extern MYSQL *mx_sql_connect (mx_mariadb const **my, char const *cnf, char const *group, unsigned int timeout, char *why) ;

/* The same, trying the groups from the *at-th on (0: the first), and
   setting *at to the one connected to: a program whose server went away
   under a statement goes on from the next one (past the last, from the
   first again). */
extern MYSQL *mx_sql_connect_at (mx_mariadb const **my, char const *cnf, char const *group, unsigned int timeout, char *why, unsigned int *at) ;

#endif
