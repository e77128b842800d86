/* relay: see relay.h. One process, one poll loop, fixed buffers. */
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mx_fifo.h"
#include "mx_secs.h"
#include "mx_smtp.h"
#include "tls.h"

#define BUFSZ 65536
#define LINE_MAX_BYTES 12288
#define NAME_MAX_BYTES 128      /* a HELO or local name in the trace line */

/* what the child's next reply answers */
enum owed { O_NONE, O_GREETING, O_COMMAND, O_EHLO, O_HELO, O_MAIL, O_RCPT, O_RESET, O_DATA, O_DATAEND, O_AUTH, O_QUIT } ;

/* where client input stands */
enum cmode
{
  C_COMMAND,     /* lines are commands */
  C_AUTHLINE,    /* the next line answers the child's 334 */
  C_DATA,        /* message bytes */
  C_STARTING,    /* 220 to STARTTLS on its way out in clear: nothing is read */
  C_HANDSHAKE,   /* the TLS handshake */
  C_DONE         /* nothing more is read */
} ;

static char cinbuf[BUFSZ], coutbuf[BUFSZ], kinbuf[BUFSZ], koutbuf[BUFSZ] ;
static mx_fifo cin = MX_FIFO(cinbuf) ;     /* from the client, in clear */
static mx_fifo cout = MX_FIFO(coutbuf) ;   /* for the client, in clear */
static mx_fifo kin = MX_FIFO(kinbuf) ;     /* from the child */
static mx_fifo kout = MX_FIFO(koutbuf) ;   /* for the child */

static relay_conf const *conf ;
static relay_stats *stats ;
/* the replies the child owes, in order (one command at a time but for
   pipelined groups of MAIL, RCPT and RSET) */
#define OWED_MAX 256
static unsigned char owedq[OWED_MAX] = { O_GREETING } ;
static unsigned int oq_head, oq_len = 1 ;
#define OWED ((enum owed)(oq_len ? owedq[oq_head] : O_NONE))
static int may_follow ;           /* the last command given the child may be followed before its answer */
static int pipelining ;           /* the child's last EHLO answer offered PIPELINING */
static enum cmode cmode = C_COMMAND ;
static int tls_on ;               /* the client side is TLS */
static int in_transaction ;       /* after MAIL, until its end */
static int need_helo ;            /* after STARTTLS, until a new EHLO or HELO is answered 250 (RFC 3207 4.2) */
static int authed ;               /* an AUTH was answered 2xx */
static char helo_pending[NAME_MAX_BYTES + 1] ;   /* the name of the EHLO or HELO on its way */
static char helo_name[NAME_MAX_BYTES + 1] ;      /* the name of the last one answered 250 */
static char local_name[NAME_MAX_BYTES + 1] ;
static int skipping ;             /* dropping the rest of an overlong line */
static int client_eof, child_eof, kout_closed, quit_sent ;
static enum tls_want rd_want = TLS_WANT_READ, wr_want = TLS_WANT_WRITE, hs_want = TLS_WANT_READ ;
static unsigned int last_code ;
static datascan scan ;
static char const *result ;
static long long now, last_activity, hs_deadline ;

static void finish (char const *why)
{
  if (!result) result = why ;
  cmode = C_DONE ;
}

/* our own answer, when nothing is owed by the child (one command at a
   time: it is the client's next answer) */
static void say (char const *reply)
{
  mx_fifo_put(&cout, reply, strlen(reply)) ;
}

static void last_word (char const *reply, char const *why)
{
  say(reply) ;
  finish(why) ;
}

static void owe (enum owed o)
{
  owedq[(oq_head + oq_len++) % OWED_MAX] = (unsigned char)o ;
}

static void forward (char const *line, size_t len, enum owed o)
{
  mx_fifo_put(&kout, line, len) ;
  mx_fifo_put(&kout, "\r\n", 2) ;
  owe(o) ;
  /* MAIL, RCPT and RSET may be followed by the next command of their
     group (RFC 2920), when the server offered PIPELINING */
  may_follow = pipelining && (o == O_MAIL || o == O_RESET || o == O_RCPT) ;
}

/* a name made safe for the trace line: the bytes of a domain or an
   address ([A-Za-z0-9.-_:]), any other as '?', cut to NAME_MAX_BYTES;
   the first word only */
