/* mx_log: one machine-greppable line per decision, on stderr.
 *
 *   prog: info: pid 123 ip 192.0.2.7 key=value ... result=...
 *
 * The program defines PROG (skalibs convention); callers pass the rest
 * as strings. Text that came from the network goes through mx_text_safe
 * first.
 */
#ifndef MX_LOG_H
#define MX_LOG_H

#include <sys/types.h>
#include <skalibs/strerr.h>

/* The pid shown in log lines: this process's, fixed at first use, so
   that a forked helper logs under the session's pid. */
extern char const *mx_pidstr (void) ;
/* Shows pid instead (a helper logging for the process that forked it). */
extern void mx_log_setpid (pid_t pid) ;

#define mx_info(ip, ...) \
  strerr_warn(PROG, ": info: pid ", mx_pidstr(), " ip ", (ip), " ", __VA_ARGS__)
#define mx_warn(ip, ...) \
  strerr_warn(PROG, ": warning: pid ", mx_pidstr(), " ip ", (ip), " ", __VA_ARGS__)

#endif
