/* session: smtp-tls's engine, on bytes only: what the client sent (in
 * clear, TLS already removed) and what the child (the rest of the
 * chain) answered come in through two queues, and what each is to get
 * goes out through two more; the I/O loop (io.h) moves the bytes, runs
 * the handshake and times the waits. No descriptor here, so that whole
 * conversations can be fuzzed (fuzz/starttls-fuzz.c).
 *
 * The engine follows SMTP only as far as smtp-tls must, then hands the
 * session to a byte relay (mx_relay.h). In clear, it follows until the
 * client's first MAIL, which is passed on with every byte after it: a
 * client that sends mail in clear has chosen clear (STARTTLS is refused
 * inside a transaction), and what smtp-tls still promises after that
 * point needs no reading of the conversation (smtp-tls.8). It follows
 * to the end with auth_tls_only (-a), where AUTH in clear is refused
 * whenever it comes, and inside TLS, where each message gets a trace
 * field at the head of its data: where that is, only one that tells
 * commands from message bytes and pairs each reply with its command
 * knows (a client may send its message right behind DATA, before the
 * 354).
 *
 * While it follows: a client line goes to the child, and the next is
 * read once the child has answered, but for the groups RFC 2920 allows
 * (MAIL, RCPT and RSET may be followed before their answers when the
 * server offered PIPELINING); its own answers wait for every answer
 * owed before them; a 354 starts the data phase (relayed to CRLF.CRLF;
 * a bare LF next to the final dot ends the session with 421), a 334
 * makes the next line an AUTH answer. A reply nobody asked for, or one
 * that does not fit its command, ends the session with 421, but a 4xx,
 * the server's last word, which is passed on. One line may go to the
 * child before its greeting (a client that talks first), so that a
 * link behind that judges early talkers sees it. In the EHLO answers it
 * reads, only the extensions it can follow are kept (smtp_ehlo_keep: no
 * CHUNKING, whose chunks it would read as commands, no PRDR, whose
 * replies it would not expect; SMTPUTF8 kept), and BDAT is answered
 * 502 here.
 *
 * STARTTLS (RFC 3207) is smtp-tls's own: the server's STARTTLS line is
 * removed from every EHLO answer the engine reads, and before TLS, when
 * a certificate can be read, "250-STARTTLS" is added to it (not to
 * HELO's). STARTTLS (and "STARTTLS" with blanks after it) gets 220
 * 2.0.0 and the handshake (454 4.7.0 if tls_ready fails), or 501 with an argument (any other line that
 * starts with STARTTLS), 503 inside a transaction, after a successful
 * AUTH or once in TLS, 502 without a certificate; no STARTTLS-like line
 * reaches the server while the engine follows. It is taken only when
 * nothing is owed and nothing unasked came from the child. What the
 * client sent after STARTTLS in clear is discarded (CVE-2011-0411);
 * whatever the child sends while TLS starts answers nothing: 421 inside
 * TLS, and not a byte of it crosses into TLS.
 *
 * The session starts over in TLS, but the child cannot be told to
 * forget what it was told in clear: until a new EHLO or HELO is
 * answered 250 inside TLS, MAIL, RCPT, DATA, AUTH and BDAT get 503
 * 5.5.1 here. With auth_tls_only, the AUTH lines are removed from EHLO
 * answers in clear, and AUTH in clear gets 538 5.7.11 (RFC 4954).
 *
 * Inside TLS, a message gets at the head of its data, when the child's
 * 354 comes, one trace field (RFC 5321 4.4, RFC 8314 4.3's tls clause):
 *   Received: from HELO ([IP])
 *   	by LOCAL (smtp-tls) with ESMTPS tls TLS_AES_256_GCM_SHA384;
 *   	Mon, 07 Dec 2026 01:37:46 +0000
 * (ESMTPSA after an AUTH, RFC 3848; HELO the name of the last EHLO or
 * HELO answered 250, its first word, bytes other than [A-Za-z0-9.-_:]
 * as '?', cut to 128; "IPv6:" before an IPv6 address). Once it relays,
 * the engine reads only the server's reply codes (session_watch): a 221
 * (the answer to QUIT) ends the server's input, and the session is a
 * "quit".
 * Bounds: lines of 12288 bytes, queues of 64 KiB each way.
 */
#ifndef SMTPTLS_SESSION_H
#define SMTPTLS_SESSION_H

#include <stddef.h>
#include "mx_fifo.h"

typedef struct session_conf_s session_conf ;
struct session_conf_s
{
  int tls_ok ;                 /* the certificate and key can be read */
  /* at STARTTLS, before its 220: makes TLS ready (loads OpenSSL, the
     certificate and key); 0: STARTTLS gets 454, and is no longer
     offered */
  int (*tls_ready) (void) ;
  int implicit ;               /* TLS from the first byte (SMTPS) */
  int auth_tls_only ;          /* AUTH offered and taken in TLS only */
  char const *local_name ;     /* "by" in the trace field (made safe; "localhost" if none) */
  char const *client_ip ;      /* the client's address, or 0 (the trace field's literal) */
} ;

/* the queues: from the client (in clear), for the client, from the
   child, for the child */
extern mx_fifo session_cin, session_cout, session_kin, session_kout ;

enum session_phase
{
  SESSION_FOLLOW,      /* the engine reads the conversation */
  SESSION_STARTING,    /* 220 to STARTTLS on its way: the handshake starts once session_cout is empty */
  SESSION_HANDSHAKE,   /* the I/O loop runs it: session_tls_up when it is over */
  SESSION_RELAY,       /* bytes only; mx_relay_run may take over once session_cin and session_kin are empty */
  SESSION_DONE         /* session_result says why; what is in session_cout is still to be sent */
} ;

/* Starts a session (every state reset). */
extern void session_start (session_conf const *conf) ;

/* Handles what the queues hold, as far as there is room. */
extern void session_run (void) ;

extern enum session_phase session_phase (void) ;

/* The client's input ended; the child's did. */
extern void session_client_eof (void) ;
extern void session_child_eof (void) ;

/* SESSION_STARTING is over: the I/O loop begins the handshake. */
extern void session_handshake (void) ;

/* TLS is up (after session_handshake, or at once in implicit mode);
   cipher is its IANA name, for the trace field. */
extern void session_tls_up (char const *cipher) ;

/* The session ends with reply (0: none) for the client, and why. */
extern void session_end (char const *reply, char const *why) ;

/* An answer is owed by the child (the idle time is then the child's). */
extern int session_owes (void) ;

/* QUIT went to the child: its input may be closed. */
extern int session_quit_sent (void) ;

/* Why the session ended (one word for the log), or 0. */
extern char const *session_result (void) ;

/* Bytes sent in clear after STARTTLS, dropped. */
extern unsigned long long session_injected (void) ;

/* The relay's watch (mx_relay_watch): the server's bytes on their way
   to the client, for session_relay_end; after a 221 (the answer to
   QUIT), MX_RELAY_LAST_WORD. */
extern int session_watch (void *ctx, char const *s, size_t n, mx_fifo *up) ;

/* The word for the end of the relay, after session_watch has seen the
   server's bytes. */
extern char const *session_relay_end (int server_closed) ;

#endif
