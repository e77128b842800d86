/* mx_fifo: see mx_fifo.h. */
#include "mx_fifo.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

size_t mx_fifo_len (mx_fifo const *f) { return f->tail - f->head ; }

size_t mx_fifo_room (mx_fifo *f)
{
  if (f->head && f->size - f->tail < f->size / 2)
  {
    memmove(f->s, f->s + f->head, f->tail - f->head) ;
    f->tail -= f->head ;
    f->head = 0 ;
  }
  return f->size - f->tail ;
}

int mx_fifo_put (mx_fifo *f, char const *s, size_t n)
{
  if (mx_fifo_room(f) < n) return 0 ;
  memcpy(f->s + f->tail, s, n) ;
  f->tail += n ;
  return 1 ;
}

void mx_fifo_skip (mx_fifo *f, size_t n)
{
  f->head += n ;
  if (f->head == f->tail) f->head = f->tail = 0 ;
}

ssize_t mx_fifo_fill (int fd, mx_fifo *f)
{
  ssize_t r ;
  size_t room = mx_fifo_room(f) ;
  if (!room) { errno = EAGAIN ; return -1 ; }
  r = read(fd, f->s + f->tail, room) ;
  if (r > 0) f->tail += (size_t)r ;
  return r ;
}

ssize_t mx_fifo_flush (int fd, mx_fifo *f)
{
  ssize_t r = write(fd, f->s + f->head, mx_fifo_len(f)) ;
  if (r > 0) mx_fifo_skip(f, (size_t)r) ;
  return r ;
}

void mx_fifo_nonblocking (int fd)
{
  int fl = fcntl(fd, F_GETFL) ;
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK) ;
}
