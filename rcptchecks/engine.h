/* engine: the conversation between the client and the child SMTP
 * server, as rcptchecks relays it, on bytes in and bytes out: the
 * caller (proxy.h: the poll loop and the file descriptors) fills in and
 * fromchild and empties out and tochild, and tells the engine what
 * happened (engine_client_*, engine_child_*); the engine reads and
 * writes no file descriptor and knows the time only as it is told.
 *
 * Client lines are read as commands, and only the commands of mx_smtp.h's
 * allow-list reach the child: each verb's row in verbs.h's table says
 * whether its line is passed on (alone or as part of a pipelined
 * group) or answered here (with a delay, and whether the session then
 * ends); the command stage of envelope.h judges the stream itself
 * (pipelining, non-SMTP commands). What is passed on goes to the child
 * with a CRLF line end. Only the
 * extensions the proxy understands are kept in EHLO answers
 * (smtp_ehlo_keep: EXT_DEFAULT and SMTPUTF8, the latter exactly when
 * the server offers it): no parameter of another reaches the child.
 * A MAIL that declares SMTPUTF8 (passed on) makes the transaction's
 * UTF-8 addresses acceptable (rcptaddr.h); RSET, HELO, EHLO, the end
 * of the data and a refused MAIL end it (after the data a MAIL without
 * RSET opens a new transaction, checked as the first). A refused EHLO leaves no
 * extension offered (nor does HELO): no ESMTP parameter then passes.
 *
 * Commands go to the child one at a time, but for the groups RFC 2920
 * allows (MAIL, RCPT and RSET may be followed before their answers when
 * the server offered PIPELINING): the next command is read only once the
 * child has answered every other, so a reply that answers nothing shows
 * at once. A reply nobody asked for, a second one where one was owed
 * (inside a group: the answers it shifts stop fitting), a malformed one
 * or one of the wrong kind (354 to anything
 * but DATA, 3xx after the data) means the proxy and the server no
 * longer agree on where the session stands: the client is told 421 and
 * the session ends. The server's own 421, or a 4xx it sends unasked,
 * is its last word: passed on, then the end. Answers go back strictly
 * in command order, each no earlier than its tarpit delay, so
 * pipelining clients see what they expect.
 *
 * After DATA, AUTH, EHLO and HELO the proxy reads no further command
 * until the child's answer has been passed on: a 354 starts the data
 * phase (the transaction's Received-SPF field first, spf.h, given the
 * child once; then the client's bytes relayed as they are until
 * CRLF.CRLF, see mx_smtp.h for the
 * bare-LF forms it refuses), a 334 makes the next line an AUTH answer, a
 * 235 trusts the client. A trusted client (235, or relay in the conf:
 * RELAYCLIENT) meets no recipient or envelope check (its MAIL and RCPT
 * go to the server as written, the pipelining and non-SMTP checks are
 * off), but its lines are still read as commands: the allow-list, the
 * EHLO filter, the line bounds and the data-phase rules hold for it as
 * for anyone, so that no XCLIENT, XFORWARD or other verb off the list
 * reaches a server that would trust this host's word for it.
 * Bounds: command lines (linemax, at most PROXY_LINE_MAX; AUTH lines
 * PROXY_LINE_MAX), decided before any room is asked for; buffers of
 * 64 KiB each way, 128 answers owed, idle time (no byte from the
 * client while nothing is owed to it, or no answer from the child).
 */
#ifndef RCPTCHECKS_ENGINE_H
#define RCPTCHECKS_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "check.h"
#include "mx_fifo.h"
#include "mx_smtp.h"

/* The longest command line the proxy takes (line end not counted), for
   every command including AUTH answers (RFC 4954 allows 12288 bytes):
   below exim's command buffer (16384 bytes), past which exim takes the
   rest of a line for a second command. */
#define PROXY_LINE_MAX 12288

#define ENGINE_BUFSZ 65536
#define ENGINE_QMAX 128
#define ENGINE_TEXTSZ 16384

typedef struct proxy_conf_s proxy_conf ;
struct proxy_conf_s
{
  check *chk ;
  int relay ;                  /* RELAYCLIENT: trusted from the start (chk is not asked) */
  size_t linemax ;             /* longest command line, CRLF excluded */
  unsigned int idle_ms ;
} ;

typedef struct proxy_stats_s proxy_stats ;
struct proxy_stats_s
{
  unsigned int messages ;      /* messages the child accepted (2xx after data) */
  uint64_t databytes ;         /* message bytes relayed */
  int trusted ;                /* the client authenticated */
} ;

