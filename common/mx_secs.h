/* mx_secs: durations as admins write them: seconds, with up to three
   decimals ("12", "0.5", "2.250"). */
#ifndef MX_SECS_H
#define MX_SECS_H

/* Scans all of s into *ms (milliseconds). Returns 1, or 0 if s is not
   of that form or is above max_ms. */
extern int mx_secs_scan (char const *s, unsigned int max_ms, unsigned int *ms) ;

/* Writes ms as seconds with three decimals ("1.500") and a NUL into
   out, which has room for MX_SECS_FMT bytes. */
#define MX_SECS_FMT 16
extern void mx_secs_fmt (char *out, unsigned int ms) ;

/* The monotonic clock in milliseconds: every deadline of the programs
   is taken from it. */
extern long long mx_now_ms (void) ;

#endif
