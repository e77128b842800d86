/* io: see io.h. */
#include "io.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "mx_relay.h"
#include "mx_secs.h"
#include "tls.h"

#define cin session_cin
#define cout session_cout
#define kin session_kin
#define kout session_kout

static int tls_on, kout_closed ;

/* the client side, in clear or through TLS (mx_relay_io's contract) */
static ssize_t client_read (mx_relay_io *io, char *buf, size_t n)
{
  enum stls_want w = STLS_DONE ;
  ssize_t r ;
  if (!tls_on) return read(io->rfd, buf, n) ;
  r = stls_read(buf, n, &w) ;
  if (r > 0) return r ;
  if (w == STLS_WANT_READ || w == STLS_WANT_WRITE) { io->read_waits_write = w == STLS_WANT_WRITE ; errno = EAGAIN ; return -1 ; }
  if (w == STLS_EOF) return 0 ;
  errno = ECONNRESET ;
  return -1 ;
}

static ssize_t client_write (mx_relay_io *io, char const *buf, size_t n)
{
  enum stls_want w = STLS_DONE ;
  ssize_t r ;
  if (!tls_on) return write(io->wfd, buf, n) ;
  r = stls_write(buf, n, &w) ;
  if (r > 0) return r ;
  if (w == STLS_WANT_READ || w == STLS_WANT_WRITE) { io->write_waits_read = w == STLS_WANT_READ ; errno = EAGAIN ; return -1 ; }
  errno = EPIPE ;
  return -1 ;
}

static size_t client_pending (mx_relay_io *io)
{
  (void)io ;
  return tls_on ? stls_pending() : 0 ;
}

static void child_end (mx_relay_io *io)
{
  if (!kout_closed) { close(io->wfd) ; kout_closed = 1 ; }
}

static mx_relay_io client = { .rfd = 0, .wfd = 1, .read = &client_read, .write = &client_write, .pending = &client_pending } ;

static long long hs_deadline ;
static enum stls_want hs_want ;

/* one step of the handshake: 1 done, 0 not yet, -1 failed */
static int handshake_step (io_stats *st)
{
  enum stls_want w = stls_handshake(st->err, sizeof st->err) ;
  if (w == STLS_DONE) { tls_on = st->tls = 1 ; return 1 ; }
  if (w == STLS_WANT_READ || w == STLS_WANT_WRITE) { hs_want = w ; return 0 ; }
  return -1 ;
}

static int begin_handshake (io_stats *st, unsigned int handshake_ms)
{
  if (!stls_start(0, 1)) { memcpy(st->err, "unable to start TLS", 20) ; return 0 ; }
  hs_want = STLS_WANT_READ ;
  hs_deadline = mx_now_ms() + handshake_ms ;
  return 1 ;
}

static void hs_poll (struct pollfd *p)
{
  p->fd = hs_want == STLS_WANT_WRITE ? 1 : 0 ;
  p->events = hs_want == STLS_WANT_WRITE ? POLLOUT : POLLIN ;
}

char const *io_handshake (unsigned int handshake_ms, io_stats *st)
{
  mx_fifo_nonblocking(0) ; mx_fifo_nonblocking(1) ;
  if (!begin_handshake(st, handshake_ms)) return "handshake-failed" ;
  for (;;)
  {
    struct pollfd p ;
    long long now ;
    int r = handshake_step(st) ;
    if (r > 0) return 0 ;
    if (r < 0) return "handshake-failed" ;
    now = mx_now_ms() ;
    if (now >= hs_deadline) { memcpy(st->err, "handshake timed out", 20) ; return "handshake-timeout" ; }
    hs_poll(&p) ;
    if (poll(&p, 1, (int)(hs_deadline - now)) < 0 && errno != EINTR) return "poll-error" ;
  }
}