static void safe_name (char *out, char const *s, size_t len)
{
  size_t i = 0, n = 0 ;
  while (i < len && (s[i] == ' ' || s[i] == '\t')) i++ ;
  for (; i < len && n < NAME_MAX_BYTES && s[i] != ' ' && s[i] != '\t' ; i++)
  {
    char c = s[i] ;
    out[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
      || c == '.' || c == '-' || c == '_' || c == ':' ? c : '?' ;
  }
  out[n] = 0 ;
}

/* The answer smtp-tls gives a command itself, or 0 when the command
   goes to the child; *start: the answer is STARTTLS's 220. The state
   it reads (in_transaction, need_helo, authed) is settled whenever
   nothing is owed, which is when these answers are given. */
static char const *own (char const *line, size_t len, int *start)
{
  size_t arg ;
  enum smtp_verb v ;
  int st = smtp_starttls_line(line, len) ;
  *start = 0 ;
  if (st)
  {
    /* "STARTTLS", "STARTTLS<TAB>" and any other STARTTLS-like line:
       never the server's */
    if (tls_on) return "503 5.5.1 TLS already active\r\n" ;
    if (!conf->tls_ok) return "502 5.5.1 STARTTLS not available\r\n" ;
    if (st == 2) return "501 5.5.4 STARTTLS takes no parameters\r\n" ;
    if (in_transaction) return "503 5.5.1 STARTTLS not allowed in a mail transaction\r\n" ;
    /* RFC 4954 4: no TLS under an authentication made in clear; the
       credentials given in clear cannot be carried into TLS */
    if (authed) return "503 5.5.1 STARTTLS not allowed after AUTH\r\n" ;
    *start = 1 ;
    return "220 2.0.0 Ready to start TLS\r\n" ;
  }
  v = smtp_verb(line, len, &arg) ;
  /* RFC 3207 4.2: after the handshake the session starts over; the
     child keeps what it was told in clear until a new EHLO or HELO
     replaces it, so nothing that uses it is let through before one */
  if (need_helo && (v == VERB_MAIL || v == VERB_RCPT || v == VERB_DATA || v == VERB_AUTH || v == VERB_BDAT))
    return "503 5.5.1 Send EHLO again after STARTTLS (RFC 3207)\r\n" ;
  if (v == VERB_BDAT) return "502 5.5.1 BDAT not available here, use DATA\r\n" ;
  if (v == VERB_AUTH && conf->auth_tls_only && !tls_on)
    return "538 5.7.11 Encryption required for requested authentication mechanism\r\n" ;
  return 0 ;
}

/* One command line (len bytes, line end removed; room for 2 more). */
static void command (char const *line, size_t len)
{
  size_t arg ;
  if (cmode == C_AUTHLINE)
  {
    forward(line, len, O_AUTH) ;
    cmode = C_COMMAND ;
    return ;
  }
  {
    int start ;
    char const *reply = own(line, len, &start) ;
    if (reply)
    {
      say(reply) ;
      if (start) cmode = C_STARTING ;
      return ;
    }
  }
  switch (smtp_verb(line, len, &arg))
  {
    case VERB_EHLO : safe_name(helo_pending, line + arg, len - arg) ; forward(line, len, O_EHLO) ; return ;
    case VERB_HELO : safe_name(helo_pending, line + arg, len - arg) ; forward(line, len, O_HELO) ; return ;
    case VERB_MAIL : forward(line, len, O_MAIL) ; return ;
    case VERB_RCPT : forward(line, len, O_RCPT) ; return ;
    case VERB_RSET : forward(line, len, O_RESET) ; return ;
    case VERB_DATA : forward(line, len, O_DATA) ; return ;
    case VERB_AUTH : forward(line, len, O_AUTH) ; return ;
    case VERB_QUIT : forward(line, len, O_QUIT) ; quit_sent = 1 ; return ;
    default : forward(line, len, O_COMMAND) ; return ;
  }
}

static void data_bytes (void)
{
  size_t n = mx_fifo_len(&cin), room = mx_fifo_room(&kout), used ;
  enum datascan_result r ;
  if (n > room) n = room ;
  if (!n) return ;
  r = datascan_run(&scan, cin.s + cin.head, n, &used) ;
  mx_fifo_put(&kout, cin.s + cin.head, used) ;
  mx_fifo_skip(&cin, used) ;
  if (r == DATASCAN_END) { owe(O_DATAEND) ; may_follow = 0 ; cmode = C_COMMAND ; }
  else if (r == DATASCAN_BARE)
    last_word("421 4.5.0 bare LF next to the final dot (RFC 5321 4.1.1.4), message refused, closing connection\r\n", "bare-lf") ;
}

/* the commands smtp-tls answers itself */
static int answered_here (char const *line, size_t len)
{
  int start ;
  return !!own(line, len, &start) ;
}

/* The trace field (RFC 5321 4.4, with RFC 8314 4.3's tls clause) at
   the head of a message received in TLS. */
static void trace (void)
{
  char buf[2 * NAME_MAX_BYTES + 400], date[64], lit[80] ;
  time_t t = time(0) ;
  struct tm tm ;
  int n ;
  if (!localtime_r(&t, &tm) || !strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm)) return ;
  lit[0] = 0 ;
  if (conf->client_ip && *conf->client_ip)
    snprintf(lit, sizeof lit, " ([%s%s])", strchr(conf->client_ip, ':') ? "IPv6:" : "", conf->client_ip) ;
  n = snprintf(buf, sizeof buf, "Received: from %s%s\r\n\tby %s (smtp-tls) with %s tls %s;\r\n\t%s\r\n",
    *helo_name ? helo_name : "unknown", lit, local_name, authed ? "ESMTPSA" : "ESMTPS", tls_cipher_iana(), date) ;
  if (n > 0 && (size_t)n < sizeof buf) mx_fifo_put(&kout, buf, (size_t)n) ;
}

