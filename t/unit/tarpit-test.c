/* tarpit-test: the tarpit's arithmetic, as rcptchecks-recipients.7 states it. */
#include <stdio.h>

#include "tap.h"
#include "tarpit.h"

int main (void)
{
  {
    tarpit t = { .free_rcpts = 2, .delay_ms = 500, .unknown_ms = 1000, .max_unknown = 3 } ;
    tap_ok(tarpit_rcpt(&t, 0) == 0, "first RCPT: no delay") ;
    tap_ok(tarpit_rcpt(&t, 0) == 0, "second RCPT: no delay") ;
    tap_ok(tarpit_rcpt(&t, 0) == 500, "third RCPT: delayed after N") ;
    tap_ok(tarpit_rcpt(&t, 1) == 500 + 1000, "first unknown: d + u") ;
    tap_ok(tarpit_rcpt(&t, 0) == 500 + 2000, "known after an unknown: as long as the next unknown") ;
    tap_ok(tarpit_rcpt(&t, 1) == 500 + 2000, "second unknown: d + 2u") ;
    tap_ok(!tarpit_full(&t), "2 of 3 unknown: not full") ;
    tap_ok(tarpit_rcpt(&t, 1) == 500 + 3000, "third unknown: d + 3u") ;
    tap_ok(tarpit_full(&t), "3 of 3 unknown: full") ;
  }
  {
    tarpit t = { .free_rcpts = 100, .delay_ms = 0, .unknown_ms = 30000, .max_unknown = 0 } ;
    unsigned int i, d = 0 ;
    for (i = 0 ; i < 10 ; i++) d = tarpit_rcpt(&t, 1) ;
    tap_ok(d == TARPIT_CAP_MS, "progressive delay capped") ;
    tap_ok(!tarpit_full(&t), "M = 0: never full") ;
  }
  {
    tarpit t = { .free_rcpts = 0, .delay_ms = 0, .unknown_ms = 0, .max_unknown = 1 } ;
    tap_ok(tarpit_rcpt(&t, 0) == 0 && tarpit_rcpt(&t, 1) == 0 && tarpit_full(&t), "all zero: no delay, M = 1 ends at once") ;
  }
  return tap_done() ;
}
