/* tls: the server side of TLS on the client's connection (fds 0 and 1),
 * over OpenSSL 3, non-blocking: every call returns at once and says
 * what it waits for, so that one poll loop bounds every wait.
 *
 * OpenSSL is not linked: stls_load dlopen()s libssl.so.3 (and through
 * it libcrypto.so.3) and builds the context at the first STARTTLS or
 * the implicit handshake, so that a session in clear never maps it.
 *
 * TLS 1.2 and 1.3 only, OpenSSL's default ciphers (its secure level),
 * the server's cipher preference, no renegotiation, no session tickets
 * or cache (one process per connection: nothing to resume from).
 * The certificate chain and key are read at every stls_load, that is
 * for every connection that asks for TLS: a renewed certificate needs
 * no restart.
 */
#ifndef SMTPTLS_TLS_H
#define SMTPTLS_TLS_H

#include <stddef.h>
#include <sys/types.h>

/* what a call that could not finish waits for */
enum stls_want { STLS_DONE, STLS_WANT_READ, STLS_WANT_WRITE, STLS_FAILED, STLS_EOF } ;

/* Can the certificate (PEM chain) and key (PEM) be read? Checks only
   that both files are there and readable, without OpenSSL. 1, or 0 and
   a reason in err (errlen bytes). */
extern int stls_usable (char const *cert, char const *key, char *err, size_t errlen) ;

/* Loads OpenSSL, then cert and key into a new context. 1, or 0 and a
   reason in err. */
extern int stls_load (char const *cert, char const *key, char *err, size_t errlen) ;

/* Starts the server side on rfd/wfd (after stls_load). 1 or 0. */
extern int stls_start (int rfd, int wfd) ;

/* One step of the handshake: STLS_DONE when it is over. On STLS_FAILED
   or STLS_EOF, err says why. */
extern enum stls_want stls_handshake (char *err, size_t errlen) ;

/* Reads up to n bytes: > 0, or 0 and *want (STLS_EOF at the client's
   close_notify or the connection's end, STLS_FAILED on an error). */
extern ssize_t stls_read (char *buf, size_t n, enum stls_want *want) ;

/* Bytes already decrypted and waiting to be read. */
extern size_t stls_pending (void) ;

/* Writes up to n bytes (n > 0): > 0, or 0 and *want. After a 0 with a
   want, the next call must offer the same bytes again. */
extern ssize_t stls_write (char const *buf, size_t n, enum stls_want *want) ;

/* Sends close_notify, once, without waiting for the client's. */
extern void stls_close (void) ;

/* After the handshake: protocol ("TLSv1.3"), cipher, and the SNI name
   the client asked for (or ""). */
extern char const *stls_protocol (void) ;
extern char const *stls_cipher (void) ;
extern char const *stls_sni (void) ;

/* The cipher's IANA name (RFC 8314 4.3: "TLS_AES_256_GCM_SHA384"), or
   OpenSSL's own when it has none. */
extern char const *stls_cipher_iana (void) ;

#endif
