/* relaydb-window-test: relaydb-check's window at its exact boundary,
   against relaydb-check.8: "an entry counts when it is at most minutes
   old", "with 0 only entries stamped this very second or in the future
   count", "an entry with a timestamp in the future counts as age 0". */
#include <stdint.h>
#include <stdio.h>

#include "relaywindow.h"
#include "tap.h"

#define NOW UINT64_C(1800000000)   /* 2027-01-15, any second will do */

struct fresh_case { uint64_t ts, now, window ; int fresh ; char const *why ; } ;

static struct fresh_case const fresh_cases[] =
{
  { NOW - 1800, NOW, 1800, 1, "-m 30: an entry exactly 30 minutes old counts (at most minutes old)" },
  { NOW - 1801, NOW, 1800, 0, "-m 30: an entry 30 minutes and 1 s old has expired" },
  { NOW - 1799, NOW, 1800, 1, "-m 30: an entry 1 s younger than the window counts" },
  { NOW, NOW, 1800, 1, "-m 30: an entry stamped this second counts" },
  { NOW - 60, NOW, 60, 1, "-m 1: an entry exactly 60 s old counts" },
  { NOW - 61, NOW, 60, 0, "-m 1: an entry 61 s old has expired" },
  { NOW, NOW, 0, 1, "-m 0: an entry stamped this very second counts" },
  { NOW - 1, NOW, 0, 0, "-m 0: an entry stamped the second before has expired" },
  { NOW + 1, NOW, 0, 1, "-m 0: an entry stamped in the future counts" },
  { NOW + 86400, NOW, 1800, 1, "a timestamp a day ahead counts (age 0)" },
  { UINT64_MAX, NOW, 1800, 1, "the largest timestamp counts (age 0)" },
  { 0, 100, 1800, 1, "a window reaching back before the epoch: timestamp 0 counts" },
  { 0, 1800, 1800, 1, "now == window: timestamp 0 is exactly window old and counts" },
  { 0, 1801, 1800, 0, "now == window + 1: timestamp 0 has expired" },
  { NOW - UINT64_C(5256000) * 60, NOW, UINT64_C(5256000) * 60, 1, "-m 5256000 (ten years): an entry exactly ten years old counts" },
  { NOW - UINT64_C(5256000) * 60 - 1, NOW, UINT64_C(5256000) * 60, 0, "-m 5256000: one second more has expired" },
} ;

struct age_case { uint64_t ts, now, age ; char const *why ; } ;

static struct age_case const age_cases[] =
{
  { NOW - 1800, NOW, 1800, "age of an entry 30 minutes old: 1800" },
  { NOW, NOW, 0, "age of an entry stamped now: 0" },
  { NOW + 5, NOW, 0, "age of an entry stamped in the future: 0" },
} ;

int main (void)
{
  unsigned int i ;
  char name[200] ;
  for (i = 0 ; i < sizeof fresh_cases / sizeof fresh_cases[0] ; i++)
  {
    struct fresh_case const *c = &fresh_cases[i] ;
    tap_ok(relaywindow_fresh(c->ts, c->now, c->window) == c->fresh, c->why) ;
  }
  for (i = 0 ; i < sizeof age_cases / sizeof age_cases[0] ; i++)
  {
    struct age_case const *c = &age_cases[i] ;
    tap_ok(relaywindow_age(c->ts, c->now) == c->age, c->why) ;
  }
  /* the cutoff store_delete_older() is given is the oldest entry that
     counts: what counts is never removed, what is removed never counted */
  {
    static uint64_t const windows[] = { 0, 1, 60, 1800, 86400 } ;
    for (i = 0 ; i < sizeof windows / sizeof windows[0] ; i++)
    {
      uint64_t w = windows[i], cut = relaywindow_cutoff(NOW, w) ;
      snprintf(name, sizeof name, "window %lu s: the cutoff counts, the second before it does not",
        (unsigned long)w) ;
      tap_ok(relaywindow_fresh(cut, NOW, w) && !relaywindow_fresh(cut - 1, NOW, w), name) ;
    }
  }
  tap_ok(relaywindow_cutoff(100, 1800) == 0, "a cutoff before the epoch is 0, not a wrapped value") ;
  return tap_done() ;
}
