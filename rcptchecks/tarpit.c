/* tarpit: see tarpit.h. */
#include "tarpit.h"

static unsigned int steps (unsigned int k, unsigned int ms)
{
  unsigned long long d = (unsigned long long)k * ms ;
  return d > TARPIT_CAP_MS ? TARPIT_CAP_MS : (unsigned int)d ;
}

unsigned int tarpit_rcpt (tarpit *t, int unknown)
{
  unsigned int wait ;
  if (t->rcpts < ~0u) t->rcpts++ ;
  wait = t->rcpts > t->free_rcpts ? t->delay_ms : 0 ;
  if (unknown)
  {
    if (t->unknowns < ~0u) t->unknowns++ ;
    return wait + steps(t->unknowns, t->unknown_ms) ;
  }
  return wait + (t->unknowns ? steps(t->unknowns + 1, t->unknown_ms) : 0) ;
}

int tarpit_full (tarpit const *t)
{
  return t->max_unknown && t->unknowns >= t->max_unknown ;
}
