/* mx_secs: see mx_secs.h. */
#include "mx_secs.h"

#include <time.h>

#include <skalibs/types.h>

int mx_secs_scan (char const *s, unsigned int max_ms, unsigned int *ms)
{
  unsigned int whole = 0, frac = 0, scale = 1000 ;
  size_t n = uint_scan(s, &whole) ;
  if (!n || whole > max_ms / 1000) return 0 ;
  s += n ;
  if (*s == '.')
  {
    s++ ;
    if (!*s) return 0 ;
    for (; *s >= '0' && *s <= '9' ; s++)
    {
      if (scale == 1) return 0 ;   /* a fourth decimal */
      scale /= 10 ;
      frac += (unsigned int)(*s - '0') * scale ;
    }
  }
  if (*s) return 0 ;
  *ms = whole * 1000 + frac ;
  return *ms <= max_ms ;
}

void mx_secs_fmt (char *out, unsigned int ms)
{
  size_t n = uint_fmt(out, ms / 1000) ;
  out[n++] = '.' ;
  out[n++] = '0' + (ms / 100) % 10 ;
  out[n++] = '0' + (ms / 10) % 10 ;
  out[n++] = '0' + ms % 10 ;
  out[n] = 0 ;
}

long long mx_now_ms (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_MONOTONIC, &ts) ;
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 ;
}
