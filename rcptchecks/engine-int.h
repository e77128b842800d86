/* engine-int: what engine.c (the client's side) and answers.c (the
 * child's side) of rcptchecks' engine share; nothing else includes it.
 */
#ifndef RCPTCHECKS_ENGINE_INT_H
#define RCPTCHECKS_ENGINE_INT_H

#include "engine.h"
#include "verbs.h"

/* The session ends (why, unless it had ended already); nothing more is
   read from the client. */
extern void engine_finish (engine *e, char const *why) ;

/* A last word to the client, outside the queue (whatever was owed is
   not coming), then the end. */
extern void engine_last_word (engine *e, char const *reply, char const *why) ;

/* The proxy and the server no longer agree: 421, and the end. */
extern void engine_out_of_step (engine *e) ;

/* The client sent bytes before the answer to w, pipelining it may not:
   the command stage's refusal. Returns 1 if it refused. */
extern int engine_pipelining (engine *e, enum owed w) ;

/* New bytes from the child: counts its complete replies, and ends the
   session when one answers nothing (answers.c). */
extern void engine_child_replies (engine *e) ;

/* The data phase begins (the child said 354): the transaction's
   Received-SPF field (spf.h), if any, goes to the child ahead of the
   client's bytes, once. */
extern void engine_data_head (engine *e) ;

/* Gives the client every answer that is due, in order (answers.c). */
extern void engine_answers (engine *e) ;

#endif
