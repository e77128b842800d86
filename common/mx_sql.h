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

/* 1 if err (mysql_errno or mysql_stmt_errno) says the server is gone
   from under the statement, or cannot serve it where another server of
   the list may: connect again (mx_sql_connect_at, from the next group)
   and run the statement there. The one list of such codes, for every
   SQL store (relaydb's, rcptchecks' recipients), so that failover is
   the same everywhere:
     2006  CR_SERVER_GONE_ERROR (Connector/C errmsg.h): "server has gone
           away", gone between statements
     2013  CR_SERVER_LOST (errmsg.h): "lost connection ... during query"
     2055  CR_SERVER_LOST_EXTENDED (errmsg.h): the same with the system
           error, as MySQL's client library reports it
     1927  ER_CONNECTION_KILLED (MariaDB mysqld_error.h): "Connection was
           killed" (KILL, a server shutting down)
     1047  ER_UNKNOWN_COM_ERROR (mysqld_error.h): what a Galera node
           outside the primary component answers ("WSREP has not yet
           prepared node for application use"); another node may answer
     4031  ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8.0.24 and later): the
           server closed an idle connection (wait_timeout) and said so;
           MariaDB gives the number to ER_REFERENCED_TRG_DOES_NOT_EXIST,
           which no statement of ours raises, and a retry of it is only
           one more failure
   Every statement the stores run is safe to run twice (a read, an
   upsert, a delete). */
extern int mx_sql_gone (unsigned int err) ;

#endif
