/* check: rcptchecks' decision on one RCPT command.
 *
 * The argument is read by the strict grammar of rcptaddr.h: anything
 * outside it is refused with 501 5.1.3 and never reaches the child, and
 * so are MAIL/RCPT parameters of extensions not offered (555 5.5.4,
 * smtp_params_ok). 8-bit bytes that are not UTF-8 get 501 5.1.3, a UTF-8
 * address in a transaction that did not declare SMTPUTF8 553 5.6.7 (RFC
 * 6531 3.7.4.1); neither reaches the child. Then, by form:
 *   local@domain   a domain the source does not list as local is the
 *                  child's business (passed on); at a local domain the
 *                  keys are looked up in order (exact, extension
 *                  defaults, user, catch-all)
 *   local@[lit]    checked as local@L, where L (-L) is the name the
 *                  server gives its own address literals (qmail-smtpd's
 *                  control/localiphost); refused without -L
 *   local          checked as local@Q, where Q (-q) is the name the
 *                  server appends (qmail's control/envnoathost, exim's
 *                  qualify_recipient); refused without -q
 *   postmaster     passed on unchecked (RFC 5321 4.5.1)
 * L and Q count as local whatever the source says. A key found and the
 * command goes to the child; none and it is refused with 550 5.1.1; a
 * failed lookup answers 451 4.3.0 (never a 5xx, never a pass).
 * With rblenv's late verdict (RBLLATE, not empty, and not lifted by an
 * OK of the sender access list for this transaction: envelope.h) every RCPT is refused
 * with its text (451, or 553 when it starts with "-") except postmaster
 * and abuse at a local domain, which are checked as usual, and a bare
 * "postmaster".
 * A known recipient then meets greylisting when it is on (greylist.h):
 * a deferral is 451 4.7.1 (result=greylisted), and the line of every
 * recipient it was asked about ends with greylist=WORD.
 * Every answer gets the tarpit's delay (tarpit.h). In a dry run nothing
 * is refused or delayed; what would have been is logged.
 */
#ifndef RCPTCHECKS_CHECK_H
#define RCPTCHECKS_CHECK_H

#include <stddef.h>
#include "envelope.h"
#include "source.h"
#include "tarpit.h"

/* consecutive failed lookups after which a session is closed: each may
   have cost a connect timeout */
#define CHECK_MAX_FAILURES 5
#define CHECK_REPLYMAX 512   /* one reply line */
#define CHECK_REPLYROOM (2 * CHECK_REPLYMAX)   /* room for a reply and a 421 */

typedef struct check_s check ;
struct check_s
{
  source *src ;
  tarpit tp ;
  char delimiter ;
  char const *rbllate ;        /* 0 or the refusal text */
  char const *qualify ;        /* Q above, or 0 */
  char const *literal ;        /* L above, or 0 */
  int dryrun ;
  char const *ip ;             /* for log lines */
  envelope *env ;              /* helo= and from= for log lines; its sender OK lifts rbllate */
  /* -E greylist: the check for known recipients (greylist_rcpt and its
     greylist, greylist.h), or 0; called through the pointer so that
     whoever links check.o without greylisting links no store */
  int (*greyrcpt) (void *, envelope const *, char const *, char *, size_t *, char const **) ;
  void *grey ;
  int greywarn ;               /* -W greylist */
  char const *greyword ;       /* greylist= of the next log line, or 0 */
  unsigned int failures ;      /* lookups failed in a row */
  /* counted for the session's log line */
  unsigned int rcpts, forwarded, unknown, refused, tempfail ;
} ;

enum check_verdict { CHECK_FORWARD, CHECK_REFUSE, CHECK_CLOSE } ;

/* Decides on "RCPT <arg>" (len bytes: what follows "RCPT "), offered
   the EXT_ bits of the extensions the client was offered (mx_smtp.h), utf8
   whether the transaction's MAIL declared SMTPUTF8. FORWARD: pass the command to
   the child. REFUSE: answer with reply instead (replylen bytes of
   CRLF-terminated lines; reply has room for CHECK_REPLYROOM). CLOSE:
   answer with reply, then end the session. In every case *delay is how
   long the answer must wait (ms). */
extern enum check_verdict check_rcpt (check *c, char const *arg, size_t len, unsigned int offered, int utf8, char *reply, size_t *replylen, unsigned int *delay) ;

#endif
