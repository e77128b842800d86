/* mx_child: the end of a proxy's child (the SMTP server it runs on
 * pipes). */
#ifndef MX_CHILD_H
#define MX_CHILD_H

#include <sys/types.h>

/* Waits for the child pid, reading (and dropping) what it still writes
   on fromchild (or -1) so that it never blocks on a full pipe; after 10
   seconds SIGTERM, 2 seconds later SIGKILL. Returns its wait status. */
extern int mx_child_end (pid_t pid, int fromchild) ;

#endif
