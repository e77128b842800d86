/* proxy: the conversation between the client (fds 0 and 1) and the
 * child SMTP server (two pipes), as rcptchecks relays it.
 *
 * Client lines are read as commands: RCPT goes through check.h first,
 * STARTTLS and BDAT are answered here (502: neither can pass a line
 * proxy), everything else goes to the child as it came, with a CRLF
 * line end. Answers go back strictly in command order, each no earlier
 * than its tarpit delay, so pipelining clients see what they expect.
 * After DATA, AUTH and each AUTH continuation the proxy reads no further
 * command until the child has answered: a 354 starts the data phase
 * (bytes relayed as they are until CRLF.CRLF, see smtp.h for the bare-LF
 * forms it refuses), a 334 makes the next line an AUTH answer, a 235
 * trusts the client: from then on bytes pass both ways unexamined.
 * STARTTLS, CHUNKING and BINARYMIME are removed from EHLO answers.
 * Bounds: command lines (linemax; AUTH lines 12288, RFC 4954), buffers
 * of 64 KiB each way, 128 answers owed, idle time (no byte from the
 * client while nothing is owed to it, or no answer from the child).
 */
#ifndef RCPTCHECKS_PROXY_H
#define RCPTCHECKS_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include "check.h"

typedef struct proxy_conf_s proxy_conf ;
struct proxy_conf_s
{
  check *chk ;
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
