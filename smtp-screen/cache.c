/* cache: see cache.h; its file is cachefile.c's. The pool's free entries are chained through next
   (lowest index first in a new cache, so a file loaded into it is
   dumped back in its own order); a free entry's heap is NONE. */
#include "cache-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char const *const names[CACHE_NTESTS] = { "pregreet", "dnsbl", "rdns" } ;

static unsigned char const v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff } ;

char const *cache_test_name (unsigned int test)
{
  return test < CACHE_NTESTS ? names[test] : 0 ;
}

void cache_key_of (unsigned char *k, ip46 const *ip)
{
  if (ip46_is6(ip)) memcpy(k, ip->ip, 16) ;
  else { memcpy(k, v4mapped, 12) ; memcpy(k + 12, ip->ip, 4) ; }
}

void cache_ip_of (ip46 *ip, unsigned char const *k)
{
  if (!memcmp(k, v4mapped, 12)) ip46_from_ip4(ip, (char const *)k + 12) ;
  else ip46_from_ip6(ip, (char const *)k) ;
}

/* SipHash-2-4 of the 16 bytes of a key */

static uint64_t le64 (unsigned char const *s)
{
  uint64_t v = 0 ;
  unsigned int i = 8 ;
  while (i--) v = v << 8 | s[i] ;
  return v ;
}

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
  v0 += v1 ; v1 = ROTL(v1, 13) ; v1 ^= v0 ; v0 = ROTL(v0, 32) ; \
  v2 += v3 ; v3 = ROTL(v3, 16) ; v3 ^= v2 ; \
  v0 += v3 ; v3 = ROTL(v3, 21) ; v3 ^= v0 ; \
  v2 += v1 ; v1 = ROTL(v1, 17) ; v1 ^= v2 ; v2 = ROTL(v2, 32) ; } while (0)

static uint32_t hash (cache const *c, unsigned char const *k)
{
  uint64_t v0 = c->k0 ^ UINT64_C(0x736f6d6570736575) ;
  uint64_t v1 = c->k1 ^ UINT64_C(0x646f72616e646f6d) ;
  uint64_t v2 = c->k0 ^ UINT64_C(0x6c7967656e657261) ;
  uint64_t v3 = c->k1 ^ UINT64_C(0x7465646279746573) ;
  uint64_t m ;
  unsigned int i ;
  for (i = 0 ; i < 3 ; i++)
  {
    m = i < 2 ? le64(k + 8 * i) : (uint64_t)16 << 56 ;
    v3 ^= m ; SIPROUND ; SIPROUND ; v0 ^= m ;
  }
  v2 ^= 0xff ;
  SIPROUND ; SIPROUND ; SIPROUND ; SIPROUND ;
  return (uint32_t)(v0 ^ v1 ^ v2 ^ v3) & c->mask ;
}

static uint32_t lookup (cache const *c, unsigned char const *k, uint32_t h)
{
  uint32_t i = c->head[h] ;
  while (i != NONE && memcmp(c->pool[i].ip, k, 16)) i = c->pool[i].next ;
  return i ;
}

uint32_t cache_latest (entry const *e)
{
  uint32_t m = 0 ;
  unsigned int t ;
  for (t = 0 ; t < CACHE_NTESTS ; t++) if (e->expiry[t] > m) m = e->expiry[t] ;
  return m ;
}

/* the heap: slot 0 expires soonest */

static void heap_set (cache *c, uint32_t pos, slot s)
{
  c->heap[pos] = s ;
  c->pool[s.entry].heap = pos ;
}

static void heap_fix (cache *c, uint32_t pos)
{
  slot s = c->heap[pos] ;
  while (pos)
  {
    uint32_t up = (pos - 1) / 2 ;
    if (c->heap[up].expiry <= s.expiry) break ;
    heap_set(c, pos, c->heap[up]) ;
    pos = up ;
  }
  for (;;)
  {
    uint32_t l = 2 * pos + 1, m ;
    if (l >= c->count) break ;
    m = l + 1 < c->count && c->heap[l + 1].expiry < c->heap[l].expiry ? l + 1 : l ;
    if (s.expiry <= c->heap[m].expiry) break ;
    heap_set(c, pos, c->heap[m]) ;
    pos = m ;
  }
  heap_set(c, pos, s) ;
}

static void drop (cache *c, uint32_t i)
{
  entry *e = &c->pool[i] ;
  uint32_t *p = &c->head[hash(c, e->ip)] ;
  uint32_t pos = e->heap ;
  while (*p != i) p = &c->pool[*p].next ;
  *p = e->next ;
  c->count-- ;
  if (pos < c->count) { heap_set(c, pos, c->heap[c->count]) ; heap_fix(c, pos) ; }
  e->heap = NONE ;
  e->next = c->free ;
  c->free = i ;
}

/* stores a pass expiring at expiry: 1 if held, 0 if not */
int cache_put (cache *c, unsigned char const *k, unsigned int test, uint64_t now, uint32_t expiry, int32_t value)
{
  uint32_t h = hash(c, k), i = lookup(c, k, h) ;
  entry *e ;
  if (i != NONE)
  {
    e = &c->pool[i] ;
    e->expiry[test] = expiry ;
    e->value[test] = value ;
    c->heap[e->heap].expiry = cache_latest(e) ;
    heap_fix(c, e->heap) ;
    return 1 ;
  }
  if (expiry <= now) return 0 ;
  if (c->count == c->max)
  {
    if (expiry <= c->heap[0].expiry) { c->refused++ ; return 0 ; }
    drop(c, c->heap[0].entry) ;
    c->evicted++ ;
  }
  i = c->free ;
  e = &c->pool[i] ;
  c->free = e->next ;
  memcpy(e->ip, k, 16) ;
  memset(e->expiry, 0, sizeof e->expiry) ;
  memset(e->value, 0, sizeof e->value) ;
  e->expiry[test] = expiry ;
  e->value[test] = value ;
  e->next = c->head[h] ;
  c->head[h] = i ;
  c->heap[c->count].expiry = expiry ;
  c->heap[c->count].entry = i ;
  e->heap = c->count++ ;
  heap_fix(c, e->heap) ;
  return 1 ;
}

