/* verbs: rcptchecks' table of SMTP verbs, one row per verb of
 * mx_smtp.h's allow-list (in the manner of Postfix postscreen's command
 * table). The engine (engine.h) reads a command line, finds its row,
 * and calls the row's handler, if any, which says one of two things:
 *
 *   VERB_ACT_PASS   pass the line on to the server; the row's flags say
 *                   how: V_GROUP (part of a pipelined group, RFC 2920:
 *                   the next command may follow before the answer when
 *                   the server offered PIPELINING), V_HOLD (no further
 *                   command is read until the answer has been passed
 *                   on), V_LAST (the server's input ends after it),
 *                   V_LONG (its line may have PROXY_LINE_MAX bytes
 *                   whatever -l says), and its owed field what the
 *                   server's answer answers;
 *   VERB_ACT_LOCAL  answer here with text (textlen bytes, CRLF-ended
 *                   lines), never passed on; close set: the session
 *                   ends after it with that result word.
 * In both cases delay (ms, from the tarpit) is how long the answer
 * waits. A row without a handler always passes on.
 *
 * The table: RCPT (check.h; a trusted client's only for what no server
 * may be given, RFC 6531), MAIL (rcptaddr_mailfrom8 parses the path once,
 * smtp_params_ok the parameters, then envelope_mail's stage; a second
 * MAIL inside a transaction gets 503), RSET (V_GROUP), DATA, AUTH (and
 * V_LONG: RFC 4954 allows 12288 bytes), QUIT
 * (V_HOLD), EHLO and HELO (V_HOLD: what the answer offers decides what
 * follows; envelope_helo remembers the name), NOOP and HELP (passed on),
 * VRFY (252 here: no harvesting through any server), STARTTLS and BDAT
 * (502: neither can pass a line proxy) and every verb off the list
 * (502). A new check of a verb is a change of its row, never a new case
 * in the engine; the checks of the command stream as such
 * (pipelining, non-SMTP commands) are rows of envelope.h's command stage.
 */
#ifndef RCPTCHECKS_VERBS_H
#define RCPTCHECKS_VERBS_H

#include <stddef.h>
#include "check.h"
#include "envelope.h"
#include "mx_smtp.h"

/* what an answer owed to the client answers */
enum owed { O_LOCAL, O_GREETING, O_OTHER, O_MAIL, O_EHLO, O_HELO, O_DATA, O_DATAEND, O_AUTH, O_QUIT } ;

#define V_GROUP 0x01
#define V_HOLD 0x02
#define V_LAST 0x04
#define V_LONG 0x08

enum verb_act { VERB_ACT_PASS, VERB_ACT_LOCAL } ;

typedef struct verb_call_s verb_call ;
struct verb_call_s
{
  /* in */
  char const *line ;           /* the command, line end removed */
  size_t len ;
  size_t arg ;                 /* offset of the argument (smtp_verb) */
  check *chk ;
  envelope *env ;
  int trusted ;                /* RELAYCLIENT or a successful AUTH */
  unsigned int offered ;       /* EXT_ bits of the last EHLO answer */
  /* out */
  char const *text ;           /* VERB_ACT_LOCAL: the answer */
  size_t textlen ;
  char const *close ;          /* VERB_ACT_LOCAL: end with this result, or 0 */
  unsigned int delay ;         /* ms */
  char reply[CHECK_REPLYROOM] ;   /* room for a text made up here */
} ;

typedef struct verb_row_s verb_row ;
struct verb_row_s
{
  enum smtp_verb verb ;
  enum verb_act (*handler) (verb_call *) ;
  unsigned char flags ;        /* V_ */
  unsigned char owed ;         /* enum owed, when passed on */
} ;

/* one row per enum smtp_verb, at its index */
extern verb_row const verbs[] ;
extern unsigned int const verbs_n ;

#endif
