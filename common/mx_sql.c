/* mx_sql: see mx_sql.h. */
#include "mx_sql.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

MYSQL *mx_sql_connect (mx_mariadb const **my, char const *cnf, char const *group, unsigned int timeout, char *why)
{
  char const *loadwhy ;
  MYSQL *m ;
  /* Connector/C skips an option file it cannot read, and then fails
     with a misleading default socket: say what is really wrong */
  if (cnf && access(cnf, R_OK) < 0)
  {
    snprintf(why, MX_SQL_ERRMAX, "unable to read option file %s: %s", cnf, strerror(errno)) ;
    return 0 ;
  }
  *my = mx_mariadb_load(&loadwhy) ;
  if (!*my)
  {
    snprintf(why, MX_SQL_ERRMAX, "%s", loadwhy) ;
    return 0 ;
  }
  m = (*my)->init(0) ;
  if (!m)
  {
    snprintf(why, MX_SQL_ERRMAX, "unable to initialise the MariaDB client: out of memory") ;
    return 0 ;
  }
  (*my)->optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) ;
  (*my)->optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout) ;
  (*my)->optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout) ;
  if (cnf) (*my)->optionsv(m, MYSQL_READ_DEFAULT_FILE, cnf) ;
  (*my)->optionsv(m, MYSQL_READ_DEFAULT_GROUP, group) ;
  if (!(*my)->real_connect(m, 0, 0, 0, 0, 0, 0, 0))
  {
    snprintf(why, MX_SQL_ERRMAX, "unable to connect (MariaDB group %s): %s", group, (*my)->error(m)) ;
    (*my)->close(m) ;
    return 0 ;
  }
  return m ;
}
