/* relaywindow: is a relay entry within relaydb-check's window (see
   relaywindow.h). Pure: no clock, no store. */
#include "relaywindow.h"

uint64_t relaywindow_cutoff (uint64_t now, uint64_t window)
{
  return now > window ? now - window : 0 ;
}

int relaywindow_fresh (uint64_t ts, uint64_t now, uint64_t window)
{
  return ts >= relaywindow_cutoff(now, window) ;
}

uint64_t relaywindow_age (uint64_t ts, uint64_t now)
{
  return ts < now ? now - ts : 0 ;
}
