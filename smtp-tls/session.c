/* session: see session.h. Fixed queues, no descriptor, no clock. */
#include "session.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mx_relay.h"
#include "mx_smtp.h"

#define BUFSZ 65536
#define LINE_MAX_BYTES 12288
#define NAME_MAX_BYTES 128      /* a HELO or local name in the trace line */
#define OUT_OF_STEP "421 4.3.0 mail server out of step, closing connection\r\n"

/* what the child's next reply answers */
enum owed { O_NONE, O_GREETING, O_COMMAND, O_EHLO, O_HELO, O_MAIL, O_RCPT, O_RESET, O_DATA, O_DATAEND, O_AUTH, O_QUIT } ;

/* where client input stands while the engine follows */
enum cmode { C_COMMAND, C_AUTHLINE, C_DATA } ;

static char cinbuf[BUFSZ], coutbuf[BUFSZ], kinbuf[BUFSZ], koutbuf[BUFSZ] ;
mx_fifo session_cin = MX_FIFO(cinbuf) ;     /* from the client, in clear */
mx_fifo session_cout = MX_FIFO(coutbuf) ;   /* for the client, in clear */
mx_fifo session_kin = MX_FIFO(kinbuf) ;     /* from the child */
mx_fifo session_kout = MX_FIFO(koutbuf) ;   /* for the child */
#define cin session_cin
#define cout session_cout
#define kin session_kin
#define kout session_kout

#define OWED_MAX 256

/* the whole state, reset by session_start */
static struct
{
  session_conf const *conf ;
  enum session_phase phase ;
  enum cmode cmode ;
  /* the replies the child owes, in order */
  unsigned char owedq[OWED_MAX] ;
  unsigned int oq_head, oq_len ;
  int may_follow ;           /* the last command given the child may be followed before its answer */
  int pipelining ;           /* the child's last EHLO answer offered PIPELINING */
  int tls_on ;               /* the client side is TLS */
  int tls_broken ;           /* TLS could not be made ready: no STARTTLS from then on */
  int in_transaction ;       /* after MAIL, until its end */
  int need_helo ;            /* after STARTTLS, until a new EHLO or HELO is answered 250 */
  int authed ;               /* an AUTH was answered 2xx */
  int skipping ;             /* dropping the rest of an overlong line */
  int client_eof, child_eof, quit_sent ;
  unsigned int last_code ;
  datascan scan ;
  char const *result ;
  unsigned long long injected ;
  char helo_pending[NAME_MAX_BYTES + 1] ;   /* the name of the EHLO or HELO on its way */
  char helo_name[NAME_MAX_BYTES + 1] ;      /* the name of the last one answered 250 */
  char local_name[NAME_MAX_BYTES + 1] ;
  char cipher[64] ;
  /* the relay's reading of the server's bytes: the position in the
     line (0-2 digits, 3 what follows them, 4 the rest), the code */
  unsigned int wpos, wcode ;
  int saw_221 ;
} s ;

#define OWED ((enum owed)(s.oq_len ? s.owedq[s.oq_head] : O_NONE))

static void finish (char const *why)
{
  if (!s.result) s.result = why ;
  s.phase = SESSION_DONE ;
}

/* our own answer, when nothing is owed by the child (one command at a
   time: it is the client's next answer) */
static void say (char const *reply)
{
  mx_fifo_put(&cout, reply, strlen(reply)) ;
}

static void last_word (char const *reply, char const *why)
{
  if (!s.result && reply) say(reply) ;
  finish(why) ;
}

static void owe (enum owed o)
{
  s.owedq[(s.oq_head + s.oq_len++) % OWED_MAX] = (unsigned char)o ;
}

static void forward (char const *line, size_t len, enum owed o)
{
  mx_fifo_put(&kout, line, len) ;
  mx_fifo_put(&kout, "\r\n", 2) ;
  owe(o) ;
  /* MAIL, RCPT and RSET may be followed by the next command of their
     group (RFC 2920), when the server offered PIPELINING */
  s.may_follow = s.pipelining && (o == O_MAIL || o == O_RESET || o == O_RCPT) ;
}

/* a name made safe for the trace line: the bytes of a domain or an
   address ([A-Za-z0-9.-_:]), any other as '?', cut to NAME_MAX_BYTES;
   the first word only */
