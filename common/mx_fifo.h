/* mx_fifo: a byte queue in a fixed buffer, for the proxies' loops.
 * Bytes are taken from head and added at tail; room is made by moving
 * the contents to the front when the tail half is short. Nothing is
 * allocated: a full queue simply takes no more. */
#ifndef MX_FIFO_H
#define MX_FIFO_H

#include <stddef.h>
#include <sys/types.h>

typedef struct mx_fifo_s mx_fifo ;
struct mx_fifo_s
{
  size_t head, tail ;
  char *s ;
  size_t size ;
} ;
#define MX_FIFO(buf) { 0, 0, (buf), sizeof (buf) }

extern size_t mx_fifo_len (mx_fifo const *f) ;
/* room at the tail, after moving the contents to the front if needed */
extern size_t mx_fifo_room (mx_fifo *f) ;
/* adds n bytes if there is room for all of them: 1, else 0 */
extern int mx_fifo_put (mx_fifo *f, char const *s, size_t n) ;
/* drops n bytes from the head */
extern void mx_fifo_skip (mx_fifo *f, size_t n) ;

/* Reads into f from fd what fits: bytes read, 0 at the end of the
   input, -1 (errno EAGAIN: nothing now, or no room). */
extern ssize_t mx_fifo_fill (int fd, mx_fifo *f) ;
/* Writes from f to fd what fd takes: bytes written, or -1. */
extern ssize_t mx_fifo_flush (int fd, mx_fifo *f) ;
/* Makes fd non-blocking (for the loops' poll). */
extern void mx_fifo_nonblocking (int fd) ;

#endif
