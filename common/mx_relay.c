/* mx_relay: see mx_relay.h. A poll loop over two queues; the kernel's
   buffers and the queues keep both directions streaming. */
#include "mx_relay.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mx_secs.h"

static ssize_t get (mx_relay_io *io, mx_fifo *f)
{
  size_t room = mx_fifo_room(f) ;
  ssize_t r ;
  if (!room) { errno = EAGAIN ; return -1 ; }
  r = io->read ? io->read(io, f->s + f->tail, room) : read(io->rfd, f->s + f->tail, room) ;
  if (r > 0) f->tail += (size_t)r ;
  return r ;
}

static ssize_t put (mx_relay_io *io, mx_fifo *f)
{
  ssize_t r = io->write ? io->write(io, f->s + f->head, mx_fifo_len(f)) : write(io->wfd, f->s + f->head, mx_fifo_len(f)) ;
  if (r > 0) mx_fifo_skip(f, (size_t)r) ;
  return r ;
}

static void end (mx_relay_io *io)
{
  if (io->end) io->end(io) ;
  else if (io->rfd == io->wfd) shutdown(io->wfd, SHUT_WR) ;
  else close(io->wfd) ;
}

/* one poll entry: its index, or -1 */
static int watch_fd (struct pollfd *x, int *n, int fd, short events)
{
  x[*n].fd = fd ; x[*n].events = events ; x[*n].revents = 0 ;
  return (*n)++ ;
}

enum mx_relay_end mx_relay_run (mx_relay_io *client, mx_relay_io *server, mx_fifo *up, mx_fifo *down,
  unsigned int idle_ms, mx_relay_watch *watch, void *wctx, mx_relay_count *count)
{
  int cin_done = 0, sin_done = 0, shut = 0 ;
  long long last = mx_now_ms() ;
  for (;;)
  {
    struct pollfd x[4] ;
    int ci = -1, si = -1, so = -1, co = -1, n = 0, r, ready = 0 ;
    long long left ;

    if (sin_done && !mx_fifo_len(down)) return MX_RELAY_SERVER_CLOSED ;
    if (cin_done && !mx_fifo_len(up) && !shut)
    {
      /* the client said all it had: the server hears the end */
      end(server) ;
      shut = 1 ;
    }
    /* a side is watched only for what is asked of it: a hang-up it
       reports while its queue is full would spin the loop */
    if (!cin_done && mx_fifo_room(up))
    {
      ci = client->read_waits_write ? watch_fd(x, &n, client->wfd, POLLOUT) : watch_fd(x, &n, client->rfd, POLLIN) ;
      if (client->pending && client->pending(client)) ready = 1 ;
    }
    if (!sin_done && mx_fifo_room(down)) si = watch_fd(x, &n, server->rfd, POLLIN) ;
    if (mx_fifo_len(up) && !sin_done) so = watch_fd(x, &n, server->wfd, POLLOUT) ;
    if (mx_fifo_len(down))
      co = client->write_waits_read ? watch_fd(x, &n, client->rfd, POLLIN) : watch_fd(x, &n, client->wfd, POLLOUT) ;

    left = last + idle_ms - mx_now_ms() ;
    if (left <= 0) return MX_RELAY_IDLE ;
    r = poll(x, (nfds_t)n, ready ? 0 : (int)left) ;
    if (r < 0) { if (errno == EINTR) continue ; return MX_RELAY_CLIENT_GONE ; }
    if (!r && !ready) continue ;

    if (ci >= 0 && (x[ci].revents || ready))
    {
      ssize_t k ;
      client->read_waits_write = 0 ;
      k = get(client, up) ;
      if (k > 0) { count->up += (uint64_t)k ; last = mx_now_ms() ; }
      else if (!k || errno != EAGAIN) cin_done = 1 ;
    }
    if (si >= 0 && x[si].revents)
    {
      ssize_t k = get(server, down) ;
      if (k > 0)
      {
        count->down += (uint64_t)k ;
        last = mx_now_ms() ;
        if (watch)
        {
          int w = watch(wctx, down->s + down->tail - k, (size_t)k, up) ;
          if (!w) return MX_RELAY_STOPPED ;
          if (w == MX_RELAY_LAST_WORD) cin_done = 1 ;
        }
      }
      else if (!k || errno != EAGAIN) sin_done = 1 ;
    }
    if (so >= 0 && x[so].revents && mx_fifo_len(up) && !sin_done)
    {
      ssize_t k = put(server, up) ;
      if (k > 0) last = mx_now_ms() ;
      else if (k < 0 && errno != EAGAIN)
      {
        /* the server is gone: what it sent is still delivered */
        mx_fifo_skip(up, mx_fifo_len(up)) ;
        cin_done = 1 ;
      }
    }
    if (co >= 0 && x[co].revents && mx_fifo_len(down))
    {
      ssize_t k ;
      client->write_waits_read = 0 ;
      k = put(client, down) ;
      if (k > 0) last = mx_now_ms() ;
      else if (k < 0 && errno != EAGAIN) return MX_RELAY_CLIENT_GONE ;
    }
  }
}
