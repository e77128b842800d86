/* mx_mariadb: see mx_mariadb.h for why Connector/C is loaded late. */
#include "mx_mariadb.h"

#include <stddef.h>

#ifdef MX_MARIADB_STATIC

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/exec.h>

#define TWIN_SUFFIX "-sql"

mx_mariadb const *mx_mariadb_load (char const **why)
{
  /* reached only if a caller forgot the handover */
  *why = "this build of the program is static and cannot load MariaDB Connector/C: use its -sql build" ;
  return 0 ;
}

int mx_mariadb_handover (char const *const *argv, char const **why)
{
  char path[PATH_MAX + sizeof TWIN_SUFFIX] ;
  char const *name = argv[0] ;
  ssize_t n = readlink("/proc/self/exe", path, PATH_MAX) ;
  if (n > 0 && n < PATH_MAX)
    memcpy(path + n, TWIN_SUFFIX, sizeof TWIN_SUFFIX) ;
  else
  {
    /* no /proc: NAME-sql by PATH, NAME taken from argv[0] */
    char const *slash = strrchr(name, '/') ;
    size_t len ;
    if (slash) name = slash + 1 ;
    len = strlen(name) ;
    if (len >= PATH_MAX) { *why = "program name too long" ; return 0 ; }
    memcpy(path, name, len) ;
    memcpy(path + len, TWIN_SUFFIX, sizeof TWIN_SUFFIX) ;
  }
  {
    /* the same arguments; argv[0] names the build that runs */
    size_t argc = 0 ;
    while (argv[argc]) argc++ ;
    {
      char const *v[argc + 1] ;
      v[0] = path ;
      memcpy(v + 1, argv + 1, argc * sizeof *argv) ;
      exec(v) ;
    }
  }
  *why = errno == ENOENT ? "the -sql build of the program is missing (make builds it; install it beside the program)" : "unable to exec the -sql build of the program" ;
  return 0 ;
}

#else

#include <dlfcn.h>

int mx_mariadb_handover (char const *const *argv, char const **why)
{
  (void)argv ;
  (void)why ;
  return 1 ;
}

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

#endif
