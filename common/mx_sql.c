/* mx_sql: see mx_sql.h. */
#include "mx_sql.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

MYSQL *mx_sql_connect (mx_mariadb const **my, char const *cnf, char const *group, unsigned int timeout, char *why)
{
  unsigned int at = 0 ;
  return mx_sql_connect_at(my, cnf, group, timeout, why, &at) ;
}

MYSQL *mx_sql_connect_at (mx_mariadb const **my, char const *cnf, char const *group, unsigned int timeout, char *why, unsigned int *at)
{
  unsigned int index = 0, count = 1 ;
  char const *c ;
  /* past the last group: from the first again (one server that went
     away and came back is connected to again) */
  for (c = group ; *c ; c++) if (*c == ',') count++ ;
  if (*at >= count) *at = 0 ;
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
  /* group is one option-file group, or several separated by commas:
     tried in order, each with the connect timeout, the first that takes
     the connection used; nothing is remembered for the next process */
  {
    char errs[MX_SQL_ERRMAX] = "" ;
    size_t el = 0 ;
    char const *g = group ;
    m = 0 ;
    while (*g)
    {
      char one[256] ;
      size_t n = strcspn(g, ",") ;
      MYSQL *try ;
      if (index++ < *at) { g += n ; if (*g) g++ ; continue ; }
      if (n && n < sizeof one)
      {
        memcpy(one, g, n) ;
        one[n] = 0 ;
        try = (*my)->init(0) ;
        if (!try)
        {
          snprintf(why, MX_SQL_ERRMAX, "unable to initialise the MariaDB client: out of memory") ;
          return 0 ;
        }
        (*my)->optionsv(try, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) ;
        (*my)->optionsv(try, MYSQL_OPT_READ_TIMEOUT, &timeout) ;
        (*my)->optionsv(try, MYSQL_OPT_WRITE_TIMEOUT, &timeout) ;
        if (cnf) (*my)->optionsv(try, MYSQL_READ_DEFAULT_FILE, cnf) ;
        (*my)->optionsv(try, MYSQL_READ_DEFAULT_GROUP, one) ;
        if ((*my)->real_connect(try, 0, 0, 0, 0, 0, 0, 0)) { m = try ; *at = index - 1 ; break ; }
        if (el < sizeof errs - 1)
        {
          /* one group: its error alone, as before; several: each named */
          if (strchr(group, ',')) el += (size_t)snprintf(errs + el, sizeof errs - el, "%s%s: %s", el ? "; " : "", one, (*my)->error(try)) ;
          else el += (size_t)snprintf(errs + el, sizeof errs - el, "%s", (*my)->error(try)) ;
        }
        if (el > sizeof errs - 1) el = sizeof errs - 1 ;
        (*my)->close(try) ;
      }
      g += n ;
      if (*g) g++ ;
    }
    if (!m)
    {
      snprintf(why, MX_SQL_ERRMAX, "unable to connect (MariaDB group %s): %s", group, errs[0] ? errs : "no group named") ;
      return 0 ;
    }
  }
  return m ;
}

int mx_sql_gone (unsigned int err)
{
  switch (err)
  {
    case 2006 : case 2013 : case 2055 :   /* Connector/C: the connection */
    case 1927 : case 1047 : case 4031 :   /* the server: see mx_sql.h */
      return 1 ;
    default :
      return 0 ;
  }
}
