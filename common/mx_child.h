/* mx_child: the end of a proxy's child (the SMTP server it runs on
 * pipes). */
#ifndef MX_CHILD_H
#define MX_CHILD_H

#include <sys/types.h>

/* Runs argv (argv[0] searched in PATH, as execvp does) with its fd 0
   and fd 1 on two new pipes: fds[0] reads what it writes, fds[1] writes
   what it reads (both close-on-exec, blocking). vfork and execvp, no
   more: the caller must have no signal handler installed (the child
   shares its memory until the exec). Returns the pid, or 0 with errno
   set when the pipes cannot be made or argv[0] cannot be executed. */
extern pid_t mx_child_spawn (char const *const *argv, int fds[2]) ;

/* Waits for the child pid, reading (and dropping) what it still writes
   on fromchild (or -1) so that it never blocks on a full pipe; after 10
   seconds SIGTERM, 2 seconds later SIGKILL. Returns its wait status. */
extern int mx_child_end (pid_t pid, int fromchild) ;

#endif