cache *cache_init (size_t max_entries, char const *key)
{
  cache *c ;
  uint32_t n = 1, i ;
  if (!max_entries || max_entries > CACHE_MAX_ENTRIES) { errno = EINVAL ; return 0 ; }
  while (n < max_entries) n <<= 1 ;
  c = malloc(sizeof *c) ;
  if (!c) return 0 ;
  c->pool = malloc(max_entries * sizeof *c->pool) ;
  c->heap = malloc(max_entries * sizeof *c->heap) ;
  c->head = malloc(n * sizeof *c->head) ;
  if (!c->pool || !c->heap || !c->head) { cache_free(c) ; errno = ENOMEM ; return 0 ; }
  c->max = (uint32_t)max_entries ;
  c->mask = n - 1 ;
  c->count = 0 ;
  c->free = 0 ;
  for (i = 0 ; i < c->max ; i++)
  {
    c->pool[i].next = i + 1 < c->max ? i + 1 : NONE ;
    c->pool[i].heap = NONE ;
  }
  for (i = 0 ; i < n ; i++) c->head[i] = NONE ;
  if (key) { c->k0 = le64((unsigned char const *)key) ; c->k1 = le64((unsigned char const *)key + 8) ; }
  else c->k0 = c->k1 = 0 ;
  c->evicted = c->refused = c->expired = 0 ;
  return c ;
}

void cache_free (cache *c)
{
  if (!c) return ;
  free(c->pool) ;
  free(c->heap) ;
  free(c->head) ;
  free(c) ;
}

int cache_pass (cache *c, ip46 const *ip, unsigned int test, uint64_t now, uint32_t lifetime, int32_t value)
{
  unsigned char k[16] ;
  uint64_t e = now + lifetime ;
  if (test >= CACHE_NTESTS) return 0 ;
  if (e > UINT32_MAX) e = UINT32_MAX ;
  cache_key_of(k, ip) ;
  return cache_put(c, k, test, now, (uint32_t)e, value) ;
}

int cache_valid (cache const *c, ip46 const *ip, unsigned int test, uint64_t now, int32_t *value)
{
  unsigned char k[16] ;
  uint32_t i ;
  if (test >= CACHE_NTESTS) return 0 ;
  cache_key_of(k, ip) ;
  i = lookup(c, k, hash(c, k)) ;
  if (i == NONE || now >= c->pool[i].expiry[test]) return 0 ;
  if (value) *value = c->pool[i].value[test] ;
  return 1 ;
}

int cache_find (cache const *c, ip46 const *ip, cache_item *it)
{
  unsigned char k[16] ;
  uint32_t i ;
  cache_key_of(k, ip) ;
  i = lookup(c, k, hash(c, k)) ;
  if (i == NONE) return 0 ;
  memcpy(it->expiry, c->pool[i].expiry, sizeof it->expiry) ;
  memcpy(it->value, c->pool[i].value, sizeof it->value) ;
  return 1 ;
}

int cache_forget (cache *c, ip46 const *ip)
{
  unsigned char k[16] ;
  uint32_t i ;
  cache_key_of(k, ip) ;
  i = lookup(c, k, hash(c, k)) ;
  if (i == NONE) return 0 ;
  drop(c, i) ;
  return 1 ;
}

size_t cache_expire (cache *c, uint64_t now, size_t max)
{
  size_t n = 0 ;
  while (n < max && c->count && c->heap[0].expiry <= now)
  {
    drop(c, c->heap[0].entry) ;
    n++ ;
  }
  c->expired += n ;
  return n ;
}

void cache_stats (cache const *c, cache_stat *st)
{
  st->entries = c->count ;
  st->max = c->max ;
  st->evicted = c->evicted ;
  st->refused = c->refused ;
  st->expired = c->expired ;
}

/* writing */

int cache_check (cache const *c)
{
  uint32_t i, n = 0, f = 0 ;
  if (c->count > c->max) return 0 ;
  for (i = 0 ; i < c->count ; i++)
  {
    slot s = c->heap[i] ;
    if (s.entry >= c->max || c->pool[s.entry].heap != i) return 0 ;
    if (s.expiry != cache_latest(&c->pool[s.entry])) return 0 ;
    if (i && c->heap[(i - 1) / 2].expiry > s.expiry) return 0 ;
  }
  for (i = 0 ; i <= c->mask ; i++)
  {
    uint32_t j ;
    for (j = c->head[i] ; j != NONE ; j = c->pool[j].next)
    {
      if (j >= c->max || c->pool[j].heap == NONE || hash(c, c->pool[j].ip) != i) return 0 ;
      if (lookup(c, c->pool[j].ip, i) != j) return 0 ;   /* one entry per client */
      if (++n > c->count) return 0 ;
    }
  }
  if (n != c->count) return 0 ;
  for (i = c->free ; i != NONE ; i = c->pool[i].next)
    if (i >= c->max || c->pool[i].heap != NONE || ++f > c->max) return 0 ;
  return f + c->count == c->max ;
}
