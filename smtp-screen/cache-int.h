/* cache-int: the cache's inside, shared by cache.c (the table, its
   heap and hash) and cachefile.c (the file: dump, save, load); nothing
   else includes it. */
#ifndef SMTPSCREEN_CACHE_INT_H
#define SMTPSCREEN_CACHE_INT_H

#include "cache.h"

#define NONE UINT32_MAX

typedef struct entry_s entry ;
struct entry_s
{
  unsigned char ip[16] ;    /* IPv6, IPv4 as ::ffff:a.b.c.d */
  uint32_t next ;           /* next in the chain, or in the free list */
  uint32_t heap ;           /* position in the heap, NONE when free */
  uint32_t expiry[CACHE_NTESTS] ;
  int32_t value[CACHE_NTESTS] ;
} ;

typedef struct slot_s slot ;
struct slot_s
{
  uint32_t expiry ;   /* the entry's latest expiry */
  uint32_t entry ;
} ;

struct cache_s
{
  entry *pool ;
  slot *heap ;
  uint32_t *head ;
  uint32_t mask ;     /* chain heads - 1 */
  uint32_t max ;
  uint32_t count ;    /* entries in the heap */
  uint32_t free ;
  uint64_t k0, k1 ;
  uint64_t evicted, refused, expired ;
} ;

/* a key: the 16 bytes of an address, IPv4 as ::ffff:a.b.c.d */
extern void cache_key_of (unsigned char *k, ip46 const *ip) ;
extern void cache_ip_of (ip46 *ip, unsigned char const *k) ;
/* an entry's latest expiry */
extern uint32_t cache_latest (entry const *e) ;
/* stores test's pass for key k: 1, or 0 (expired, or no room) */
extern int cache_put (cache *c, unsigned char const *k, unsigned int test, uint64_t now, uint32_t expiry, int32_t value) ;

#endif
