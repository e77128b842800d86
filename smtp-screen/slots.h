/* slots: the table of clients being held (a fixed array, its size the
 * global cap, -S) and their deadlines.
 *
 * Every state but ST_WAIT has one fixed duration, so the clients of a
 * state are kept in a list in the order they entered it, which is also
 * the order of their deadlines: the first of each list is the next to
 * expire. Taking a slot, changing a client's state, finding the next
 * deadline and expiring clients are all O(1) per client, however many
 * wait. ST_WAIT's deadlines move (the wait of an rDNS class, known
 * once the PTR answers; DNS answers still out): its clients are in a
 * binary min-heap, O(log n) to enter, leave or move.
 * The ST_QUEUED list is also the order in which passed clients get a
 * free child.
 */
#ifndef SMTPSCREEN_SLOTS_H
#define SMTPSCREEN_SLOTS_H

#include "screen.h"

/* Room for n clients. Returns 1, or 0 (no memory). */
extern int slots_init (unsigned int n) ;

/* A free slot, zeroed but for its generation (bumped), or 0 if every
   slot is taken. */
extern client *slot_get (void) ;

/* Gives c's slot back (c must be out of every list: ST_FREE). */
extern void slot_put (client *c) ;

/* Moves c to state st, its deadline ms from now (ST_FREE: out of every
   list, no deadline). */
extern void client_state (client *c, enum state st, unsigned int ms) ;

/* Moves the deadline of c (in ST_WAIT; else nothing) to when
   (mx_now_ms). */
extern void client_deadline (client *c, long long when) ;

/* The first client of state st's list (the earliest deadline), or 0. */
extern client *slots_first (enum state st) ;

/* Calls client_timeout for every client whose deadline is past. */
extern void slots_expire (long long now) ;

/* Milliseconds from now to the earliest deadline, at most max. */
extern int slots_wait (long long now, int max) ;

/* epoll's tag for c: its slot and generation, so an event for a slot
   freed and taken again in the same batch is recognised as stale */
extern uint64_t slot_tag (client const *c) ;
extern client *slot_of_tag (uint64_t tag) ;

#endif
