/* clientlimits: the per-client counters only a process that sees every
 * connection can keep: connections at once and new connections per
 * window, for each client group (an IPv4 address, or an IPv6 address
 * cut to a prefix: one end-user network).
 *
 * A fixed table (limits_init's size), so memory is bounded whatever the
 * clients do: a group is forgotten when it has no connection left and
 * its window has passed (limits_sweep). When the table is full, a new
 * group takes the place of one with no connection, one whose window
 * has passed if one is near (a hand goes round the table, looking at
 * 64 places before it settles for one still in its window). A group
 * that holds a connection is never forgotten: the caller makes the
 * table at least twice the connections it can hold, so there is
 * always a place to take, and -C holds however many groups a client
 * makes up (an IPv6 /48 is 65,536 /64 groups); a group forgotten
 * inside its window starts a new one. LIMITS_UNTRACKED (admitted
 * without being counted, logged by the caller) is left for a table
 * full of groups that all hold connections, which the caller's sizing
 * rules out.
 *
 * The rate is a fixed window per group: at most rate_n admissions in
 * the rate_ms milliseconds from the first one; then a new window
 * starts with the next admission after it. Refused connections do not
 * count.
 */
#ifndef SMTPSCREEN_CLIENTLIMITS_H
#define SMTPSCREEN_CLIENTLIMITS_H

#include <stdint.h>
#include <skalibs/ip46.h>

#define LIMITS_KEYLEN 17

typedef struct limkey_s { unsigned char k[LIMITS_KEYLEN] ; } limkey ;

/* The group of ip: IPv4 whole, IPv6 cut to v6bits (1 to 128). */
extern void limits_key (limkey *key, ip46 const *ip, unsigned int v6bits) ;

typedef struct limentry_s limentry ;
struct limentry_s
{
  limkey key ;
  uint32_t conns ;        /* connections at once, screened and handed off */
  uint32_t admitted ;     /* admissions in the current window */
  long long window ;      /* the window's start, mx_now_ms */
  int32_t next ;          /* chain in its bucket, or the free list; -1 ends */
} ;

typedef struct limits_s limits ;
struct limits_s
{
  limentry *e ;
  int32_t *bucket ;
  uint32_t nbuckets, size, used ;
  uint32_t hand ;         /* where the next look for a place to take starts */
  int32_t free ;
  uint32_t seed ;
  unsigned int maxconn ;  /* 0: no limit */
  unsigned int rate_n ;   /* 0: no limit */
  unsigned int rate_ms ;
} ;

/* Room for size groups. Returns 1, or 0 (no memory). */
extern int limits_init (limits *l, uint32_t size, uint32_t seed) ;
extern void limits_free (limits *l) ;

enum limits_verdict { LIMITS_OK, LIMITS_UNTRACKED, LIMITS_CONN, LIMITS_RATE } ;

/* Admits a new connection of group key at time now (counting it) or
   says which limit it is over (counting nothing). *count is the
   connections at once (LIMITS_CONN) or the admissions in the window
   (LIMITS_RATE) the group already has. */
extern enum limits_verdict limits_admit (limits *l, limkey const *key, long long now, unsigned int *count) ;

/* A connection of group key has ended. */
extern void limits_release (limits *l, limkey const *key) ;

/* Forgets the groups with no connection whose window has passed. */
extern void limits_sweep (limits *l, long long now) ;

#endif