/* where client input stands */
enum engine_mode
{
  M_COMMAND,      /* lines are commands */
  M_HELD,         /* waiting for the child's answer to a V_HOLD command (verbs.h) */
  M_AUTHLINE,     /* the next line answers the child's 334 */
  M_DATA,         /* message bytes */
  M_DONE          /* nothing more is read */
} ;

typedef struct engine_answer_s engine_answer ;
struct engine_answer_s
{
  long long ready ;            /* not before (ms) */
  unsigned short len ;         /* O_LOCAL: bytes of text in the text fifo */
  unsigned char what ;         /* enum owed (verbs.h) */
  char const *close ;          /* O_LOCAL: end the session with this result */
} ;

typedef struct engine_s engine ;
struct engine_s
{
  /* the caller's side */
  mx_fifo in ;                 /* from the client, not yet handled */
  mx_fifo tochild ;            /* for the child */
  mx_fifo fromchild ;          /* from the child, not yet answered */
  mx_fifo out ;                /* for the client */
  /* the engine's own */
  mx_fifo text ;               /* local answers' texts */
  proxy_conf const *conf ;
  envelope *env ;
  proxy_stats *stats ;
  engine_answer queue[ENGINE_QMAX] ;
  unsigned int qhead, qlen ;
  unsigned int mode ;          /* enum engine_mode */
  datascan scan ;
  int skipping ;               /* discarding the rest of an overlong line */
  int client_eof, child_eof, childin_closed ;
  int quit_sent ;              /* QUIT forwarded: the child's input ends after it */
  int may_follow ;             /* the last command given the child was part of a pipelined group */
  int trusted ;                /* RELAYCLIENT or a successful AUTH */
  char const *result ;         /* set: the session is ending */
  long long now, last_activity, last_ready, last_child, client_gone_at ;
  unsigned int offered ;       /* EXT_ bits of the last EHLO answer passed on */
  unsigned int last_code ;     /* of the last reply passed on */
  /* which child reply answers which command: counts since the start
     (engine.c) */
  unsigned long long forwarded, asked, heard, consumed, put_total, written_total, closing_at ;
  unsigned long long ends[ENGINE_QMAX + 2] ;
  unsigned int ends_head, ends_len ;
  size_t scanned ;             /* bytes of fromchild counted in heard */
  char inbuf[ENGINE_BUFSZ], childinbuf[ENGINE_BUFSZ], childoutbuf[ENGINE_BUFSZ], outbuf[ENGINE_BUFSZ], textbuf[ENGINE_TEXTSZ] ;
} ;

/* A new session at time now (ms): the greeting is owed. */
extern void engine_init (engine *e, proxy_conf const *c, proxy_stats *st, long long now) ;

/* Handles what the fifos hold at time now: commands read, lines and
   bytes for the child, answers for the client. */
extern void engine_run (engine *e, long long now) ;

/* What the caller may do now: read the client, read the child (the
   fifos have room and the session wants more), write to the child. */
extern int engine_wants_client (engine *e) ;
extern int engine_wants_child (engine *e) ;
extern int engine_has_for_child (engine const *e) ;
/* 1 once, when the child's input is to end now (after QUIT, or at the
   end of the session): the caller closes it. */
extern int engine_end_childin (engine *e) ;
/* The session's result once it is over and all is written, else 0. */
extern char const *engine_over (engine const *e) ;
/* Why the session is ending (0: it is not). */
extern char const *engine_result (engine const *e) ;
/* When the engine wants to be run again with no event (ms). */
extern long long engine_wake (engine *e) ;
/* Nothing happened until now: a delayed answer may be due, or an idle
   bound passed. Returns the result when the session is over, else 0. */
extern char const *engine_timeout (engine *e, long long now) ;

/* Events. */
extern void engine_client_read (engine *e, long long now) ;   /* bytes added to in */
extern void engine_client_eof (engine *e, long long now) ;
extern void engine_client_wrote (engine *e, long long now) ;  /* bytes taken from out */
extern void engine_client_gone (engine *e) ;                  /* out cannot be written */
extern void engine_child_wrote (engine *e, size_t n) ;        /* n bytes taken from tochild */
extern void engine_child_lost (engine *e) ;                   /* tochild cannot be written */
extern void engine_child_read (engine *e, long long now) ;    /* bytes added to fromchild */
extern void engine_child_eof (engine *e) ;

#endif
