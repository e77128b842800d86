/* store-impl: what store.c shares with the two store back ends. */
#ifndef RELAYDB_STORE_IMPL_H
#define RELAYDB_STORE_IMPL_H

#include "store.h"

/* Sets s->err to the concatenation of the strings (cut to fit); returns 0
   so that a function failing with 0 can "return store_fail(...)". */
extern int store_failv (store *s, char const *const *part, size_t n) ;
#define store_fail(s, ...) store_failv((s), (char const *const[]){ __VA_ARGS__ }, \
  sizeof((char const *const[]){ __VA_ARGS__ }) / sizeof(char const *))

extern int sdir_open (store *) ;
extern void sdir_close (store *) ;
extern int sdir_put (store *, char const *, uint64_t) ;
extern int sdir_get (store *, char const *, uint64_t *) ;
extern int sdir_delete (store *, char const *) ;
extern int sdir_delete_older (store *, char const *, uint64_t) ;
extern long long sdir_expire (store *, uint64_t) ;
extern int sdir_each (store *, store_each_fn *, void *) ;

extern int ssql_open (store *) ;
extern void ssql_close (store *) ;
extern int ssql_put (store *, char const *, uint64_t) ;
extern int ssql_get (store *, char const *, uint64_t *) ;
extern int ssql_delete (store *, char const *) ;
extern int ssql_delete_older (store *, char const *, uint64_t) ;
extern long long ssql_expire (store *, uint64_t) ;
extern int ssql_each (store *, store_each_fn *, void *) ;
extern int ssql_load (store *, char const *const *, uint64_t const *, size_t) ;

#endif
