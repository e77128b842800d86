/* relay: see relay.h. A poll loop over two queues; the kernel's socket
   buffers and these 128 KiB queues keep both directions streaming. */
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "mx_secs.h"

enum relay_end relay_run (int cin, int cout, int sfd, mx_fifo *up, mx_fifo *down, unsigned int idle_ms, relay_count *count)
{
  int cin_done = 0, sin_done = 0, shut = 0 ;
  long long last = mx_now_ms() ;
  for (;;)
  {
    struct pollfd x[3] ;
    int ci = -1, si = -1, co = -1, n = 0, r ;
    long long left ;

    if (sin_done && !mx_fifo_len(down)) return RELAY_SERVER_CLOSED ;
    if (cin_done && !mx_fifo_len(up) && !shut)
    {
      /* the client said all it had: the server hears the end */
      shutdown(sfd, SHUT_WR) ;
      shut = 1 ;
    }
    if (!cin_done && mx_fifo_room(up)) { ci = n ; x[n].fd = cin ; x[n++].events = POLLIN ; }
    si = n ; x[n].fd = sfd ; x[n].events = 0 ;
    if (!sin_done && mx_fifo_room(down)) x[n].events |= POLLIN ;
    if (mx_fifo_len(up) && !sin_done) x[n].events |= POLLOUT ;
    /* not watched at all when nothing is asked of it, or a hang-up it
       reports while down is full would spin the loop */
    if (!x[n].events) x[n].fd = -1 ;
    n++ ;
    if (mx_fifo_len(down)) { co = n ; x[n].fd = cout ; x[n++].events = POLLOUT ; }

    left = last + idle_ms - mx_now_ms() ;
    if (left <= 0) return RELAY_IDLE ;
    r = poll(x, (nfds_t)n, (int)left) ;
    if (r < 0) { if (errno == EINTR) continue ; return RELAY_CLIENT_GONE ; }
    if (!r) continue ;

    if (ci >= 0 && x[ci].revents)
    {
      ssize_t k = mx_fifo_fill(cin, up) ;
      if (k > 0) { count->up += (uint64_t)k ; last = mx_now_ms() ; }
      else if (!k || errno != EAGAIN) cin_done = 1 ;
    }
    if (x[si].revents & (POLLIN | POLLHUP | POLLERR) && !sin_done && mx_fifo_room(down))
    {
      ssize_t k = mx_fifo_fill(sfd, down) ;
      if (k > 0) { count->down += (uint64_t)k ; last = mx_now_ms() ; }
      else if (!k || errno != EAGAIN) sin_done = 1 ;
    }
    if (x[si].revents & (POLLOUT | POLLERR) && mx_fifo_len(up) && !sin_done)
    {
      ssize_t k = mx_fifo_flush(sfd, up) ;
      if (k > 0) last = mx_now_ms() ;
      else if (k < 0 && errno != EAGAIN)
      {
        /* the server is gone: what it sent is still delivered */
        mx_fifo_skip(up, mx_fifo_len(up)) ;
        cin_done = 1 ;
      }
    }
    if (co >= 0 && x[co].revents)
    {
      ssize_t k = mx_fifo_flush(cout, down) ;
      if (k > 0) last = mx_now_ms() ;
      else if (k < 0 && errno != EAGAIN) return RELAY_CLIENT_GONE ;
    }
  }
}
