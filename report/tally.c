/* tally: see tally.h. */
#include "tally.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t hash (char const *s, size_t len)
{
  uint64_t h = 14695981039346656037ULL ;   /* FNV-1a */
  while (len--) { h ^= (unsigned char)*s++ ; h *= 1099511628211ULL ; }
  return (size_t)(h ^ (h >> 32)) ;
}

/* the slot of key, or of the empty slot where it would go */
static size_t find (tally_entry *const *slot, size_t nslots, char const *key, size_t len)
{
  size_t i = hash(key, len) & (nslots - 1) ;
  while (slot[i] && (slot[i]->len != len || memcmp(slot[i]->key, key, len)))
    i = (i + 1) & (nslots - 1) ;
  return i ;
}

static int grow (tally *t)
{
  size_t n = t->nslots ? t->nslots * 2 : 64, i ;
  tally_entry **s ;
  if (n > SIZE_MAX / sizeof *s) { errno = ENOMEM ; return 0 ; }
  s = calloc(n, sizeof *s) ;
  if (!s) return 0 ;
  for (i = 0 ; i < t->nslots ; i++)
    if (t->slot[i]) s[find(s, n, t->slot[i]->key, t->slot[i]->len)] = t->slot[i] ;
  free(t->slot) ;
  t->slot = s ;
  t->nslots = n ;
  return 1 ;
}

int tally_add (tally *t, char const *key, size_t len, unsigned int col, uint64_t n)
{
  tally_entry *e ;
  size_t i ;
  if (col >= TALLY_COLS) col = 0 ;
  if (len > TALLY_KEYMAX) len = TALLY_KEYMAX ;
  t->total += n ;
  if (t->nslots)
  {
    i = find(t->slot, t->nslots, key, len) ;
    if (t->slot[i]) { t->slot[i]->n[col] += n ; t->slot[i]->total += n ; return 1 ; }
  }
  if (t->count >= t->max)
  {
    t->full = 1 ;
    t->over[col] += n ;
    t->overtotal += n ;
    return 1 ;
  }
  if ((t->count + 1) * 2 > t->nslots && !grow(t)) return 0 ;
  e = calloc(1, sizeof *e + len + 1) ;
  if (!e) return 0 ;
  memcpy(e->key, key, len) ;
  e->key[len] = 0 ;
  e->len = len ;
  e->n[col] = n ;
  e->total = n ;
  t->slot[find(t->slot, t->nslots, key, len)] = e ;
  t->count++ ;
  return 1 ;
}

static int cmpkey (tally_entry const *a, tally_entry const *b)
{
  size_t l = a->len < b->len ? a->len : b->len ;
  int c = memcmp(a->key, b->key, l) ;
  return c ? c : a->len < b->len ? -1 : a->len > b->len ;
}

static int bycount (void const *x, void const *y)
{
  tally_entry const *a = *(tally_entry *const *)x, *b = *(tally_entry *const *)y ;
  if (a->total != b->total) return a->total > b->total ? -1 : 1 ;
  return cmpkey(a, b) ;
}

static int bykeyonly (void const *x, void const *y)
{
  return cmpkey(*(tally_entry *const *)x, *(tally_entry *const *)y) ;
}

tally_entry **tally_sorted (tally const *t, int bykey)
{
  tally_entry **a ;
  size_t i, j = 0 ;
  if (!t->count) return 0 ;
  a = malloc(t->count * sizeof *a) ;
  if (!a) return 0 ;
  for (i = 0 ; i < t->nslots ; i++) if (t->slot[i]) a[j++] = t->slot[i] ;
  qsort(a, j, sizeof *a, bykey ? &bykeyonly : &bycount) ;
  return a ;
}

void tally_free (tally *t)
{
  size_t i ;
  for (i = 0 ; i < t->nslots ; i++) free(t->slot[i]) ;
  free(t->slot) ;
  t->slot = 0 ; t->nslots = 0 ; t->count = 0 ;
}
