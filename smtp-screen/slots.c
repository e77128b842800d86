/* slots: see slots.h. Lists are of slot indices (-1 ends); ST_WAIT's
   clients are in a binary min-heap of their deadlines instead. */
#include "slots.h"

#include <stdlib.h>
#include <string.h>

#include "mx_secs.h"

#define NSTATES (ST_DRAIN + 1)

static int32_t head[NSTATES], tail[NSTATES] ;
static int32_t freelist ;
static int32_t *heap ;   /* ST_WAIT: slot indices, earliest deadline first */
static uint32_t nheap ;

static void heap_set (uint32_t k, int32_t i)
{
  heap[k] = i ;
  S.c[i].hpos = (int32_t)k ;
}

static void heap_up (uint32_t k)
{
  int32_t i = heap[k] ;
  while (k)
  {
    uint32_t p = (k - 1) / 2 ;
    if (S.c[heap[p]].deadline <= S.c[i].deadline) break ;
    heap_set(k, heap[p]) ;
    k = p ;
  }
  heap_set(k, i) ;
}

static void heap_down (uint32_t k)
{
  int32_t i = heap[k] ;
  for (;;)
  {
    uint32_t l = 2 * k + 1, m ;
    if (l >= nheap) break ;
    m = l + 1 < nheap && S.c[heap[l + 1]].deadline < S.c[heap[l]].deadline ? l + 1 : l ;
    if (S.c[heap[m]].deadline >= S.c[i].deadline) break ;
    heap_set(k, heap[m]) ;
    k = m ;
  }
  heap_set(k, i) ;
}

static void heap_remove (client *c)
{
  uint32_t k = (uint32_t)c->hpos ;
  int32_t last = heap[--nheap] ;
  c->hpos = -1 ;
  if (k == nheap) return ;
  heap_set(k, last) ;
  heap_up(k) ;
  heap_down((uint32_t)S.c[last].hpos) ;
}

int slots_init (unsigned int n)
{
  unsigned int i ;
  S.c = calloc(n, sizeof *S.c) ;
  heap = calloc(n ? n : 1, sizeof *heap) ;
  if (!S.c || !heap) return 0 ;
  S.nslots = n ;
  for (i = 0 ; i < NSTATES ; i++) head[i] = tail[i] = -1 ;
  for (i = 0 ; i < n ; i++) { S.c[i].next = i + 1 < n ? (int32_t)(i + 1) : -1 ; S.c[i].fd = -1 ; }
  freelist = n ? 0 : -1 ;
  return 1 ;
}

client *slot_get (void)
{
  client *c ;
  uint32_t gen ;
  if (freelist < 0) return 0 ;
  c = S.c + freelist ;
  freelist = c->next ;
  gen = c->gen + 1 ;
  memset(c, 0, sizeof *c) ;
  c->gen = gen ;
  c->fd = -1 ;
  c->prev = c->next = -1 ;
  c->hpos = -1 ;
  c->state = ST_FREE ;
  S.nused++ ;
  return c ;
}

void slot_put (client *c)
{
  c->next = freelist ;
  freelist = (int32_t)(c - S.c) ;
  S.nused-- ;
}

static void unlink_client (client *c)
{
  if (c->state == ST_FREE) return ;
  if (c->state == ST_WAIT) { heap_remove(c) ; return ; }
  if (c->prev >= 0) S.c[c->prev].next = c->next ; else head[c->state] = c->next ;
  if (c->next >= 0) S.c[c->next].prev = c->prev ; else tail[c->state] = c->prev ;
  c->prev = c->next = -1 ;
}

void client_state (client *c, enum state st, unsigned int ms)
{
  int32_t i = (int32_t)(c - S.c) ;
  unlink_client(c) ;
  c->state = st ;
  if (st == ST_FREE) return ;
  c->deadline = mx_now_ms() + ms ;
  if (st == ST_WAIT)
  {
    heap_set(nheap, i) ;
    heap_up(nheap++) ;
    return ;
  }
  c->prev = tail[st] ;
  c->next = -1 ;
  if (tail[st] >= 0) S.c[tail[st]].next = i ; else head[st] = i ;
  tail[st] = i ;
}

void client_deadline (client *c, long long when)
{
  long long was = c->deadline ;
  if (c->state != ST_WAIT) return ;
  c->deadline = when ;
  if (when < was) heap_up((uint32_t)c->hpos) ; else heap_down((uint32_t)c->hpos) ;
}

client *slots_first (enum state st)
{
  if (st == ST_WAIT) return nheap ? S.c + heap[0] : 0 ;
  return head[st] >= 0 ? S.c + head[st] : 0 ;
}

void slots_expire (long long now)
{
  unsigned int st ;
  while (nheap && S.c[heap[0]].deadline <= now)
  {
    client *c = S.c + heap[0] ;
    client_timeout(c) ;
    if (c->state == ST_WAIT && c->hpos == 0 && c->deadline <= now) client_free(c) ;
  }
  for (st = ST_FREE + 1 ; st < NSTATES ; st++)
    while (head[st] >= 0 && S.c[head[st]].deadline <= now)
    {
      client *c = S.c + head[st] ;
      client_timeout(c) ;
      /* client_timeout moves c on: to another state or out; never
         leave it first here with the same deadline */
      if (c->state == (enum state)st && S.c + head[st] == c && c->deadline <= now) client_free(c) ;
    }
}

int slots_wait (long long now, int max)
{
  unsigned int st ;
  long long best = now + max ;
  if (nheap && S.c[heap[0]].deadline < best) best = S.c[heap[0]].deadline ;
  for (st = ST_FREE + 1 ; st < NSTATES ; st++)
    if (head[st] >= 0 && S.c[head[st]].deadline < best) best = S.c[head[st]].deadline ;
  return best <= now ? 0 : (int)(best - now) ;
}

uint64_t slot_tag (client const *c)
{
  return ((uint64_t)c->gen << 32) | (uint64_t)(c - S.c) ;
}

client *slot_of_tag (uint64_t tag)
{
  uint32_t i = (uint32_t)tag ;
  client *c ;
  if (i >= S.nslots) return 0 ;
  c = S.c + i ;
  if (c->state == ST_FREE || c->gen != (uint32_t)(tag >> 32)) return 0 ;
  return c ;
}
