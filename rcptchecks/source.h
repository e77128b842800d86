/* source: where rcptchecks learns which domains are local and which of
 * their addresses exist.
 *
 * CDB (the default): a file made by rcptchecks-make, opened at start
 * and mapped; records "d" DOMAIN, "a" KEY, "o:case".
 *
 * SQL: MariaDB/MySQL through Connector/C, connected on the first lookup
 * and kept for the session, credentials from an option-file group
 * (mx_sql.h). Two queries, prepared once per connection: the domain
 * query says whether a domain is local, the address query whether a
 * key exists; each returns a row or none. A query with one "?" gets the
 * domain (or key); an address query with two gets the key's local part
 * and domain (for tables keeping them apart; a catch-all key has an
 * empty local part). A lost connection is reopened once per lookup.
 * Domains are asked in their A-label spelling (lower case); when that
 * finds no row and the domain has an A-label ("xn--"), the same key
 * with the domain's U-labels is asked too, so that a table may hold
 * either spelling. The CDB holds A-labels only (rcptchecks-make).
 */
#ifndef RCPTCHECKS_SOURCE_H
#define RCPTCHECKS_SOURCE_H

#include <stddef.h>
#include <skalibs/cdb.h>
#include "mx_sql.h"

#define SOURCE_DOMAIN_SQL "SELECT 1 FROM rcptchecks_domains WHERE domain = ?"
#define SOURCE_ADDRESS_SQL "SELECT 1 FROM rcptchecks_addresses WHERE address = ?"

typedef struct source_s source ;
struct source_s
{
  /* set by the caller: cdb path, or group (and cnf) for SQL */
  char const *cdbpath ;
  char const *group ;
  char const *cnf ;
  char const *domain_sql ;
  char const *address_sql ;
  unsigned int timeout ;       /* seconds, SQL connect/read/write */
  int keep_case ;              /* compare local parts with their case */
  /* state */
  cdb c ;
  mx_mariadb const *my ;
  MYSQL *m ;
  unsigned int at ;              /* which group of -g it is connected to */
  MYSQL_STMT *domain_st ;
  MYSQL_STMT *address_st ;
  unsigned int address_params ;
  char err[MX_SQL_ERRMAX] ;    /* why the last call failed */
} ;

/* Opens the CDB (and reads its case rule); SQL connects later.
   Returns 1, or 0 with s->err set. */
extern int source_open (source *s) ;
extern void source_close (source *s) ;

/* 1 if domain (lower case) is local, 0 if not, -1 on error (s->err). */
extern int source_domain (source *s, char const *domain) ;

/* 1 if key ("local@domain" or "@domain") exists, 0 if not, -1 on
   error (s->err). */
extern int source_address (source *s, char const *key) ;

#endif