/* Handles client input while the buffers allow. */
static void client_input (void)
{
  while (!result)
  {
    size_t n = mx_fifo_len(&cin), len, whole ;
    char *nl ;
    if (cmode == C_DATA) { data_bytes() ; if (cmode == C_DATA) return ; continue ; }
    if (cmode != C_COMMAND && cmode != C_AUTHLINE) return ;
    /* one line may go before the greeting, so that a link behind that
       judges early talkers (smtp-delay behind smtp-tls -i) sees it */
    if ((oq_len && !may_follow && !(oq_len == 1 && OWED == O_GREETING)) || !n || oq_len >= OWED_MAX - 1) return ;
    /* room for a command, or for our own answer to it */
    if (mx_fifo_room(&kout) < LINE_MAX_BYTES + 2 || mx_fifo_room(&cout) < 512) return ;
    nl = memchr(cin.s + cin.head, '\n', n) ;
    if (skipping)
    {
      if (!nl) { mx_fifo_skip(&cin, n) ; return ; }
      if (oq_len) return ;   /* our answer comes after the child's */
      mx_fifo_skip(&cin, (size_t)(nl - (cin.s + cin.head)) + 1) ;
      skipping = 0 ;
      if (cmode == C_AUTHLINE) command("*", 1) ;   /* cancels the AUTH (RFC 4954) */
      else say("500 5.5.2 line too long\r\n") ;
      continue ;
    }
    if (!nl)
    {
      if (n > LINE_MAX_BYTES) skipping = 1 ;
      else if (client_eof) mx_fifo_skip(&cin, n) ;
      if (skipping) continue ;
      return ;
    }
    len = (size_t)(nl - (cin.s + cin.head)) ;
    whole = len + 1 ;
    if (len && cin.s[cin.head + len - 1] == '\r') len-- ;
    /* our own answers come in turn: after every answer the child owes,
       and after what the child sent unasked is dealt with (nothing the
       server said before STARTTLS may cross into TLS) */
    if ((oq_len || mx_fifo_len(&kin)) && (len > LINE_MAX_BYTES || (cmode == C_COMMAND && answered_here(cin.s + cin.head, len)))) return ;
    if (len > LINE_MAX_BYTES)
    {
      if (cmode == C_AUTHLINE) command("*", 1) ;
      else say("500 5.5.2 line too long\r\n") ;
    }
    else command(cin.s + cin.head, len) ;
    mx_fifo_skip(&cin, whole) ;
    if (cmode == C_STARTING)
    {
      /* what the client sent after STARTTLS in clear is never used */
      stats->injected += mx_fifo_len(&cin) ;
      cin.head = cin.tail = 0 ;
      return ;
    }
  }
}

static enum smtp_answers answers_what (enum owed o)
{
  return o == O_GREETING ? SMTP_ANSWERS_GREETING : o == O_DATA ? SMTP_ANSWERS_DATA
    : o == O_AUTH ? SMTP_ANSWERS_AUTH : SMTP_ANSWERS_COMMAND ;
}

