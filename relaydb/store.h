/* store: the relay database, IP -> timestamp (seconds since the epoch).
 *
 * One interface over two stores:
 *   - a directory (the default): one file per client, named by the
 *     client's canonical IP text, holding the decimal timestamp. Writers
 *     create a private temp file and rename(2) it into place, so readers
 *     never see half an entry and concurrent writers lose nothing; no
 *     locks are taken.
 *   - a MariaDB table shared by several hosts, reached with Connector/C;
 *     credentials come from an option-file group, never argv.
 *
 * Keys are canonical IP texts (mx_ip_fmt); callers validate them first.
 * Every function that can fail leaves a message in s->err.
 */
#ifndef RELAYDB_STORE_H
#define RELAYDB_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Timestamps above this (9999-12-31T23:59:59Z) are refused as garbage. */
#define STORE_TS_MAX UINT64_C(253402300799)

typedef struct store_conf_s store_conf ;
struct store_conf_s
{
  char const *dir ;      /* directory store, or 0 */
  char const *group ;    /* MariaDB option-file group, or 0 */
  char const *cnf ;      /* option file to read the group from, or 0 for
                            Connector/C's default files */
  unsigned int timeout ; /* seconds, for each SQL connect/read/write */
} ;

typedef struct store_s store ;
struct store_s
{
  store_conf conf ;
  int dirfd ;           /* directory store: the open directory */
  unsigned long seq ;   /* makes this process's temp names unique */
  void *sql ;           /* MariaDB store: the MYSQL handle */
  unsigned int sql_at ; /* MariaDB store: which group of -g it is connected to */
  char err[256] ;       /* why the last call failed */
} ;

typedef int store_each_fn (char const *ip, uint64_t ts, void *data) ;

/* Opens the store described by conf into *s; 1 ok, 0 error (s->err). */
extern int store_open (store *s, store_conf const *conf) ;
extern void store_close (store *) ;
/* "dir" or "sql", for log lines */
extern char const *store_kind (store const *) ;

/* Records ts for ip (replacing any earlier entry). 1 ok, 0 error. */
extern int store_put (store *, char const *ip, uint64_t ts) ;

/* 1 found (*ts set), 0 no entry, -1 error. */
extern int store_get (store *, char const *ip, uint64_t *ts) ;

/* Removes ip's entry. 1 removed, 0 no entry, -1 error. */
extern int store_delete (store *, char const *ip) ;

/* Removes ip's entry only if it is still older than cutoff: a writer
   that records ip meanwhile wins. 1 removed, 0 kept or none, -1 error. */
extern int store_delete_older (store *, char const *ip, uint64_t cutoff) ;

/* Removes every entry older than cutoff; the count, or -1 on error. */
extern long long store_expire (store *, uint64_t cutoff) ;

/* Calls fn for every entry; stops early when fn returns 0.
   1 ok, 0 stopped by fn, -1 error. */
extern int store_each (store *, store_each_fn *fn, void *data) ;

/* Records n entries (ips[i], ts[i]) as one unit where the store can
   (SQL: one transaction). 1 ok, 0 error. */
extern int store_load (store *, char const *const *ips, uint64_t const *ts, size_t n) ;

#endif
