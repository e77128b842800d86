/* mx_exec: a link that cannot start the next program has failed
   temporarily (111), whatever errno says: the client gets another try. */
#include "mx_exec.h"

#include <skalibs/exec.h>
#include <skalibs/strerr.h>

void mx_exec (char const *const *argv, char const *modif, size_t modiflen)
{
  mexec_m(argv, modif, modiflen) ;
  strerr_dieexec(111, argv[0]) ;
}
