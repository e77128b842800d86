/* tap: the least TAP a C unit test needs, for prove. */
#ifndef MX_TAP_H
#define MX_TAP_H

/* Prints "ok N - name" or "not ok N - name"; returns cond. */
extern int tap_ok (int cond, char const *name) ;
/* Prints the plan ("1..N") and returns the exit code: 0 if all passed. */
extern int tap_done (void) ;

#endif