static void safe_name (char *out, char const *t, size_t len)
{
  size_t i = 0, n = 0 ;
  while (i < len && (t[i] == ' ' || t[i] == '\t')) i++ ;
  for (; i < len && n < NAME_MAX_BYTES && t[i] != ' ' && t[i] != '\t' ; i++)
  {
    char c = t[i] ;
    out[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
      || c == '.' || c == '-' || c == '_' || c == ':' ? c : '?' ;
  }
  out[n] = 0 ;
}

/* The answer smtp-tls gives a command itself, or 0 when the command
   goes to the child; *start: the answer is STARTTLS's 220. The state
   it reads (in_transaction, need_helo, authed) is settled whenever
   nothing is owed, which is when these answers are given. */
static char const *own (char const *line, size_t len, int *start, int commit)
{
  size_t arg ;
  enum smtp_verb v ;
  int st = smtp_starttls_line(line, len) ;
  *start = 0 ;
  if (st)
  {
    /* "STARTTLS", "STARTTLS<TAB>" and any other STARTTLS-like line:
       never the server's */
    if (s.tls_on) return "503 5.5.1 TLS already active\r\n" ;
    if (!s.conf->tls_ok || s.tls_broken) return "502 5.5.1 STARTTLS not available\r\n" ;
    if (st == 2) return "501 5.5.4 STARTTLS takes no parameters\r\n" ;
    if (s.in_transaction) return "503 5.5.1 STARTTLS not allowed in a mail transaction\r\n" ;
    /* RFC 4954 4: no TLS under an authentication made in clear */
    if (s.authed) return "503 5.5.1 STARTTLS not allowed after AUTH\r\n" ;
    /* OpenSSL and the context, now that they are needed (RFC 3207 4) */
    if (commit && s.conf->tls_ready && !s.conf->tls_ready())
    {
      s.tls_broken = 1 ;
      return "454 4.7.0 TLS not available due to temporary reason\r\n" ;
    }
    *start = 1 ;
    return "220 2.0.0 Ready to start TLS\r\n" ;
  }
  v = smtp_verb(line, len, &arg) ;
  /* RFC 3207 4.2: after the handshake the session starts over; the
     child keeps what it was told in clear until a new EHLO or HELO
     replaces it, so nothing that uses it is let through before one */
  if (s.need_helo && (v == VERB_MAIL || v == VERB_RCPT || v == VERB_DATA || v == VERB_AUTH || v == VERB_BDAT))
    return "503 5.5.1 Send EHLO again after STARTTLS (RFC 3207)\r\n" ;
  /* chunks would be read as commands here */
  if (v == VERB_BDAT) return "502 5.5.1 BDAT not available here, use DATA\r\n" ;
  if (v == VERB_AUTH && s.conf->auth_tls_only && !s.tls_on)
    return "538 5.7.11 Encryption required for requested authentication mechanism\r\n" ;
  return 0 ;
}

/* One command line (len bytes, line end removed). */
static void command (char const *line, size_t len)
{
  size_t arg ;
  int start ;
  char const *reply ;
  if (s.cmode == C_AUTHLINE)
  {
    forward(line, len, O_AUTH) ;
    s.cmode = C_COMMAND ;
    return ;
  }
  reply = own(line, len, &start, 1) ;
  if (reply)
  {
    say(reply) ;
    if (start) s.phase = SESSION_STARTING ;
    return ;
  }
  switch (smtp_verb(line, len, &arg))
  {
    case VERB_EHLO : safe_name(s.helo_pending, line + arg, len - arg) ; forward(line, len, O_EHLO) ; return ;
    case VERB_HELO : safe_name(s.helo_pending, line + arg, len - arg) ; forward(line, len, O_HELO) ; return ;
    case VERB_MAIL :
      forward(line, len, O_MAIL) ;
      /* in clear, the client has chosen clear: from here on, bytes
         (but -a: AUTH in clear is refused to the end) */
      if (!s.tls_on && !s.conf->auth_tls_only) s.phase = SESSION_RELAY ;
      return ;
    case VERB_RCPT : forward(line, len, O_RCPT) ; return ;
    case VERB_RSET : forward(line, len, O_RESET) ; return ;
    case VERB_DATA : forward(line, len, O_DATA) ; return ;
    case VERB_AUTH : forward(line, len, O_AUTH) ; return ;
    case VERB_QUIT : forward(line, len, O_QUIT) ; s.quit_sent = 1 ; return ;
    default : forward(line, len, O_COMMAND) ; return ;
  }
}

static void data_bytes (void)
{
  size_t n = mx_fifo_len(&cin), room = mx_fifo_room(&kout), used ;
  enum datascan_result r ;
  if (n > room) n = room ;
  if (!n) return ;
  r = datascan_run(&s.scan, cin.s + cin.head, n, &used) ;
  mx_fifo_put(&kout, cin.s + cin.head, used) ;
  mx_fifo_skip(&cin, used) ;
  if (r == DATASCAN_END) { owe(O_DATAEND) ; s.may_follow = 0 ; s.cmode = C_COMMAND ; }
  else if (r == DATASCAN_BARE)
    last_word("421 4.5.0 bare LF next to the final dot (RFC 5321 4.1.1.4), message refused, closing connection\r\n", "bare-lf") ;
}

static int answered_here (char const *line, size_t len)
{
  int start ;
  return !!own(line, len, &start, 0) ;
}

/* The trace field (RFC 5321 4.4, with RFC 8314 4.3's tls clause) at
   the head of a message received in TLS (client_input keeps room). */
static void trace (mx_fifo *up)
{
  char buf[2 * NAME_MAX_BYTES + 400], date[64], lit[80] ;
  time_t t = time(0) ;
  struct tm tm ;
  int n ;
  if (!localtime_r(&t, &tm) || !strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm)) return ;
  lit[0] = 0 ;
  if (s.conf->client_ip && *s.conf->client_ip)
    snprintf(lit, sizeof lit, " ([%s%s])", strchr(s.conf->client_ip, ':') ? "IPv6:" : "", s.conf->client_ip) ;
  n = snprintf(buf, sizeof buf, "Received: from %s%s\r\n\tby %s (smtp-tls) with %s tls %s;\r\n\t%s\r\n",
    *s.helo_name ? s.helo_name : "unknown", lit, s.local_name, s.authed ? "ESMTPSA" : "ESMTPS", s.cipher, date) ;
  if (n > 0 && (size_t)n < sizeof buf) mx_fifo_put(up, buf, (size_t)n) ;
}

