/* mx_relay: a session relayed byte for byte both ways, between a client
 * and a server, through two queues and one poll loop. Each side is read
 * and written through callbacks (plain read and write on descriptors by
 * default, or a TLS layer), so that one relay serves smtp-forward (the
 * client's socket and a TCP connection) and smtp-tls (the client in
 * clear or in TLS, and the child's pipes).
 */
#ifndef MX_RELAY_H
#define MX_RELAY_H

#include <stdint.h>
#include <sys/types.h>
#include "mx_fifo.h"

typedef struct mx_relay_io_s mx_relay_io ;
struct mx_relay_io_s
{
  int rfd, wfd ;   /* the same descriptor for a socket; all non-blocking */
  /* read(2)'s and write(2)'s contract (> 0; 0 at the end of the input;
     -1 and errno, EAGAIN to try again); 0: read(rfd) and write(wfd) */
  ssize_t (*read) (mx_relay_io *io, char *s, size_t n) ;
  ssize_t (*write) (mx_relay_io *io, char const *s, size_t n) ;
  /* bytes the read callback holds already, that no poll announces
     (decrypted TLS records), or 0 */
  size_t (*pending) (mx_relay_io *io) ;
  /* the end of what this side is sent; 0: a half-close of a socket
     (shutdown SHUT_WR when rfd == wfd), else close(wfd) */
  void (*end) (mx_relay_io *io) ;
  /* set by the callbacks after EAGAIN: the read waits for wfd to take
     bytes, the write for rfd to have some (a TLS layer's wants) */
  int read_waits_write, write_waits_read ;
  void *ctx ;
} ;

enum mx_relay_end { MX_RELAY_SERVER_CLOSED, MX_RELAY_CLIENT_GONE, MX_RELAY_IDLE, MX_RELAY_STOPPED } ;

typedef struct mx_relay_count_s mx_relay_count ;
struct mx_relay_count_s
{
  uint64_t up ;             /* client to server */
  uint64_t down ;           /* server to client */
} ;

/* Sees the n bytes at s just read from the server (already in down,
   not yet sent), with up, where it may add bytes for the server.
   Returns 1 to go on, 0 to stop the relay (MX_RELAY_STOPPED), or
   MX_RELAY_LAST_WORD: the server has said its last word (an answer to
   QUIT), so the client is read no more and the server's input ends once
   up is sent, as at the client's end of input (a server that waits for
   it before it closes is not kept waiting for the client). */
#define MX_RELAY_LAST_WORD 2
typedef int mx_relay_watch (void *ctx, char const *s, size_t n, mx_fifo *up) ;

/* Relays the client and the server both ways through up and down (each
   may already hold bytes: up for the server, down for the client),
   until the server closes (what it sent is delivered first), the
   client cannot be written to, nothing moves either way for idle_ms,
   or watch (may be 0) says stop. The client's end of input is passed on
   (server->end), and the server is given idle_ms to finish. */
extern enum mx_relay_end mx_relay_run (mx_relay_io *client, mx_relay_io *server, mx_fifo *up, mx_fifo *down,
  unsigned int idle_ms, mx_relay_watch *watch, void *wctx, mx_relay_count *count) ;

#endif
