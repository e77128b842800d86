/* slots: see slots.h. Lists are of slot indices (-1 ends). */
#include "slots.h"

#include <stdlib.h>
#include <string.h>

#include "mx_secs.h"

#define NSTATES (ST_DRAIN + 1)

static int32_t head[NSTATES], tail[NSTATES] ;
static int32_t freelist ;

int slots_init (unsigned int n)
{
  unsigned int i ;
  S.c = calloc(n, sizeof *S.c) ;
  if (!S.c) return 0 ;
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
  c->prev = tail[st] ;
  c->next = -1 ;
  if (tail[st] >= 0) S.c[tail[st]].next = i ; else head[st] = i ;
  tail[st] = i ;
}

client *slots_first (enum state st)
{
  return head[st] >= 0 ? S.c + head[st] : 0 ;
}

void slots_expire (long long now)
{
  unsigned int st ;
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
