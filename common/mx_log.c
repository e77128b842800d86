/* mx_log: the pid in a log line is the session's, the one tcpserver
   logs: fixed at the first log line, or set by a helper process that
   logs on its parent's behalf. */
#include "mx_log.h"

#include <unistd.h>
#include <skalibs/types.h>

static char pidbuf[PID_FMT] ;

void mx_log_setpid (pid_t pid)
{
  pidbuf[pid_fmt(pidbuf, pid)] = 0 ;
}

char const *mx_pidstr (void)
{
  if (!pidbuf[0]) mx_log_setpid(getpid()) ;
  return pidbuf ;
}
