/* proxy: see proxy.h. One process, one poll loop; every byte and every
 * decision is the engine's.
 */
#include "proxy.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "mx_fifo.h"
#include "mx_secs.h"

static engine eng ;   /* its buffers: 4 x 64 KiB, off the stack */

char const *proxy_run (proxy_conf const *c, int fromchild_fd, int tochild_fd, proxy_stats *st)
{
  engine *e = &eng ;
  long long now ;
  mx_fifo_nonblocking(0) ; mx_fifo_nonblocking(1) ;
  mx_fifo_nonblocking(fromchild_fd) ; mx_fifo_nonblocking(tochild_fd) ;
  engine_init(e, c, st, mx_now_ms()) ;

  for (;;)
  {
    struct pollfd p[4] ;
    int np = 0, ci = -1, co = -1, ki = -1, ko = -1, r ;
    long long wake ;
    char const *over ;

    now = mx_now_ms() ;
    engine_run(e, now) ;
    if (engine_end_childin(e)) close(tochild_fd) ;
    over = engine_over(e) ;
    if (over) return over ;

    if (engine_wants_client(e)) { ci = np ; p[np].fd = 0 ; p[np].events = POLLIN ; np++ ; }
    if (mx_fifo_len(&e->out)) { co = np ; p[np].fd = 1 ; p[np].events = POLLOUT ; np++ ; }
    if (engine_has_for_child(e)) { ko = np ; p[np].fd = tochild_fd ; p[np].events = POLLOUT ; np++ ; }
    if (engine_wants_child(e)) { ki = np ; p[np].fd = fromchild_fd ; p[np].events = POLLIN ; np++ ; }

    wake = engine_wake(e) ;
    r = poll(p, (nfds_t)np, wake > now ? (int)(wake - now) : 0) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      return engine_result(e) ? engine_result(e) : "poll-error" ;
    }
    now = mx_now_ms() ;
    if (!r)
    {
      over = engine_timeout(e, now) ;
      if (over) return over ;
      continue ;
    }

    if (ci >= 0 && p[ci].revents)
    {
      ssize_t n = mx_fifo_fill(0, &e->in) ;
      if (n > 0) engine_client_read(e, now) ;
      else if (!n || (errno != EAGAIN && errno != EINTR)) engine_client_eof(e, now) ;
    }
    if (co >= 0 && p[co].revents)
    {
      ssize_t n = mx_fifo_flush(1, &e->out) ;
      if (n > 0) engine_client_wrote(e, now) ;
      else if (n < 0 && errno != EAGAIN && errno != EINTR) engine_client_gone(e) ;
    }
    if (ko >= 0 && p[ko].revents)
    {
      ssize_t n = mx_fifo_flush(tochild_fd, &e->tochild) ;
      if (n > 0) engine_child_wrote(e, (size_t)n) ;
      if (n < 0 && errno != EAGAIN && errno != EINTR)
      {
        engine_child_lost(e) ;
        close(tochild_fd) ;
      }
    }
    if (ki >= 0 && p[ki].revents)
    {
      ssize_t n = mx_fifo_fill(fromchild_fd, &e->fromchild) ;
      if (n > 0) engine_child_read(e, now) ;
      else if (!n || (errno != EAGAIN && errno != EINTR)) engine_child_eof(e) ;
    }
  }
}
