/* relay: the session between the client (fds 0 and 1, in clear or in
 * TLS) and the child (the rest of the chain, on two pipes), as smtp-tls
 * relays it.
 *
 * smtp-tls reads the conversation the way rcptchecks does (mx_smtp.h):
 * a client line goes to the child, and the next is read once the child
 * has answered, but for the groups RFC 2920 allows (MAIL, RCPT and RSET
 * may be followed before their answers when the server offered
 * PIPELINING); its own answers (STARTTLS, BDAT, line too long) wait for every
 * answer owed before them; a 354 starts the data phase
 * (bytes relayed to CRLF.CRLF; a bare LF next to the final dot ends the
 * session with 421, as rcptchecks does), a 334 makes the next line an
 * AUTH answer. A reply nobody asked for, or one that does not fit its
 * command, ends the session with 421, but a 4xx, the server's last word,
 * which is passed on.
 *
 * Only the extensions the proxy can follow are kept in EHLO answers
 * (smtp_ehlo_filter's allow-list: no CHUNKING, whose chunks it would read
 * as commands, no PRDR); BDAT is answered 502 here.
 * STARTTLS (RFC 3207) is the proxy's own: the server's STARTTLS line is
 * removed from every EHLO answer, and before TLS, when a certificate is
 * loaded, "250-STARTTLS" is added to it (not to HELO's). The command
 * gets 220 2.0.0 and the handshake, or 501 with an argument, 503 inside
 * a transaction or once in TLS, 502 without a certificate; it never
 * reaches the server. Whatever the client sent after STARTTLS in clear
 * is discarded (CVE-2011-0411): counted, never delivered. In implicit
 * mode the handshake comes first and STARTTLS is never offered.
 * Bounds: lines of 12288 bytes, buffers of 64 KiB each way, the
 * handshake's deadline, the idle time (no byte from the client while
 * nothing is owed to it, or from the server while an answer is).
 */
#ifndef SMTPTLS_RELAY_H
#define SMTPTLS_RELAY_H

#include <stddef.h>

typedef struct relay_conf_s relay_conf ;
struct relay_conf_s
{
  int tls_ok ;                 /* a certificate is loaded */
  int implicit ;               /* TLS from the first byte (SMTPS) */
  unsigned int handshake_ms ;
  unsigned int idle_ms ;
} ;

typedef struct relay_stats_s relay_stats ;
struct relay_stats_s
{
  int tls ;                    /* the handshake completed */
  unsigned long long injected ;  /* bytes sent in clear after STARTTLS, dropped */
  char err[256] ;              /* why a handshake failed */
} ;

/* Runs the session; returns why it ended, one word for the log. */
extern char const *relay_run (relay_conf const *conf, int fromchild, int tochild, relay_stats *st) ;

#endif
