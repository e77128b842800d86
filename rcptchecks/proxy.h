/* proxy: the conversation between the client (fds 0 and 1) and the
 * child SMTP server (two pipes), as rcptchecks relays it.
 *
 * Client lines are read as commands, and only the commands of smtp.h's
 * allow-list reach the child: RCPT goes through check.h first, MAIL's
 * path and parameters are checked (rcptaddr_mailfrom8, smtp_params_ok),
 * VRFY is answered 252 here (no harvesting through any server),
 * STARTTLS and BDAT 502 (neither can pass a line proxy), every other
 * verb 502; the rest goes to the child with a CRLF line end. Only the
 * extensions the proxy understands are kept in EHLO answers
 * (smtp_ehlo_keep: EXT_DEFAULT and SMTPUTF8, the latter exactly when
 * the server offers it): no parameter of another reaches the child.
 * A MAIL that declares SMTPUTF8 (passed on) makes the transaction's
 * UTF-8 addresses acceptable (rcptaddr.h); RSET, HELO, EHLO, the end
 * of the data and a refused MAIL end it.
 *
 * Commands go to the child one at a time, but for the groups RFC 2920
 * allows (MAIL, RCPT and RSET may be followed before their answers when
 * the server offered PIPELINING): the next command is read only once the
 * child has answered every other, so a reply that answers nothing shows
 * at once. A reply nobody asked for, a second one where one was owed
 * (inside a group: the answers it shifts stop fitting), a malformed one or one of the wrong kind (354 to anything
 * but DATA, 3xx after the data) means the proxy and the server no
 * longer agree on where the session stands: the client is told 421 and
 * the session ends. The server's own 421, or a 4xx it sends unasked,
 * is its last word: passed on, then the end. Answers go back strictly
 * in command order, each no earlier than its tarpit delay, so
 * pipelining clients see what they expect.
 *
 * After DATA, AUTH, EHLO and HELO the proxy reads no further command
 * until the child's answer has been passed on: a 354 starts the data
 * phase (bytes relayed as they are until CRLF.CRLF, see smtp.h for the
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
#ifndef RCPTCHECKS_PROXY_H
#define RCPTCHECKS_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include "check.h"

/* The longest command line the proxy takes (line end not counted), for
   every command including AUTH answers (RFC 4954 allows 12288 bytes):
   below exim's command buffer (16384 bytes), past which exim takes the
   rest of a line for a second command. */
#define PROXY_LINE_MAX 12288

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

/* Runs the session until its end; returns why it ended, one word for
   the log ("quit", "client-eof", "timeout", "child-died", ...). The
   caller then ends the child. */
extern char const *proxy_run (proxy_conf const *conf, int fromchild, int tochild, proxy_stats *st) ;

#endif
