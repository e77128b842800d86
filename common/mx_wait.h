/* mx_wait: the one wait of the programs that wait on a single fd:
   until it is ready or a deadline on mx_now_ms's clock (mx_secs.h)
   has passed. */
#ifndef MX_WAIT_H
#define MX_WAIT_H

/* Waits until fd is ready for events (POLLIN, POLLOUT: poll.h), or has
   hung up or failed (the read or write that follows says which), or
   until deadline (milliseconds of mx_now_ms). A deadline already past
   still looks once: what is ready now is ready. An interrupted poll is
   resumed with what is left. Returns 1 ready, 0 the deadline passed
   first, -1 poll failed (errno set). */
extern int mx_wait (int fd, short events, long long deadline) ;

/* mx_wait for input (or the end of it) on fd. */
extern int mx_wait_readable (int fd, long long deadline) ;

#endif
