/* clientlimits: see clientlimits.h. Chained hash on a fixed pool of entries; the
 * hash is seeded at start, so a client cannot aim many groups at one
 * chain. */
#include "clientlimits.h"

#include <stdlib.h>
#include <string.h>

void limits_key (limkey *key, ip46 const *ip, unsigned int v6bits)
{
  memset(key, 0, sizeof *key) ;
  if (!ip46_is6(ip))
  {
    key->k[0] = 4 ;
    memcpy(key->k + 1, ip->ip, 4) ;
    return ;
  }
  key->k[0] = 6 ;
  {
    unsigned int i ;
    for (i = 0 ; i < 16 ; i++)
    {
      unsigned int bits = v6bits > 8 * i ? v6bits - 8 * i : 0 ;
      unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits)) ;
      key->k[1 + i] = (unsigned char)ip->ip[i] & mask ;
    }
  }
}

static uint32_t hash (limits const *l, limkey const *key)
{
  uint32_t h = 2166136261u ^ l->seed ;
  unsigned int i ;
  for (i = 0 ; i < LIMITS_KEYLEN ; i++) { h ^= key->k[i] ; h *= 16777619u ; }
  h ^= h >> 15 ;
  return h % l->nbuckets ;
}

int limits_init (limits *l, uint32_t size, uint32_t seed)
{
  uint32_t i ;
  if (!size) size = 1 ;
  l->size = size ;
  l->nbuckets = size ;
  l->used = 0 ;
  l->seed = seed ;
  l->e = calloc(size, sizeof *l->e) ;
  l->bucket = malloc(sizeof *l->bucket * size) ;
  if (!l->e || !l->bucket) { free(l->e) ; free(l->bucket) ; return 0 ; }
  for (i = 0 ; i < size ; i++) { l->bucket[i] = -1 ; l->e[i].next = i + 1 < size ? (int32_t)(i + 1) : -1 ; }
  l->free = 0 ;
  l->hand = 0 ;
  return 1 ;
}

void limits_free (limits *l)
{
  free(l->e) ; free(l->bucket) ;
  l->e = 0 ; l->bucket = 0 ;
}

static limentry *find (limits *l, limkey const *key)
{
  int32_t i ;
  for (i = l->bucket[hash(l, key)] ; i >= 0 ; i = l->e[i].next)
    if (!memcmp(l->e[i].key.k, key->k, LIMITS_KEYLEN)) return l->e + i ;
  return 0 ;
}

static void unlink_entry (limits *l, int32_t i)
{
  int32_t *link = &l->bucket[hash(l, &l->e[i].key)] ;
  while (*link >= 0 && *link != i) link = &l->e[*link].next ;
  if (*link == i) *link = l->e[i].next ;
  l->used-- ;
}

/* the table is full: the place of a group with no connection, one
   whose window has passed if the hand finds one within 64 places
   (clientlimits.h); -1 if every group holds a connection */
static int32_t reclaim (limits *l, long long now)
{
  int32_t pick = -1 ;
  uint32_t tries ;
  for (tries = 0 ; tries < l->size && (tries < 64 || pick < 0) ; tries++)
  {
    uint32_t i = l->hand ;
    limentry const *e = l->e + i ;
    l->hand = i + 1 < l->size ? i + 1 : 0 ;
    if (e->conns) continue ;
    if (now - e->window >= (long long)l->rate_ms) { pick = (int32_t)i ; break ; }
    if (pick < 0) pick = (int32_t)i ;
  }
  if (pick >= 0) unlink_entry(l, pick) ;
  return pick ;
}

enum limits_verdict limits_admit (limits *l, limkey const *key, long long now, unsigned int *count)
{
  limentry *e = find(l, key) ;
  if (!e)
  {
    uint32_t b ;
    int32_t i = l->free ;
    if (i >= 0) l->free = l->e[i].next ;
    else if ((i = reclaim(l, now)) < 0) return LIMITS_UNTRACKED ;
    e = l->e + i ;
    b = hash(l, key) ;
    e->key = *key ;
    e->conns = 0 ;
    e->admitted = 0 ;
    e->window = now ;
    e->next = l->bucket[b] ;
    l->bucket[b] = i ;
    l->used++ ;
  }
  if (now - e->window >= (long long)l->rate_ms) { e->window = now ; e->admitted = 0 ; }
  if (l->maxconn && e->conns >= l->maxconn) { *count = e->conns ; return LIMITS_CONN ; }
  if (l->rate_n && e->admitted >= l->rate_n) { *count = e->admitted ; return LIMITS_RATE ; }
  e->conns++ ;
  e->admitted++ ;
  *count = e->conns ;
  return LIMITS_OK ;
}

void limits_release (limits *l, limkey const *key)
{
  limentry *e = find(l, key) ;
  if (e && e->conns) e->conns-- ;
}

void limits_sweep (limits *l, long long now)
{
  uint32_t b ;
  for (b = 0 ; b < l->nbuckets ; b++)
  {
    int32_t *link = &l->bucket[b] ;
    while (*link >= 0)
    {
      limentry *e = l->e + *link ;
      if (!e->conns && now - e->window >= (long long)l->rate_ms)
      {
        int32_t i = *link ;
        *link = e->next ;
        e->next = l->free ;
        l->free = i ;
        l->used-- ;
      }
      else link = &e->next ;
    }
  }
}
