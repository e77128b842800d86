/* mx_mariadb: see mx_mariadb.h for why Connector/C is loaded late. */
#include "mx_mariadb.h"

#include <dlfcn.h>
#include <stddef.h>

#ifndef MX_MARIADB_SONAME
#define MX_MARIADB_SONAME "libmariadb.so.3"
#endif

static mx_mariadb api ;
static int loaded = 0 ;

/* names in the order of struct mx_mariadb_s */
static char const *const names[] =
{
  "mysql_init", "mysql_optionsv", "mysql_real_connect", "mysql_close",
  "mysql_error", "mysql_errno", "mysql_query", "mysql_ping",
  "mysql_stmt_init", "mysql_stmt_prepare", "mysql_stmt_bind_param",
  "mysql_stmt_execute", "mysql_stmt_affected_rows",
  "mysql_stmt_bind_result", "mysql_stmt_store_result", "mysql_stmt_fetch",
  "mysql_stmt_errno", "mysql_stmt_error", "mysql_stmt_close",
  "mysql_stmt_param_count", "mysql_stmt_num_rows", "mysql_stmt_free_result",
  "mysql_stmt_field_count",
} ;

typedef void (*anyfn) (void) ;

mx_mariadb const *mx_mariadb_load (char const **why)
{
  anyfn *slot = (anyfn *)&api ;
  void *lib ;
  size_t i ;
  if (loaded) return &api ;
  /* every member is a function pointer, one per name */
  if (sizeof api != sizeof names / sizeof *names * sizeof(anyfn))
  {
    *why = "mx_mariadb: table mismatch" ;
    return 0 ;
  }
  lib = dlopen(MX_MARIADB_SONAME, RTLD_NOW | RTLD_LOCAL) ;
  if (!lib)
  {
    *why = "unable to load " MX_MARIADB_SONAME " (MariaDB Connector/C, Debian package libmariadb3)" ;
    return 0 ;
  }
  for (i = 0 ; i < sizeof names / sizeof *names ; i++)
  {
    void *p = dlsym(lib, names[i]) ;
    if (!p)
    {
      *why = "MariaDB Connector/C lacks an entry point mxguard needs" ;
      dlclose(lib) ;
      return 0 ;
    }
    /* POSIX guarantees a dlsym'd function pointer converts back */
    *(void **)&slot[i] = p ;
  }
  loaded = 1 ;
  return &api ;
}
