/* relay: the session, byte for byte, once the handshake is over. */
#ifndef SMTPFORWARD_RELAY_H
#define SMTPFORWARD_RELAY_H

#include <stdint.h>
#include "mx_fifo.h"

enum relay_end { RELAY_SERVER_CLOSED, RELAY_CLIENT_GONE, RELAY_IDLE } ;

typedef struct relay_count_s relay_count ;
struct relay_count_s
{
  uint64_t up ;             /* client to server */
  uint64_t down ;           /* server to client */
} ;

/* Relays the client (reads cin, writes cout) and the server (sfd) both
   ways through up and down (down may already hold the greeting), all
   three descriptors non-blocking, until the server closes (what it sent
   is delivered first), the client cannot be written to, or nothing
   moves either way for idle_ms. The client's end of input is passed on
   as a half-close, and the server is given idle_ms to finish. */
extern enum relay_end relay_run (int cin, int cout, int sfd, mx_fifo *up, mx_fifo *down, unsigned int idle_ms, relay_count *count) ;

#endif
