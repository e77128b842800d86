/* source: see source.h. */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "rcptaddr.h"

static int fail (source *s, char const *what, char const *detail)
{
  snprintf(s->err, sizeof s->err, "%s%s%s", what, detail ? ": " : "", detail ? detail : "") ;
  return -1 ;
}

int source_open (source *s)
{
  cdb_data d ;
  if (s->group) return 1 ;     /* connected on first need */
  if (!cdb_init(&s->c, s->cdbpath))
  {
    snprintf(s->err, sizeof s->err, "unable to open %s: %s", s->cdbpath, strerror(errno)) ;
    return 0 ;
  }
  s->keep_case = cdb_find(&s->c, &d, "o:case", 6) == 1 && d.len == 4 && !memcmp(d.s, "keep", 4) ;
  return 1 ;
}

static void sql_drop (source *s)
{
  if (s->domain_st) s->my->stmt_close(s->domain_st) ;
  if (s->address_st) s->my->stmt_close(s->address_st) ;
  if (s->m) s->my->close(s->m) ;
  s->domain_st = s->address_st = 0 ;
  s->m = 0 ;
}

void source_close (source *s)
{
  if (s->group) sql_drop(s) ;
  else cdb_free(&s->c) ;
}

static int cdb_has (source *s, char kind, char const *key)
{
  char k[1 + RCPTADDR_MAX + 32] ;
  cdb_data d ;
  size_t n = strlen(key) ;
  int r ;
  if (n >= sizeof k - 1) return 0 ;   /* longer than anything stored */
  k[0] = kind ;
  memcpy(k + 1, key, n) ;
  r = cdb_find(&s->c, &d, k, (uint32_t)n + 1) ;
  if (r < 0) return fail(s, "corrupt database", s->cdbpath) ;
  return r ;
}

/* One try of a prepared lookup. *lost is set when the connection is
   gone (worth one reconnect). */
static int sql_try (source *s, MYSQL_STMT **st, char const *sql, unsigned int maxparams, char const *key, int *lost)
{
  MYSQL_BIND par[2] ;
  char const *at = strrchr(key, '@') ;
  unsigned long len[2] ;
  unsigned int n ;
  unsigned long long rows ;
  if (!*st)
  {
    *st = s->my->stmt_init(s->m) ;
    if (!*st)
    {
      *lost = mx_sql_gone(s->my->errno_(s->m)) ;
      return fail(s, "unable to prepare a query", s->my->error(s->m)) ;
    }
    if (s->my->stmt_prepare(*st, sql, strlen(sql)))
    {
      *lost = mx_sql_gone(s->my->stmt_errno(*st)) ;
      fail(s, "unable to prepare a query", s->my->stmt_error(*st)) ;
      s->my->stmt_close(*st) ;
      *st = 0 ;
      return -1 ;
    }
    n = s->my->stmt_param_count(*st) ;
    if (!n || n > maxparams || !s->my->stmt_field_count(*st))
    {
      /* a statement that returns no rows (DO, UPDATE, CALL) would make
         every recipient unknown, or every domain foreign */
      char const *why = !s->my->stmt_field_count(*st) ? "the query must be a SELECT (it returns no rows)"
        : maxparams == 1 ? "the domain query must have one ?" : "the address query must have one or two ?" ;
      s->my->stmt_close(*st) ;
      *st = 0 ;
      return fail(s, why, 0) ;
    }
    if (st == &s->address_st) s->address_params = n ;
  }
  n = st == &s->address_st ? s->address_params : 1 ;
  memset(par, 0, sizeof par) ;
  len[1] = 0 ;   /* read below even when the query has one ? */
  if (n == 1)
  {
    par[0].buffer = (void *)key ;
    len[0] = strlen(key) ;
  }
  else
  {
    /* local part and domain of a key, which always has an @ */
    par[0].buffer = (void *)key ;
    len[0] = at ? (unsigned long)(at - key) : 0 ;
    par[1].buffer = (void *)(at ? at + 1 : key) ;
    len[1] = strlen((char const *)par[1].buffer) ;
  }
  par[0].buffer_type = par[1].buffer_type = MYSQL_TYPE_STRING ;
  par[0].buffer_length = len[0] ; par[0].length = &len[0] ;
  par[1].buffer_length = len[1] ; par[1].length = &len[1] ;
  if (s->my->stmt_bind_param(*st, par) || s->my->stmt_execute(*st) || s->my->stmt_store_result(*st))
  {
    *lost = mx_sql_gone(s->my->stmt_errno(*st)) ;
    return fail(s, "query failed", s->my->stmt_error(*st)) ;
  }
  rows = s->my->stmt_num_rows(*st) ;
  s->my->stmt_free_result(*st) ;
  return rows > 0 ;
}

static int sql_has (source *s, int domain, char const *key)
{
  int tries ;
  for (tries = 0 ; tries < 3 ; tries++)
  {
    int lost = 0, r ;
    if (!s->m)
    {
      s->m = mx_sql_connect_at(&s->my, s->cnf, s->group, s->timeout, s->err, &s->at) ;
      if (!s->m) return -1 ;
    }
    r = domain ? sql_try(s, &s->domain_st, s->domain_sql, 1, key, &lost)
               : sql_try(s, &s->address_st, s->address_sql, 2, key, &lost) ;
    if (r >= 0) return r ;
    if (!lost) return -1 ;
    sql_drop(s) ;   /* and reconnect, once, from the next group of -g */
    s->at++ ;
  }
  return -1 ;
}

/* a SQL table may spell a domain in U-labels: when the key's domain
   (after its last '@', or all of it) has an A-label, the key again with
   the domain's U-labels (IDNA2008, libidn2) is asked next; 0 if there
   is nothing else to ask */
static int sql_has_idn (source *s, int domain, char const *key)
{
  char const *at = strrchr(key, '@'), *d = at ? at + 1 : key ;
  char *u = 0, again[2 * RCPTADDR_MAX + 2] ;
  size_t ll = (size_t)(d - key), ul ;
  int r = sql_has(s, domain, key) ;
  if (r || (strncmp(d, "xn--", 4) && !strstr(d, ".xn--"))) return r ;
  if (idn2_to_unicode_8z8z(d, &u, 0) != IDN2_OK) return 0 ;
  ul = strlen(u) ;
  if (ll + ul >= sizeof again) { free(u) ; return 0 ; }
  memcpy(again, key, ll) ;
  memcpy(again + ll, u, ul + 1) ;
  free(u) ;
  return sql_has(s, domain, again) ;
}

int source_domain (source *s, char const *domain)
{
  return s->group ? sql_has_idn(s, 1, domain) : cdb_has(s, 'd', domain) ;
}

int source_address (source *s, char const *key)
{
  return s->group ? sql_has_idn(s, 0, key) : cdb_has(s, 'a', key) ;
}
