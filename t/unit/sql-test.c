/* sql-test: mx_sql_gone, the one list of the error codes after which a
   SQL store connects again (to the next server of the list) and runs
   its statement there: each code of mx_sql.h's list, and the codes
   near them or meaning something else, which are not. */
#include <stdio.h>

#include "mx_sql.h"
#include "tap.h"

static struct { unsigned int code ; int gone ; char const *what ; } const codes[] =
{
  { 2006, 1, "CR_SERVER_GONE_ERROR" },
  { 2013, 1, "CR_SERVER_LOST" },
  { 2055, 1, "CR_SERVER_LOST_EXTENDED" },
  { 1927, 1, "ER_CONNECTION_KILLED" },
  { 1047, 1, "ER_UNKNOWN_COM_ERROR (a Galera node outside the primary component)" },
  { 4031, 1, "ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8.0.24)" },
  { 0, 0, "no error" },
  { 1146, 0, "ER_NO_SUCH_TABLE: the store creates it" },
  { 1205, 0, "ER_LOCK_WAIT_TIMEOUT: run again on the same server" },
  { 1213, 0, "ER_LOCK_DEADLOCK: run again on the same server" },
  { 1045, 0, "ER_ACCESS_DENIED_ERROR: no other server would say otherwise" },
  { 2003, 0, "CR_CONN_HOST_ERROR: mx_sql_connect_at's own failover" },
  { 2005, 0, "CR_UNKNOWN_HOST" },
  { 2007, 0, "CR_VERSION_ERROR" },
  { 2012, 0, "CR_SERVER_HANDSHAKE_ERR" },
  { 2014, 0, "CR_COMMANDS_OUT_OF_SYNC: our fault, not the server's" },
  { 2054, 0, "CR_NOT_IMPLEMENTED" },
  { 2056, 0, "CR_STMT_CLOSED" },
  { 1064, 0, "ER_PARSE_ERROR: a bad query" },
} ;

int main (void)
{
  char name[160] ;
  size_t i ;
  for (i = 0 ; i < sizeof codes / sizeof *codes ; i++)
  {
    snprintf(name, sizeof name, "%u %s: %s", codes[i].code, codes[i].what, codes[i].gone ? "gone" : "not gone") ;
    tap_ok(mx_sql_gone(codes[i].code) == codes[i].gone, name) ;
  }
  return tap_done() ;
}
