/* tls: the server side of TLS on the client's connection (fds 0 and 1),
 * over OpenSSL 3, non-blocking: every call returns at once and says
 * what it waits for, so that one poll loop bounds every wait.
 *
 * TLS 1.2 and 1.3 only, OpenSSL's default ciphers (its secure level),
 * the server's cipher preference, no renegotiation, no session tickets
 * or cache (one process per connection: nothing to resume from).
 * The certificate chain and key are read at every tls_load, that is for
 * every connection: a renewed certificate needs no restart.
 */
#ifndef SMTPTLS_TLS_H
#define SMTPTLS_TLS_H

#include <stddef.h>
#include <sys/types.h>

/* what a call that could not finish waits for */
enum tls_want { TLS_DONE, TLS_WANT_READ, TLS_WANT_WRITE, TLS_FAILED, TLS_EOF } ;

/* Loads cert (a PEM chain) and key (PEM). Returns 1, or 0 and a reason
   in err (errlen bytes). */
extern int tls_load (char const *cert, char const *key, char *err, size_t errlen) ;

/* Starts the server side on rfd/wfd (after tls_load). 1 or 0. */
extern int tls_start (int rfd, int wfd) ;

/* One step of the handshake: TLS_DONE when it is over. On TLS_FAILED
   or TLS_EOF, err says why. */
extern enum tls_want tls_handshake (char *err, size_t errlen) ;

/* Reads up to n bytes: > 0, or 0 and *want (TLS_EOF at the client's
   close_notify or the connection's end, TLS_FAILED on an error). */
extern ssize_t tls_read (char *buf, size_t n, enum tls_want *want) ;

/* Bytes already decrypted and waiting to be read. */
extern size_t tls_pending (void) ;

/* Writes up to n bytes (n > 0): > 0, or 0 and *want. After a 0 with a
   want, the next call must offer the same bytes again. */
extern ssize_t tls_write (char const *buf, size_t n, enum tls_want *want) ;

/* Sends close_notify, once, without waiting for the client's. */
extern void tls_close (void) ;

/* After the handshake: protocol ("TLSv1.3"), cipher, and the SNI name
   the client asked for (or ""). */
extern char const *tls_protocol (void) ;
extern char const *tls_cipher (void) ;
extern char const *tls_sni (void) ;

/* The cipher's IANA name (RFC 8314 4.3: "TLS_AES_256_GCM_SHA384"), or
   OpenSSL's own when it has none. */
extern char const *tls_cipher_iana (void) ;

#endif
