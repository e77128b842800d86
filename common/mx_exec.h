/* mx_exec: the last step of every chain link. */
#ifndef MX_EXEC_H
#define MX_EXEC_H

#include <stddef.h>
#include <skalibs/gccattributes.h>

/* Execs argv[0] (PATH search) with the environment changed by modif:
   modiflen bytes of "VAR=value\0" (set) and "VAR\0" (unset) items, as
   skalibs' mexec takes them. On failure: fatal message, exit 111. */
extern void mx_exec (char const *const *argv, char const *modif, size_t modiflen) gccattr_noreturn ;

#endif
