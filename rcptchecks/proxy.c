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

/* writes what the engine has for the client and for the child, one
   write each; 1 if either moved a byte or failed for good (the engine
   has news), 0 if there was nothing to write or it would block */
static int write_now (engine *e, int tochild_fd, long long now)
{
  int news = 0 ;
  if (mx_fifo_len(&e->out))
  {
    ssize_t n = mx_fifo_flush(1, &e->out) ;
    if (n > 0) { engine_client_wrote(e, now) ; news = 1 ; }
    else if (n < 0 && errno != EAGAIN && errno != EINTR) { engine_client_gone(e) ; news = 1 ; }
  }
  if (engine_has_for_child(e))
  {
    ssize_t n = mx_fifo_flush(tochild_fd, &e->tochild) ;
    if (n > 0) { engine_child_wrote(e, (size_t)n) ; news = 1 ; }
    else if (n < 0 && errno != EAGAIN && errno != EINTR)
    {
      engine_child_lost(e) ;
      close(tochild_fd) ;
      news = 1 ;
    }
  }
  return news ;
}

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
    int np = 0, ci = -1, ki = -1, r ;
    long long wake ;
    char const *over ;

    now = mx_now_ms() ;
    engine_run(e, now) ;
    if (engine_end_childin(e)) close(tochild_fd) ;
    over = engine_over(e) ;
    if (over) return over ;

    /* What there is to write is written now, not after a poll that
       would only say the socket or pipe has room (it nearly always
       has): one poll fewer for each exchange. Whatever was written, the
       engine looks again; poll waits for room only where a write
       would block. */
    if (write_now(e, tochild_fd, now)) continue ;

    if (engine_wants_client(e)) { ci = np ; p[np].fd = 0 ; p[np].events = POLLIN ; np++ ; }
    if (mx_fifo_len(&e->out)) { p[np].fd = 1 ; p[np].events = POLLOUT ; np++ ; }
    if (engine_has_for_child(e)) { p[np].fd = tochild_fd ; p[np].events = POLLOUT ; np++ ; }
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
    /* room to write again: the next write_now uses it */
    if (ki >= 0 && p[ki].revents)
    {
      ssize_t n = mx_fifo_fill(fromchild_fd, &e->fromchild) ;
      if (n > 0) engine_child_read(e, now) ;
      else if (!n || (errno != EAGAIN && errno != EINTR)) engine_child_eof(e) ;
    }
  }
}
