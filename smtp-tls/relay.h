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
 * One line may go to the child before its greeting (a client that talks
 * first), so that a link behind that judges early talkers sees it.
 *
 * Only the extensions the proxy can follow are kept in EHLO answers
 * (smtp_ehlo_keep's allow-list: no CHUNKING, whose chunks it would read
 * as commands, no PRDR; SMTPUTF8 is kept, since smtp-tls reads no
 * address and passes UTF-8 through as it comes); BDAT is answered 502
 * here.
 * STARTTLS (RFC 3207) is the proxy's own: the server's STARTTLS line is
 * removed from every EHLO answer, and before TLS, when a certificate is
 * loaded, "250-STARTTLS" is added to it (not to HELO's). The command
 * (and "STARTTLS" with blanks after it: smtp_starttls_line) gets 220
 * 2.0.0 and the handshake, or 501 with an argument (any other line
 * that starts with STARTTLS), 503 inside a transaction, after a
 * successful AUTH or once in TLS, 502 without a certificate; no
 * STARTTLS-like line ever reaches the server. It is taken only when
 * nothing is owed and nothing unasked came from the child. Whatever the
 * client sent after STARTTLS in clear is discarded (CVE-2011-0411):
 * counted, never delivered; whatever the child sends while TLS starts
 * answers nothing: the session ends with 421 inside TLS, and not a byte
 * of it crosses into TLS.
 *
 * The session starts over in TLS (RFC 3207 4.2), but the child cannot
 * be told to forget: it saw the EHLO in clear (and, without -a, maybe an
 * AUTH that failed: one that succeeded makes STARTTLS 503, so no
 * authentication made in clear is ever carried into TLS). So until a new
 * EHLO or HELO is answered 250 inside TLS, MAIL, RCPT, DATA, AUTH and
 * BDAT get 503 5.5.1 from smtp-tls and never reach the child. That EHLO
 * replaces the clear one in the child: qmail-smtpd's smtp_ehlo and
 * smtp_helo reset the transaction (seenmail = 0) and take the new name
 * (dohelo), exim resets its transaction and HELO data on every
 * EHLO/HELO; there was no transaction to reset (STARTTLS is refused
 * inside one).
 * With auth_tls_only (-a), AUTH is offered and taken in TLS only: the
 * AUTH lines are removed from EHLO answers in clear, and AUTH in clear
 * gets 538 5.7.11 (RFC 4954) without reaching the child.
 * In implicit mode the handshake comes first (relay_handshake, before
 * the child is started) and STARTTLS is never offered.
 *
 * In TLS, a message gets at the head of its data, when the child's 354
 * comes, one trace field (RFC 5321 4.4, RFC 8314 4.3's tls clause):
 *   Received: from HELO ([IP])
 *   	by LOCAL (smtp-tls) with ESMTPS tls TLS_AES_256_GCM_SHA384;
 *   	Mon, 07 Dec 2026 01:37:46 +0000
 * (ESMTPSA after an AUTH, RFC 3848; HELO the name of the last EHLO or
 * HELO answered 250, its first word, bytes other than [A-Za-z0-9.-_:]
 * as '?', cut to 128; "IPv6:" before an IPv6 address). The rest of the
 * data is relayed byte for byte.
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
  int auth_tls_only ;          /* AUTH offered and taken in TLS only */
  char const *local_name ;     /* "by" in the trace field (made safe; "localhost" if none) */
  char const *client_ip ;      /* the client's address, or 0 (the trace field's literal) */
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

/* Implicit TLS: the handshake on fds 0 and 1, before the child is
   started, bounded by handshake_ms. Returns 0 once TLS is up, or why it
   failed (the relay_run words; st->err says more). */
extern char const *relay_handshake (relay_conf const *conf, relay_stats *st) ;

/* Runs the session (after relay_handshake in implicit mode); returns
   why it ended, one word for the log. */
extern char const *relay_run (relay_conf const *conf, int fromchild, int tochild, relay_stats *st) ;

#endif