/* The child's complete replies, passed on in turn. */
static void child_input (void)
{
  while (!result && cmode != C_HANDSHAKE && cmode != C_STARTING)
  {
    size_t n = smtp_reply_len(kin.s + kin.head, mx_fifo_len(&kin)) ;
    unsigned int code ;
    char *copy ;
    if (!n)
    {
      if (mx_fifo_room(&kin) == 0) last_word("421 4.3.0 mail server out of step, closing connection\r\n", "out-of-step") ;
      return ;
    }
    code = smtp_reply_valid(kin.s + kin.head, n) ;
    if (OWED == O_NONE)
    {
      /* unasked: the server's own timeout or shutdown notice is its last
         word; anything else answers a command it never got */
      if (code / 100 == 4 && mx_fifo_put(&cout, kin.s + kin.head, n)) { mx_fifo_skip(&kin, n) ; finish("child-closed") ; }
      else last_word("421 4.3.0 mail server out of step, closing connection\r\n", "out-of-step") ;
      return ;
    }
    if (!code || !smtp_reply_fits(answers_what(OWED), code))
    {
      last_word("421 4.3.0 mail server out of step, closing connection\r\n", "out-of-step") ;
      return ;
    }
    if (mx_fifo_room(&cout) < n + 16) return ;
    copy = cout.s + cout.tail ;
    memcpy(copy, kin.s + kin.head, n) ;
    cout.tail += n ;
    mx_fifo_skip(&kin, n) ;
    last_code = code ;
    if (OWED == O_EHLO || OWED == O_HELO) pipelining = 0 ;
    if (OWED == O_EHLO && code == 250)
    {
      /* only what the proxy can follow is offered (mx_smtp's allow-list:
         no CHUNKING, whose chunks it would read as commands, no PRDR),
         then its own STARTTLS */
      unsigned int bits, keep = EXT_DEFAULT | EXT_SMTPUTF8 ;
      size_t m ;
      /* SMTPUTF8 too: smtp-tls reads no address; AUTH not in clear with -a */
      if (conf->auth_tls_only && !tls_on) keep &= ~EXT_AUTH ;
      m = smtp_ehlo_keep(copy, n, keep, &bits) ;
      pipelining = !!(bits & EXT_PIPELINING) ;
      cout.tail -= n ;
      cout.tail += smtp_ehlo_starttls(copy, m, n + 16, conf->tls_ok && !tls_on) ;
    }
    if (code == 421) { finish("child-421") ; return ; }
    switch (OWED)
    {
      case O_EHLO : case O_HELO :
        if (code == 250) { in_transaction = 0 ; need_helo = 0 ; memcpy(helo_name, helo_pending, sizeof helo_name) ; }
        break ;
      case O_RESET :
        if (code == 250) in_transaction = 0 ;
        break ;
      case O_MAIL :
        if (code / 100 == 2) in_transaction = 1 ;
        break ;
      case O_DATA :
        if (code == 354)
        {
          datascan_start(&scan) ;
          cmode = C_DATA ;
          if (tls_on) trace() ;
        }
        break ;
      case O_DATAEND :
        in_transaction = 0 ;
        break ;
      case O_AUTH :
        if (code == 334) cmode = C_AUTHLINE ;
        else if (code / 100 == 2) authed = 1 ;
        break ;
      case O_QUIT :
        finish("quit") ;
        break ;
      default : break ;
    }
    oq_head = (oq_head + 1) % OWED_MAX ;
    oq_len-- ;
    if (result) return ;
    client_input() ;
  }
}

/* The client side: reads and writes in clear or through TLS. */
static ssize_t client_read (char *buf, size_t n)
{
  if (tls_on)
  {
    enum tls_want w = TLS_DONE ;
    ssize_t r = tls_read(buf, n, &w) ;
    if (r > 0) return r ;
    if (w == TLS_WANT_READ || w == TLS_WANT_WRITE) { rd_want = w ; errno = EAGAIN ; return -1 ; }
    return w == TLS_EOF ? 0 : -1 ;
  }
  return read(0, buf, n) ;
}

static ssize_t client_write (char const *buf, size_t n)
{
  if (tls_on)
  {
    enum tls_want w = TLS_DONE ;
    ssize_t r = tls_write(buf, n, &w) ;
    if (r > 0) return r ;
    if (w == TLS_WANT_READ || w == TLS_WANT_WRITE) { wr_want = w ; errno = EAGAIN ; return -1 ; }
    errno = EPIPE ;
    return -1 ;
  }
  return write(1, buf, n) ;
}

