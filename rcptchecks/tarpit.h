/* tarpit: how long each RCPT answer waits, and when a session has had
 * enough unknown recipients.
 *
 * With N free RCPTs, delay d, step u and limit M:
 *   - the first N RCPT commands of a session are not delayed for their
 *     number; every later one waits d;
 *   - the k-th unknown recipient waits k * u more (progressive);
 *   - once the session has had an unknown recipient, every other RCPT
 *     answer waits what the next unknown one would, (k + 1) * u: a known
 *     and an unknown address take the same time, so timing tells the
 *     client nothing the reply code does not;
 *   - the progressive part is capped at TARPIT_CAP_MS;
 *   - after M unknown recipients (M > 0) the session is over.
 */
#ifndef RCPTCHECKS_TARPIT_H
#define RCPTCHECKS_TARPIT_H

#define TARPIT_CAP_MS 60000

typedef struct tarpit_s tarpit ;
struct tarpit_s
{
  unsigned int free_rcpts ;    /* N */
  unsigned int delay_ms ;      /* d */
  unsigned int unknown_ms ;    /* u */
  unsigned int max_unknown ;   /* M, 0 for no limit */
  unsigned int rcpts ;         /* RCPT commands so far */
  unsigned int unknowns ;      /* unknown recipients so far */
} ;

/* Counts one RCPT command, unknown or not; returns its answer's delay
   in milliseconds. */
extern unsigned int tarpit_rcpt (tarpit *t, int unknown) ;

/* 1 once the session has had max_unknown unknown recipients. */
extern int tarpit_full (tarpit const *t) ;

#endif