/* The engine follows the session, until it ends or relays. */
static void follow (unsigned int handshake_ms, unsigned int idle_ms, int fromchild, int tochild, io_stats *st)
{
  long long now, last_activity = mx_now_ms() ;
  int client_eof = 0, child_eof = 0 ;
  for (;;)
  {
    struct pollfd p[4] ;
    int np = 0, ci = -1, co = -1, ki = -1, ko = -1, e, pend ;
    enum session_phase ph ;
    long long wake ;

    session_run() ;
    ph = session_phase() ;
    if (ph == SESSION_STARTING && !mx_fifo_len(&cout))
    {
      if (begin_handshake(st, handshake_ms)) session_handshake() ;
      else session_end(0, "handshake-failed") ;
      ph = session_phase() ;
    }
    if (ph == SESSION_HANDSHAKE)
    {
      int r = handshake_step(st) ;
      if (r > 0) { session_tls_up(stls_cipher_iana()) ; last_activity = mx_now_ms() ; continue ; }
      if (r < 0) { cout.head = cout.tail = 0 ; session_end(0, "handshake-failed") ; }
      ph = session_phase() ;
    }
    /* bytes only from here: mx_relay_run, but after the answer to QUIT,
       which this loop sees through */
    if (ph == SESSION_RELAY && !mx_fifo_len(&cin) && !mx_fifo_len(&kin) && !session_quit_sent()) return ;
    /* the child's input ends after QUIT, or at the end: exim waits for
       it before it says 221 */
    if ((ph == SESSION_DONE || session_quit_sent()) && !mx_fifo_len(&kout) && !kout_closed) { close(tochild) ; kout_closed = 1 ; }
    if (ph == SESSION_DONE && !mx_fifo_len(&cout)) return ;

    if (ph == SESSION_HANDSHAKE) { ci = np ; hs_poll(&p[np++]) ; }
    else
    {
      if ((ph == SESSION_FOLLOW || ph == SESSION_RELAY) && !client_eof && mx_fifo_room(&cin))
      {
        ci = np ;
        p[np].fd = client.read_waits_write ? 1 : 0 ;
        p[np].events = client.read_waits_write ? POLLOUT : POLLIN ;
        np++ ;
      }
      if (mx_fifo_len(&cout))
      {
        co = np ;
        p[np].fd = client.write_waits_read ? 0 : 1 ;
        p[np].events = client.write_waits_read ? POLLIN : POLLOUT ;
        np++ ;
      }
    }
    if (!kout_closed && mx_fifo_len(&kout)) { ko = np ; p[np].fd = tochild ; p[np].events = POLLOUT ; np++ ; }
    if (ph != SESSION_DONE && !child_eof && mx_fifo_room(&kin)) { ki = np ; p[np].fd = fromchild ; p[np].events = POLLIN ; np++ ; }

    now = mx_now_ms() ;
    wake = ph == SESSION_HANDSHAKE ? hs_deadline : last_activity + idle_ms ;
    /* bytes already decrypted wait for no poll */
    pend = ci >= 0 && ph != SESSION_HANDSHAKE && client_pending(&client) ;
    e = poll(p, (nfds_t)np, pend ? 0 : wake > now ? (int)(wake - now) : 0) ;
    if (e < 0)
    {
      if (errno == EINTR) continue ;
      session_end(0, "poll-error") ;
      return ;
    }
    now = mx_now_ms() ;
    if (!e && !pend)
    {
      if (now < wake) continue ;
      if (ph == SESSION_DONE) return ;   /* the client reads nothing: give up */
      if (ph == SESSION_HANDSHAKE) { memcpy(st->err, "handshake timed out", 20) ; cout.head = cout.tail = 0 ; session_end(0, "handshake-timeout") ; }
      else if (session_owes()) session_end("421 4.3.0 mail server not answering, closing connection\r\n", "child-timeout") ;
      else session_end("421 4.4.2 timeout, closing connection\r\n", "timeout") ;
      continue ;
    }
    if (ci >= 0 && (p[ci].revents || pend) && ph != SESSION_HANDSHAKE)
    {
      ssize_t r ;
      client.read_waits_write = 0 ;
      r = client_read(&client, cin.s + cin.tail, mx_fifo_room(&cin)) ;
      if (r > 0) { cin.tail += (size_t)r ; last_activity = now ; }
      else if (!r || errno != EAGAIN) { client_eof = 1 ; session_client_eof() ; }
    }
    if (co >= 0 && p[co].revents)
    {
      ssize_t r ;
      client.write_waits_read = 0 ;
      r = client_write(&client, cout.s + cout.head, mx_fifo_len(&cout)) ;
      if (r > 0) { mx_fifo_skip(&cout, (size_t)r) ; last_activity = now ; }
      else if (errno != EAGAIN && errno != EINTR)
      {
        cout.head = cout.tail = 0 ;
        client_eof = 1 ;
        session_client_eof() ;
        session_end(0, "client-gone") ;
      }
    }
    if (ko >= 0 && p[ko].revents)
    {
      ssize_t r = mx_fifo_flush(tochild, &kout) ;
      if (r < 0 && errno != EAGAIN && errno != EINTR) { kout.head = kout.tail = 0 ; close(tochild) ; kout_closed = 1 ; }
    }
    if (ki >= 0 && p[ki].revents)
    {
      ssize_t r = mx_fifo_fill(fromchild, &kin) ;
      if (r > 0) last_activity = now ;
      else if (!r || (errno != EAGAIN && errno != EINTR)) { child_eof = 1 ; session_child_eof() ; }
    }
  }
}

char const *io_run (session_conf const *conf, unsigned int handshake_ms, unsigned int idle_ms, int fromchild, int tochild, io_stats *st)
{
  char const *result ;
  mx_fifo_nonblocking(0) ; mx_fifo_nonblocking(1) ;
  mx_fifo_nonblocking(fromchild) ; mx_fifo_nonblocking(tochild) ;
  session_start(conf) ;
  if (conf->implicit) session_tls_up(stls_cipher_iana()) ;
  follow(handshake_ms, idle_ms, fromchild, tochild, st) ;
  result = session_result() ;
  if (!result)
  {
    /* bytes from here on, the engine reading the child's reply codes */
    mx_relay_io child = { .rfd = fromchild, .wfd = tochild, .end = &child_end } ;
    mx_relay_count count = { 0, 0 } ;
    enum mx_relay_end end = mx_relay_run(&client, &child, &kout, &cout, idle_ms, &session_watch, 0, &count) ;
    result = end == MX_RELAY_IDLE ? "timeout" : end == MX_RELAY_STOPPED ? "out-of-step"
      : session_relay_end(end == MX_RELAY_SERVER_CLOSED) ;
  }
  if (!kout_closed) { close(tochild) ; kout_closed = 1 ; }
  if (tls_on) stls_close() ;
  return result ;
}
