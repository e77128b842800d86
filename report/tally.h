/* tally: counts by key, in bounded memory.
 *
 * A table holds at most max distinct keys (each cut to TALLY_KEYMAX
 * bytes). Once it is full, counts for keys it does not hold go to one
 * overflow bucket, and the table says so (full): whatever the input,
 * a table never takes more than about max * (TALLY_KEYMAX + 80) bytes.
 * Every key has TALLY_COLS counters; most tables use the first only.
 */
#ifndef MXGUARD_REPORT_TALLY_H
#define MXGUARD_REPORT_TALLY_H

#include <stddef.h>
#include <stdint.h>

#define TALLY_KEYMAX 255
#define TALLY_COLS 4

typedef struct tally_entry_s tally_entry ;
struct tally_entry_s
{
  uint64_t n[TALLY_COLS] ;
  uint64_t total ;       /* the sum of n[] */
  size_t len ;
  char key[] ;           /* len bytes, then a NUL */
} ;

typedef struct tally_s tally ;
struct tally_s
{
  tally_entry **slot ;   /* open addressing, size a power of 2 */
  size_t nslots ;
  size_t count ;         /* keys held */
  size_t max ;           /* at most this many keys */
  int full ;             /* a key was refused for room */
  uint64_t over[TALLY_COLS] ;   /* counts of the keys refused */
  uint64_t overtotal ;
  uint64_t total ;       /* every count added, held or not */
} ;

#define TALLY_ZERO { 0, 0, 0, 0, 0, { 0, 0, 0, 0 }, 0, 0 }

/* Adds n to column col of key (len bytes, cut to TALLY_KEYMAX).
   Returns 1, or 0 if memory ran out (errno set; the count is lost). */
extern int tally_add (tally *t, char const *key, size_t len, unsigned int col, uint64_t n) ;

/* The entries, sorted by total descending then key (bytewise), or by
   key alone when bykey; in a new array of t->count pointers (0 with
   errno set if memory ran out; also 0 for an empty table). */
extern tally_entry **tally_sorted (tally const *t, int bykey) ;

extern void tally_free (tally *t) ;

#endif