/* Handles client input while the buffers allow. */
static void client_input (void)
{
  while (s.phase == SESSION_FOLLOW)
  {
    size_t n = mx_fifo_len(&cin), len, whole ;
    char *nl ;
    if (s.cmode == C_DATA) { data_bytes() ; if (s.cmode == C_DATA) return ; continue ; }
    /* one line may go before the greeting, so that a link behind that
       judges early talkers (smtp-delay behind smtp-tls -i) sees it */
    if ((s.oq_len && !s.may_follow && !(s.oq_len == 1 && OWED == O_GREETING)) || !n || s.oq_len >= OWED_MAX - 1) return ;
    /* room for a command, or for our own answer to it */
    if (mx_fifo_room(&kout) < LINE_MAX_BYTES + 2 || mx_fifo_room(&cout) < 512) return ;
    nl = memchr(cin.s + cin.head, '\n', n) ;
    if (s.skipping)
    {
      if (!nl) { mx_fifo_skip(&cin, n) ; return ; }
      if (s.oq_len) return ;   /* our answer comes after the child's */
      mx_fifo_skip(&cin, (size_t)(nl - (cin.s + cin.head)) + 1) ;
      s.skipping = 0 ;
      if (s.cmode == C_AUTHLINE) command("*", 1) ;   /* cancels the AUTH (RFC 4954) */
      else say("500 5.5.2 line too long\r\n") ;
      continue ;
    }
    if (!nl)
    {
      if (n > LINE_MAX_BYTES) { s.skipping = 1 ; continue ; }
      if (s.client_eof) mx_fifo_skip(&cin, n) ;
      return ;
    }
    len = (size_t)(nl - (cin.s + cin.head)) ;
    whole = len + 1 ;
    if (len && cin.s[cin.head + len - 1] == '\r') len-- ;
    /* our own answers come in turn: after every answer the child owes,
       and after what the child sent unasked is dealt with (nothing the
       server said before STARTTLS may cross into TLS) */
    if ((s.oq_len || mx_fifo_len(&kin)) && (len > LINE_MAX_BYTES || (s.cmode == C_COMMAND && answered_here(cin.s + cin.head, len)))) return ;
    if (len > LINE_MAX_BYTES)
    {
      if (s.cmode == C_AUTHLINE) command("*", 1) ;
      else say("500 5.5.2 line too long\r\n") ;
    }
    else command(cin.s + cin.head, len) ;
    mx_fifo_skip(&cin, whole) ;
    if (s.phase == SESSION_STARTING)
    {
      /* what the client sent after STARTTLS in clear is never used */
      s.injected += mx_fifo_len(&cin) ;
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
  /* implicit TLS: the greeting waits for the handshake */
  while (s.phase == SESSION_FOLLOW && (s.tls_on || !s.conf->implicit))
  {
    size_t n = smtp_reply_len(kin.s + kin.head, mx_fifo_len(&kin)) ;
    unsigned int code ;
    char *copy ;
    enum owed o = OWED ;
    if (!n)
    {
      if (mx_fifo_room(&kin) == 0) last_word(OUT_OF_STEP, "out-of-step") ;
      return ;
    }
    code = smtp_reply_valid(kin.s + kin.head, n) ;
    if (o == O_NONE)
    {
      /* unasked: the server's own timeout or shutdown notice is its last
         word; anything else answers a command it never got */
      if (code / 100 == 4 && mx_fifo_put(&cout, kin.s + kin.head, n)) { mx_fifo_skip(&kin, n) ; finish("child-closed") ; }
      else last_word(OUT_OF_STEP, "out-of-step") ;
      return ;
    }
    if (!code || !smtp_reply_fits(answers_what(o), code)) { last_word(OUT_OF_STEP, "out-of-step") ; return ; }
    if (mx_fifo_room(&cout) < n + 16) return ;
    copy = cout.s + cout.tail ;
    memcpy(copy, kin.s + kin.head, n) ;
    cout.tail += n ;
    mx_fifo_skip(&kin, n) ;
    s.last_code = code ;
    if (o == O_EHLO || o == O_HELO) s.pipelining = 0 ;
    if (o == O_EHLO && code == 250)
    {
      /* only what the engine can follow is offered (mx_smtp's
         allow-list), SMTPUTF8 too (no address is read here), AUTH not
         in clear with -a; then its own STARTTLS */
      unsigned int bits, keep = EXT_DEFAULT | EXT_SMTPUTF8 ;
      size_t m ;
      if (s.conf->auth_tls_only && !s.tls_on) keep &= ~EXT_AUTH ;
      m = smtp_ehlo_keep(copy, n, keep, &bits) ;
      s.pipelining = !!(bits & EXT_PIPELINING) ;
      cout.tail -= n ;
      cout.tail += smtp_ehlo_starttls(copy, m, n + 16, s.conf->tls_ok && !s.tls_broken && !s.tls_on) ;
    }
    if (code == 421) { finish("child-421") ; return ; }
    s.oq_head = (s.oq_head + 1) % OWED_MAX ;
    s.oq_len-- ;
    switch (o)
    {
      case O_EHLO : case O_HELO :
        if (code == 250)
        {
          s.in_transaction = 0 ;
          s.need_helo = 0 ;
          memcpy(s.helo_name, s.helo_pending, sizeof s.helo_name) ;
        }
        break ;
      case O_RESET : if (code == 250) s.in_transaction = 0 ; break ;
      case O_MAIL : if (code / 100 == 2) s.in_transaction = 1 ; break ;
      case O_DATA :
        if (code == 354)
        {
          datascan_start(&s.scan) ;
          s.cmode = C_DATA ;
          if (s.tls_on) trace(&kout) ;
        }
        break ;
      case O_DATAEND : s.in_transaction = 0 ; break ;
      case O_AUTH :
        if (code == 334) s.cmode = C_AUTHLINE ;
        else if (code / 100 == 2) s.authed = 1 ;
        break ;
      case O_QUIT : finish("quit") ; return ;
      default : break ;
    }
    client_input() ;
  }
}

int session_watch (void *ctx, char const *t, size_t n, mx_fifo *up)
{
  size_t i ;
  (void)ctx ;
  (void)up ;
  /* only a 221 (the answer to QUIT), at the head of a line */
  for (i = 0 ; i < n ; i++)
  {
    char c = t[i] ;
    if (c == '\n') { s.wpos = 0 ; s.wcode = 0 ; continue ; }
    if (s.wpos < 3)
    {
      if (c >= '0' && c <= '9') { s.wcode = s.wcode * 10 + (unsigned int)(c - '0') ; s.wpos++ ; }
      else s.wpos = 4 ;
    }
    else if (s.wpos == 3)
    {
      s.wpos = 4 ;
      if (c != '-' && s.wcode == 221) s.saw_221 = 1 ;
    }
  }
  /* the answer to QUIT: the server's input may end (exim waits for it) */
  return s.saw_221 ? MX_RELAY_LAST_WORD : 1 ;
}

char const *session_relay_end (int server_closed)
{
  return !server_closed ? "client-gone" : s.saw_221 ? "quit" : "child-exit" ;
}

/* Relaying: bytes as they come, the server's read by session_watch. */
static void relay_bytes (void)
{
  size_t n = mx_fifo_len(&cin), room = mx_fifo_room(&kout) ;
  if (n > room) n = room ;
  mx_fifo_put(&kout, cin.s + cin.head, n) ;
  mx_fifo_skip(&cin, n) ;
  n = mx_fifo_len(&kin) ; room = mx_fifo_room(&cout) ;
  if (n > room) n = room ;
  if (!n) return ;
  /* the answer to QUIT: the I/O loop closes the server's input */
  if (session_watch(0, kin.s + kin.head, n, &kout) == MX_RELAY_LAST_WORD) s.quit_sent = 1 ;
  mx_fifo_put(&cout, kin.s + kin.head, n) ;
  mx_fifo_skip(&kin, n) ;
}

void session_start (session_conf const *conf)
{
  char const *l = conf->local_name ? conf->local_name : "" ;
  memset(&s, 0, sizeof s) ;
  cin.head = cin.tail = cout.head = cout.tail = kin.head = kin.tail = kout.head = kout.tail = 0 ;
  s.conf = conf ;
  s.phase = SESSION_FOLLOW ;
  s.owedq[0] = O_GREETING ;
  s.oq_len = 1 ;
  safe_name(s.local_name, l, strlen(l)) ;
  if (!*s.local_name) memcpy(s.local_name, "localhost", 10) ;
}

void session_run (void)
{
  if (s.phase == SESSION_FOLLOW)
  {
    client_input() ;
    child_input() ;
  }
  if (s.phase == SESSION_RELAY)
  {
    relay_bytes() ;
    if (s.child_eof && !mx_fifo_len(&kin)) finish(session_relay_end(1)) ;
    return ;
  }
  if (s.phase != SESSION_FOLLOW) return ;
  if (s.child_eof && !smtp_reply_len(kin.s + kin.head, mx_fifo_len(&kin)))
  {
    /* the child is gone: after a refusal of its own that was its last
       word; with an answer owed after anything else, it died */
    if (OWED != O_NONE && s.last_code < 400) last_word("421 4.3.0 mail server unavailable, closing connection\r\n", "child-died") ;
    else finish("child-exit") ;
  }
  else if (s.client_eof && !mx_fifo_len(&cin) && OWED == O_NONE) finish("client-eof") ;
}

enum session_phase session_phase (void) { return s.phase ; }
void session_client_eof (void) { s.client_eof = 1 ; }
void session_child_eof (void) { s.child_eof = 1 ; }
int session_owes (void) { return s.phase == SESSION_FOLLOW && OWED != O_NONE ; }
int session_quit_sent (void) { return s.quit_sent ; }
char const *session_result (void) { return s.result ; }
unsigned long long session_injected (void) { return s.injected ; }

void session_handshake (void)
{
  if (s.phase == SESSION_STARTING) s.phase = SESSION_HANDSHAKE ;
}

void session_tls_up (char const *cipher)
{
  size_t n = strlen(cipher) ;
  if (n >= sizeof s.cipher) n = sizeof s.cipher - 1 ;
  memcpy(s.cipher, cipher, n) ;
  s.cipher[n] = 0 ;
  s.tls_on = 1 ;
  s.in_transaction = 0 ;
  if (s.phase == SESSION_HANDSHAKE) s.phase = SESSION_FOLLOW ;
  if (!s.conf->implicit)
  {
    /* RFC 3207 4.2: the session starts over; the client says EHLO
       again, the last EHLO answer's PIPELINING no longer holds */
    s.need_helo = 1 ;
    s.pipelining = s.may_follow = 0 ;
    /* nothing was owed while TLS started: whatever the child sent
       meanwhile answers nothing, and is never passed into TLS */
    if (mx_fifo_len(&kin))
    {
      kin.head = kin.tail = 0 ;
      last_word(OUT_OF_STEP, "out-of-step") ;
    }
  }
}

void session_end (char const *reply, char const *why)
{
  last_word(reply, why) ;
}
