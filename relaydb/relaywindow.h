/* relaywindow: relaydb-check's one decision, apart from the clock and
 * the store, so that its boundary can be tested (t/unit/relaydb-window-test).
 *
 * An entry stamped ts counts at now when it is "no older than the
 * window" (relaydb-check.8): its age, now - ts, is at most window
 * seconds; an entry stamped in the future counts as age 0. */
#ifndef RELAYDB_RELAYWINDOW_H
#define RELAYDB_RELAYWINDOW_H

#include <stdint.h>

/* the oldest timestamp that still counts at now (0 when the window
   reaches back before the epoch) */
extern uint64_t relaywindow_cutoff (uint64_t now, uint64_t window) ;

/* 1 if an entry stamped ts counts at now, 0 if it has expired */
extern int relaywindow_fresh (uint64_t ts, uint64_t now, uint64_t window) ;

/* the age relaydb-check logs: now - ts, 0 for a future timestamp */
extern uint64_t relaywindow_age (uint64_t ts, uint64_t now) ;

#endif