static void client_fill (void)
{
  size_t room = mx_fifo_room(&cin) ;
  ssize_t r ;
  if (!room) return ;
  r = client_read(cin.s + cin.tail, room) ;
  if (r > 0) { cin.tail += (size_t)r ; last_activity = now ; rd_want = TLS_WANT_READ ; }
  else if (!r || errno != EAGAIN) client_eof = 1 ;
}

static void client_flush (void)
{
  ssize_t r = client_write(cout.s + cout.head, mx_fifo_len(&cout)) ;
  if (r > 0) { mx_fifo_skip(&cout, (size_t)r) ; last_activity = now ; wr_want = TLS_WANT_WRITE ; }
  else if (errno != EAGAIN && errno != EINTR)
  {
    cout.head = cout.tail = 0 ;
    client_eof = 1 ;
    finish("client-gone") ;
  }
}

static void begin_handshake (void)
{
  if (!tls_start(0, 1))
  {
    finish("handshake-failed") ;
    memcpy(stats->err, "unable to start TLS", 20) ;
    return ;
  }
  cmode = C_HANDSHAKE ;
  hs_want = TLS_WANT_READ ;
  hs_deadline = now + conf->handshake_ms ;
}

static void handshake_step (void)
{
  enum tls_want w = tls_handshake(stats->err, sizeof stats->err) ;
  if (w == TLS_DONE)
  {
    tls_on = 1 ;
    stats->tls = 1 ;
    in_transaction = 0 ;
    cmode = C_COMMAND ;
    last_activity = now ;
    if (!conf->implicit)
    {
      /* RFC 3207 4.2: the session starts over; the client says EHLO
         again, the last EHLO answer's PIPELINING no longer holds */
      need_helo = 1 ;
      pipelining = may_follow = 0 ;
      /* nothing was owed while TLS started: whatever the child sent
         meanwhile answers nothing, and is never passed into TLS */
      if (mx_fifo_len(&kin))
      {
        kin.head = kin.tail = 0 ;
        last_word("421 4.3.0 mail server out of step, closing connection\r\n", "out-of-step") ;
      }
    }
  }
  else if (w == TLS_WANT_READ || w == TLS_WANT_WRITE) hs_want = w ;
  else { cout.head = cout.tail = 0 ; finish("handshake-failed") ; }
}

static long long deadline (void)
{
  if (cmode == C_HANDSHAKE) return hs_deadline ;
  return last_activity + conf->idle_ms ;
}

char const *relay_handshake (relay_conf const *c, relay_stats *st)
{
  conf = c ;
  stats = st ;
  mx_fifo_nonblocking(0) ; mx_fifo_nonblocking(1) ;
  now = mx_now_ms() ;
  begin_handshake() ;
  while (!result && cmode == C_HANDSHAKE)
  {
    struct pollfd p ;
    handshake_step() ;
    if (result || cmode != C_HANDSHAKE) break ;
    now = mx_now_ms() ;
    if (now >= hs_deadline) { memcpy(stats->err, "handshake timed out", 20) ; finish("handshake-timeout") ; break ; }
    p.fd = hs_want == TLS_WANT_WRITE ? 1 : 0 ;
    p.events = hs_want == TLS_WANT_WRITE ? POLLOUT : POLLIN ;
    if (poll(&p, 1, (int)(hs_deadline - now)) < 0 && errno != EINTR) finish("poll-error") ;
  }
  return result ;
}

