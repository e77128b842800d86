/* io: smtp-tls's I/O loop around the session engine (session.h): the
 * client on fds 0 and 1, in clear or through TLS (tls.h), the child on
 * two pipes; one poll loop with one deadline per wait, the handshake's
 * or the idle time (no byte from the client while nothing is owed to
 * it, or from the child while an answer is). Once the engine relays,
 * the session goes to mx_relay_run (mx_relay.h), the engine watching
 * the child's bytes for its trace field.
 */
#ifndef SMTPTLS_IO_H
#define SMTPTLS_IO_H

#include "session.h"

typedef struct io_stats_s io_stats ;
struct io_stats_s
{
  int tls ;                    /* the handshake completed */
  char err[256] ;              /* why a handshake failed */
} ;

/* Implicit TLS: the handshake on fds 0 and 1, before the child is
   started, bounded by handshake_ms. Returns 0 once TLS is up, or why it
   failed ("handshake-failed", "handshake-timeout"; st->err says more). */
extern char const *io_handshake (unsigned int handshake_ms, io_stats *st) ;

/* Runs the session (after io_handshake in implicit mode); returns why
   it ended, one word for the log. */
extern char const *io_run (session_conf const *conf, unsigned int handshake_ms, unsigned int idle_ms, int fromchild, int tochild, io_stats *st) ;

#endif
