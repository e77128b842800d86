/* tap: numbered results and a trailing plan, so tests need no count. */
#include "tap.h"

#include <stdio.h>

static unsigned int count = 0, failed = 0 ;

int tap_ok (int cond, char const *name)
{
  count++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s\n", cond ? "" : "not ", count, name) ;
  fflush(stdout) ;
  return cond ;
}

int tap_done (void)
{
  printf("1..%u\n", count) ;
  return failed ? 1 : 0 ;
}