char const *relay_run (relay_conf const *c, int fromchild, int tochild, relay_stats *st)
{
  conf = c ;
  stats = st ;
  mx_fifo_nonblocking(0) ; mx_fifo_nonblocking(1) ;
  mx_fifo_nonblocking(fromchild) ; mx_fifo_nonblocking(tochild) ;
  now = last_activity = mx_now_ms() ;
  {
    char const *l = conf->local_name ? conf->local_name : "" ;
    safe_name(local_name, l, strlen(l)) ;
    if (!*local_name) memcpy(local_name, "localhost", 10) ;
  }
  if (conf->implicit && !tls_on) begin_handshake() ;

  for (;;)
  {
    struct pollfd p[5] ;
    int np = 0, ci = -1, co = -1, ki = -1, ko = -1, e ;
    long long wake ;

    now = mx_now_ms() ;
    if (!result)
    {
      client_input() ;
      child_input() ;
      if (cmode == C_STARTING && !mx_fifo_len(&cout)) begin_handshake() ;
      if (cmode == C_HANDSHAKE) handshake_step() ;
      if (cmode == C_COMMAND && tls_on) child_input() ;   /* implicit: the greeting waited for TLS */
    }
    if (!result && child_eof && !smtp_reply_len(kin.s + kin.head, mx_fifo_len(&kin)))
    {
      /* the child is gone: after a refusal of its own that was its last
         word; with an answer owed after anything else, it died */
      if (OWED != O_NONE && last_code < 400) last_word("421 4.3.0 mail server unavailable, closing connection\r\n", "child-died") ;
      else finish("child-exit") ;
    }
    if (!result && client_eof && !mx_fifo_len(&cin) && OWED == O_NONE && cmode != C_HANDSHAKE) finish("client-eof") ;
    /* the child's input ends after QUIT, or at the end: exim waits for
       it before it says 221 */
    if ((result || quit_sent) && !mx_fifo_len(&kout) && !kout_closed) { close(tochild) ; kout_closed = 1 ; }
    if (result && !mx_fifo_len(&cout)) break ;

    if (cmode == C_HANDSHAKE)
    {
      ci = np ; p[np].fd = hs_want == TLS_WANT_WRITE ? 1 : 0 ; p[np].events = hs_want == TLS_WANT_WRITE ? POLLOUT : POLLIN ; np++ ;
    }
    else
    {
      if (!result && !client_eof && cmode != C_STARTING && cmode != C_DONE && mx_fifo_room(&cin))
      {
        ci = np ;
        p[np].fd = tls_on && rd_want == TLS_WANT_WRITE ? 1 : 0 ;
        p[np].events = tls_on && rd_want == TLS_WANT_WRITE ? POLLOUT : POLLIN ;
        np++ ;
      }
      if (mx_fifo_len(&cout))
      {
        co = np ;
        p[np].fd = tls_on && wr_want == TLS_WANT_READ ? 0 : 1 ;
        p[np].events = tls_on && wr_want == TLS_WANT_READ ? POLLIN : POLLOUT ;
        np++ ;
      }
    }
    if (!kout_closed && mx_fifo_len(&kout)) { ko = np ; p[np].fd = tochild ; p[np].events = POLLOUT ; np++ ; }
    if (!result && !child_eof && mx_fifo_room(&kin)) { ki = np ; p[np].fd = fromchild ; p[np].events = POLLIN ; np++ ; }

    wake = deadline() ;
    /* bytes OpenSSL has already decrypted wait for no poll */
    e = poll(p, (nfds_t)np, ci >= 0 && tls_on && cmode != C_HANDSHAKE && tls_pending() ? 0 : wake > now ? (int)(wake - now) : 0) ;
    if (e < 0)
    {
      if (errno == EINTR) continue ;
      if (!result) result = "poll-error" ;
      break ;
    }
    now = mx_now_ms() ;
    if (!e && !(ci >= 0 && tls_on && tls_pending()))
    {
      if (now < deadline()) continue ;
      if (result) break ;   /* the client reads nothing: give up */
      if (cmode == C_HANDSHAKE) { memcpy(stats->err, "handshake timed out", 20) ; finish("handshake-timeout") ; cout.head = cout.tail = 0 ; continue ; }
      if (OWED != O_NONE) last_word("421 4.3.0 mail server not answering, closing connection\r\n", "child-timeout") ;
      else last_word("421 4.4.2 timeout, closing connection\r\n", "timeout") ;
      continue ;
    }
    if (ci >= 0 && (p[ci].revents || (tls_on && tls_pending())))
    {
      if (cmode == C_HANDSHAKE) handshake_step() ;
      else client_fill() ;
    }
    if (co >= 0 && p[co].revents) client_flush() ;
    if (ko >= 0 && p[ko].revents)
    {
      ssize_t r = mx_fifo_flush(tochild, &kout) ;
      if (r < 0 && errno != EAGAIN && errno != EINTR) { kout.head = kout.tail = 0 ; close(tochild) ; kout_closed = 1 ; }
    }
    if (ki >= 0 && p[ki].revents)
    {
      ssize_t r = mx_fifo_fill(fromchild, &kin) ;
      if (r > 0) last_activity = now ;
      else if (!r || (errno != EAGAIN && errno != EINTR)) child_eof = 1 ;
    }
  }
  if (!kout_closed) close(tochild) ;
  if (tls_on) tls_close() ;
  return result ;
}
