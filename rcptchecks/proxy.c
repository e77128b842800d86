/* proxy: see proxy.h. One process, one poll loop, fixed buffers: a
 * hostile client can fill them, and then it is simply not read.
 */
#include "proxy.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "mx_fifo.h"
#include "mx_secs.h"
#include "mx_smtp.h"
#include "mx_utf8.h"
#include "envelope.h"
#include "mx_log.h"
#include "rcptaddr.h"

#define BUFSZ 65536
#define QMAX 128
#define TEXTSZ 16384

/* what an owed answer answers */
enum what { W_LOCAL, W_GREETING, W_OTHER, W_MAIL, W_EHLO, W_HELO, W_DATA, W_DATAEND, W_AUTH, W_QUIT } ;

/* where client input stands */
enum mode
{
  M_COMMAND,      /* lines are commands */
  M_HELD,         /* waiting for the child's answer to DATA, AUTH, EHLO, HELO or QUIT */
  M_AUTHLINE,     /* the next line answers the child's 334 */
  M_DATA,         /* message bytes */
  M_DONE          /* nothing more is read */
} ;

typedef struct answer_s answer ;
struct answer_s
{
  long long ready ;            /* not before (monotonic ms) */
  unsigned short len ;         /* W_LOCAL: bytes of text in the text fifo */
  unsigned char what ;
  char const *close ;          /* W_LOCAL: end the session with this result */
} ;

static char inbuf[BUFSZ], childinbuf[BUFSZ], childoutbuf[BUFSZ], outbuf[BUFSZ], textbuf[TEXTSZ] ;
static mx_fifo in = MX_FIFO(inbuf) ;             /* from the client, not yet handled */
static mx_fifo tochild = MX_FIFO(childinbuf) ;   /* for the child */
static mx_fifo fromchild = MX_FIFO(childoutbuf) ; /* from the child, not yet answered */
static mx_fifo out = MX_FIFO(outbuf) ;           /* for the client */
static mx_fifo text = MX_FIFO(textbuf) ;         /* local answers' texts */

static answer queue[QMAX] ;
static unsigned int qhead, qlen ;

static proxy_conf const *conf ;
static envelope *env ;         /* conf->chk->env */
static proxy_stats *stats ;
static enum mode mode = M_COMMAND ;
static datascan scan ;
static int skipping ;          /* discarding the rest of an overlong line */
static int client_eof, child_eof, childin_closed ;
static int quit_sent ;         /* QUIT forwarded: the child's input ends after it */
static int tochild_fd, fromchild_fd ;
static char const *result ;    /* set: the session is ending */
static long long now, last_activity ;
static long long last_ready ;  /* when the last delayed answer is due */
static unsigned int offered ;  /* EXT_ bits of the last EHLO answer passed on */
static int may_follow ;        /* the last command given the child was MAIL, RCPT or RSET */
static int pipelining_logged ; /* a warn-only pipelining check logs once */
static int trusted ;           /* RELAYCLIENT or a successful AUTH: no recipient or envelope check */

/* Which child reply answers which command. Counts since the start: the
   greeting is the first thing asked. A command is asked once all its
   bytes are written to the child; a reply is heard once complete. */
static unsigned long long forwarded = 1, asked = 1, heard, consumed ;
static unsigned long long put_total, written_total ;
/* where each command given the child and not yet asked ends in the
   stream to it (at most QMAX + 1 at once: every one owes an answer) */
static unsigned long long ends[QMAX + 2] ;
static unsigned int ends_head, ends_len ;
static size_t scanned ;                 /* bytes of fromchild counted in heard */
static unsigned long long closing_at ;  /* the reply that is the child's last word */
static unsigned int last_code ;         /* of the last reply passed on */
static long long last_child ;           /* the child's last byte, or the last command given it */
static long long client_gone_at ;       /* when the client's input ended */

/* consumed from the child: no longer counted in scanned */
static void fromchild_skip (size_t n)
{
  mx_fifo_skip(&fromchild, n) ;
  scanned = scanned > n ? scanned - n : 0 ;
  consumed++ ;
}

static void finish (char const *why)
{
  if (!result) result = why ;
  mode = M_DONE ;
}

/* A last word to the client, outside the queue (whatever was owed is
   not coming), then the end. */
static void last_word (char const *reply, char const *why)
{
  mx_fifo_put(&out, reply, strlen(reply)) ;
  finish(why) ;
}

static answer *owe (enum what w, long long ready)
{
  answer *a = &queue[(qhead + qlen++) % QMAX] ;
  a->what = (unsigned char)w ;
  a->ready = ready ;
  a->len = 0 ;
  a->close = 0 ;
  return a ;
}

static void owe_local (char const *reply, size_t len, long long ready, char const *close)
{
  answer *a = owe(W_LOCAL, ready) ;
  mx_fifo_put(&text, reply, len) ;   /* room was checked by the caller */
  a->len = (unsigned short)len ;
  a->close = close ;
}

/* Room for one more command's consequences: an answer, its text, and
   the line on its way to the child. */
static int room_for_command (size_t linelen)
{
  return qlen < QMAX && mx_fifo_room(&text) >= CHECK_REPLYROOM && mx_fifo_room(&tochild) >= linelen + 2 ;
}

static void put_child (char const *s, size_t n)
{
  mx_fifo_put(&tochild, s, n) ;
  put_total += n ;
}

/* The end of a command the child owes a reply to. */
static void asking (void)
{
  forwarded++ ;
  ends[(ends_head + ends_len++) % (QMAX + 2)] = put_total ;
  last_child = now ;
}

static void forward (char const *line, size_t len)
{
  put_child(line, len) ;
  put_child("\r\n", 2) ;
  asking() ;
  may_follow = 0 ;
}

/* MAIL, RCPT and RSET, which RFC 2920 lets a client send in a group:
   when the server offered PIPELINING, the next command may follow them
   before their answers. Every other command ends a group, and the next
   one waits for every answer (a reply that answers nothing then shows:
   see child_replies). */
static void forward_pipelined (char const *line, size_t len)
{
  forward(line, len) ;
  may_follow = !!(offered & EXT_PIPELINING) ;
}

/* The proxy and the server no longer agree: whatever was owed is not
   coming. */
static void out_of_step (void)
{
  last_word("421 4.3.0 mail server out of step, closing connection\r\n", "out-of-step") ;
}

static size_t line_limit (void)
{
  size_t arg ;
  size_t peek = mx_fifo_len(&in) < 16 ? mx_fifo_len(&in) : 16 ;
  if (mode == M_AUTHLINE || smtp_verb(in.s + in.head, peek, &arg) == VERB_AUTH)
    return PROXY_LINE_MAX ;
  return conf->linemax < PROXY_LINE_MAX ? conf->linemax : PROXY_LINE_MAX ;
}

/* When an answer delayed by delay ms is due: after the answer before
   it, so that pipelined RCPTs wait one delay after another, as they
   would one at a time. */
static long long due (unsigned int delay)
{
  if (!delay) return 0 ;
  last_ready = (last_ready > now ? last_ready : now) + delay ;
  return last_ready ;
}

static void local (char const *reply)
{
  owe_local(reply, strlen(reply), 0, 0) ;
}

/* Unauthorised pipelining (RFC 2920; Postfix's smtpd_forbid_unauth_pipelining):
   a command the client sent before the answer to the one before it, when
   PIPELINING was not offered, or before the greeting or an EHLO answer.
   Checked where it shows: when a command is taken while answers are still
   owed to the client (early: the answer is not out yet), and when an
   answer goes out with client bytes already waiting (held: EHLO, HELO,
   DATA wait for their answers before the next line is read). Returns 1
   if the session ends for it. */
static int unauth_pipelining (enum what w)
{
  int warn ;
  if (!env->mode[ENV_PIPELINING] || mode == M_DONE || trusted) return 0 ;
  /* the answer to the end of the data is never withheld: the message
     is the server's by then (commands sent right after "." are taken) */
  if (w == W_QUIT || w == W_AUTH || w == W_DATAEND) return 0 ;
  if (w != W_GREETING && w != W_EHLO && (offered & EXT_PIPELINING)) return 0 ;
  warn = env->mode[ENV_PIPELINING] == ENV_WARN ;
  /* refused: the session's own line says result=pipelining */
  if (warn && !pipelining_logged)
    mx_info(conf->chk->ip, "helo=<", env->helo, "> from=<", env->from, "> result=pipelining dryrun=1") ;
  pipelining_logged = 1 ;
  if (warn) return 0 ;
  mx_fifo_skip(&in, mx_fifo_len(&in)) ;   /* never reaches the server */
  last_word("554 5.5.0 Error: improper use of SMTP command pipelining\r\n", "pipelining") ;
  return 1 ;
}

/* a command is about to be taken: is an answer still owed to the client? */
static int early_command (void)
{
  unsigned int i ;
  if (!qlen) return 0 ;
  /* the oldest owed answer that pipelining may not overtake decides */
  for (i = 0 ; i < qlen ; i++)
  {
    enum what w = (enum what)queue[(qhead + i) % QMAX].what ;
    if (w == W_GREETING || w == W_EHLO || !(offered & EXT_PIPELINING)) return unauth_pipelining(w) ;
  }
  return 0 ;
}

/* A trusted client's MAIL or RCPT argument (n bytes) goes to the server
   as written, but for 8-bit bytes: not UTF-8, or UTF-8 in a transaction
   that did not declare SMTPUTF8 (declared), no server may be given it
   (RFC 6531 3.7.4.1): the refusal, or 0. */
static char const *trusted_utf8 (char const *arg, size_t n, int declared, int rcpt)
{
  enum mx_utf8_kind k = mx_utf8_kind(arg, n) ;
  if (k == MX_UTF8_ASCII) return 0 ;
  if (k == MX_UTF8_BAD)
    return rcpt ? "501 5.1.3 recipient address is not valid UTF-8\r\n" : "501 5.1.7 sender address is not valid UTF-8\r\n" ;
  if (declared) return 0 ;
  return rcpt ? "553 5.6.7 non-ASCII addresses not permitted for that recipient\r\n"
    : "553 5.6.7 non-ASCII addresses not permitted for that sender\r\n" ;
}

/* One command line (len bytes, line end removed). */
static void command (char const *line, size_t len)
{
  char reply[CHECK_REPLYROOM] ;
  size_t replylen = 0, arg, params, paramslen ;
  unsigned int delay = 0 ;
  int utf8 = 0 ;
  if (mode == M_AUTHLINE)
  {
    /* an answer to the child's 334: not a command */
    forward(line, len) ;
    owe(W_AUTH, 0) ;
    mode = M_HELD ;
    return ;
  }
  if (memchr(line, 0, len) || memchr(line, '\r', len))
  {
    local("500 5.5.2 NUL or bare CR in a command\r\n") ;
    return ;
  }
  if (env->mode[ENV_NONSMTP] && !trusted && envelope_nonsmtp(line, len))
  {
    /* a web or proxy client, or a POP one, at the SMTP port: not
       passed on (postscreen's non-SMTP command test) */
    int warn = env->mode[ENV_NONSMTP] == ENV_WARN ;
    /* refused: the session's own line says result=nonsmtp */
    if (warn) mx_info(conf->chk->ip, "helo=<", env->helo, "> from=<", env->from, "> result=nonsmtp dryrun=1") ;
    if (!warn)
    {
      static char const r[] = "421 4.7.0 this is an SMTP server, closing connection\r\n" ;
      owe_local(r, sizeof r - 1, 0, "nonsmtp") ;
      mode = M_DONE ;
      return ;
    }
  }
  switch (smtp_verb(line, len, &arg))
  {
    case VERB_RCPT :
      if (trusted)
      {
        /* the server decides, as for its own trusted clients; only
           what no server may be given is refused (RFC 6531) */
        char const *no = trusted_utf8(line + arg, len - arg, env->smtputf8, 1) ;
        if (no) { local(no) ; return ; }
        forward_pipelined(line, len) ;
        owe(W_OTHER, 0) ;
        return ;
      }
      switch (check_rcpt(conf->chk, line + arg, len - arg, offered, env->smtputf8, reply, &replylen, &delay))
      {
        case CHECK_FORWARD :
          forward_pipelined(line, len) ;
          owe(W_OTHER, due(delay)) ;
          break ;
        case CHECK_REFUSE :
          owe_local(reply, replylen, due(delay), 0) ;
          break ;
        case CHECK_CLOSE :
          owe_local(reply, replylen, due(delay), conf->chk->failures ? "lookups-failed" : "too-many-unknown") ;
          mode = M_DONE ;   /* the rest of the session is not read */
          break ;
      }
      return ;
    case VERB_MAIL :
      /* a second MAIL inside a transaction is refused here, as the
         server would: the envelope's sender stays the transaction's */
      if (trusted)
      {
        char const *no ;
        /* SMTPUTF8 declared by a MAIL in our grammar; any other goes
           to the server as written, if it is ASCII */
        if (rcptaddr_mailfrom8(line + arg, len - arg, &params, &paramslen, &utf8) != RCPTADDR_MAIL_OK) utf8 = 0 ;
        no = trusted_utf8(line + arg, len - arg, utf8, 0) ;
        if (no) local(no) ;
        else { env->smtputf8 = utf8 ; forward_pipelined(line, len) ; owe(W_MAIL, 0) ; }
      }
      else if (env->in_transaction) local("503 5.5.1 Error: nested MAIL command\r\n") ;
      else switch (rcptaddr_mailfrom8(line + arg, len - arg, &params, &paramslen, &utf8))
      {
        case RCPTADDR_MAIL_BAD : local("501 5.1.7 bad sender address syntax\r\n") ; break ;
        case RCPTADDR_MAIL_NOTUTF8 : local("501 5.1.7 sender address is not valid UTF-8\r\n") ; break ;
        case RCPTADDR_MAIL_NEEDUTF8 : local("553 5.6.7 non-ASCII addresses not permitted for that sender\r\n") ; break ;
        default :
          if (paramslen && !smtp_params_ok(line + arg + params, paramslen, offered, 0))
            local("555 5.5.4 MAIL parameter not recognised\r\n") ;
          else if (!envelope_mail(env, line + arg, len - arg, params, paramslen, reply, &replylen))
            owe_local(reply, replylen, 0, 0) ;
          else { env->in_transaction = 1 ; env->smtputf8 = utf8 ; forward_pipelined(line, len) ; owe(W_MAIL, 0) ; }
      }
      return ;
    case VERB_DATA :
      forward(line, len) ;
      owe(W_DATA, 0) ;
      mode = M_HELD ;
      return ;
    case VERB_AUTH :
      forward(line, len) ;
      owe(W_AUTH, 0) ;
      mode = M_HELD ;
      return ;
    case VERB_EHLO :
    case VERB_HELO :
      envelope_helo(env, line + arg, len - arg) ;
      forward(line, len) ;
      owe(smtp_verb(line, len, &arg) == VERB_EHLO ? W_EHLO : W_HELO, 0) ;
      mode = M_HELD ;   /* what the answer offers decides what follows */
      return ;
    case VERB_QUIT :
      forward(line, len) ;
      owe(W_QUIT, 0) ;
      mode = M_HELD ;   /* nothing after QUIT */
      quit_sent = 1 ;
      return ;
    case VERB_VRFY :
      local("252 2.5.2 send some mail, I will try my best\r\n") ;
      return ;
    case VERB_STARTTLS :
      local("502 5.5.1 STARTTLS not available here\r\n") ;
      return ;
    case VERB_BDAT :
      local("502 5.5.1 BDAT not available here, use DATA\r\n") ;
      return ;
    case VERB_RSET :
      envelope_reset(env) ;
      forward_pipelined(line, len) ;
      owe(W_OTHER, 0) ;
      return ;
    case VERB_NOOP :
    case VERB_HELP :
      forward(line, len) ;
      owe(W_OTHER, 0) ;
      return ;
    case VERB_UNKNOWN :
      local("502 5.5.1 command not recognised\r\n") ;
      return ;
  }
}

/* A line over the limit, dropped: a command is refused; an answer to
   the child's 334 becomes "*", which cancels the AUTH (RFC 4954), so
   that the child does not take the next command for it. */
static void too_long (void)
{
  static char const r[] = "500 5.5.2 line too long\r\n" ;
  if (mode == M_AUTHLINE) command("*", 1) ;
  else owe_local(r, sizeof r - 1, 0, 0) ;
}

/* Client bytes in the data phase: relayed as they are, up to the end. */
static void data_bytes (void)
{
  size_t n = mx_fifo_len(&in), room = mx_fifo_room(&tochild), used ;
  enum datascan_result r ;
  if (n > room) n = room ;
  if (!n) return ;
  r = datascan_run(&scan, in.s + in.head, n, &used) ;
  put_child(in.s + in.head, used) ;
  mx_fifo_skip(&in, used) ;
  stats->databytes += used ;
  if (r == DATASCAN_END)
  {
    envelope_reset(env) ;   /* the transaction ends with its data */
    asking() ;
    owe(W_DATAEND, 0) ;
    mode = M_COMMAND ;
  }
  else if (r == DATASCAN_BARE)
  {
    /* the child never sees the end: it drops the message when its
       input closes, and the client, told 421, keeps it */
    static char const msg[] = "421 4.5.0 bare LF next to the final dot (RFC 5321 4.1.1.4), message refused, closing connection\r\n" ;
    owe_local(msg, sizeof msg - 1, 0, "bare-lf") ;
    mode = M_DONE ;
  }
}

/* Handles as much client input as the buffers allow. */
static void client_input (void)
{
  for (;;)
  {
    char *nl ;
    size_t n = mx_fifo_len(&in), len, whole ;
    if (mode == M_DATA) { data_bytes() ; if (mode == M_DATA) return ; continue ; }
    if (mode != M_COMMAND && mode != M_AUTHLINE) return ;
    /* the child has answered every command, or the last one given it
       was part of a pipelined group */
    if (heard != forwarded && !may_follow) return ;
    if (!n) return ;
    nl = memchr(in.s + in.head, '\n', n) ;
    if (skipping)
    {
      if (!nl) { mx_fifo_skip(&in, n) ; return ; }
      if (!room_for_command(1)) return ;
      mx_fifo_skip(&in, (size_t)(nl - (in.s + in.head)) + 1) ;
      skipping = 0 ;
      too_long() ;
      continue ;
    }
    if (!nl)
    {
      if (n > line_limit()) skipping = 1 ;
      else if (client_eof) mx_fifo_skip(&in, n) ;   /* a last line without its end: dropped */
      if (skipping) continue ;
      return ;
    }
    len = (size_t)(nl - (in.s + in.head)) ;
    whole = len + 1 ;
    if (len && in.s[in.head + len - 1] == '\r') len-- ;
    if (early_command()) return ;
    /* too long is decided before room is asked for: a line that fills
       the buffer must still be answered */
    if (len > line_limit())
    {
      if (!room_for_command(1)) return ;
      too_long() ;
    }
    else
    {
      if (!room_for_command(len)) return ;
      command(in.s + in.head, len) ;
    }
    mx_fifo_skip(&in, whole) ;
  }
}

/* Does a reply with this code fit the command it answers? */
static int fits (enum what w, unsigned int code)
{
  return smtp_reply_fits(w == W_GREETING ? SMTP_ANSWERS_GREETING : w == W_DATA ? SMTP_ANSWERS_DATA
    : w == W_AUTH ? SMTP_ANSWERS_AUTH : SMTP_ANSWERS_COMMAND, code) ;
}

/* New bytes from the child: counts its complete replies, and ends the
   session when one answers nothing. */
static void child_replies (void)
{
  while (ends_len && ends[ends_head] <= written_total)
  {
    ends_head = (ends_head + 1) % (QMAX + 2) ;
    ends_len-- ;
    asked++ ;
  }
  while (!result)
  {
    char const *r = fromchild.s + fromchild.head + scanned ;
    size_t n = smtp_reply_len(r, mx_fifo_len(&fromchild) - scanned) ;
    unsigned int code ;
    if (!n) return ;
    code = smtp_reply_valid(r, n) ;
    if (!code) { out_of_step() ; return ; }
    heard++ ;
    scanned += n ;
    if (heard <= asked) continue ;
    /* unasked: the server's own timeout or shutdown notice is its last
       word; anything else is a reply to a command it never got */
    if (code / 100 != 4 || closing_at) { out_of_step() ; return ; }
    closing_at = heard ;
    if (mode != M_DONE) mode = M_DONE ;
  }
}

/* The child's answer to the front of the queue is at the head of
   fromchild (n bytes): passes it on, and acts on what it says. */
static void child_answer (answer const *a, size_t n)
{
  unsigned int code = smtp_reply_code(fromchild.s + fromchild.head, n) ;
  char *copy ;
  if (!fits(a->what, code)) { out_of_step() ; return ; }
  mx_fifo_put(&out, fromchild.s + fromchild.head, n) ;   /* may move out's contents */
  copy = out.s + out.tail - n ;
  fromchild_skip(n) ;
  last_code = code ;
  if (code == 421) { finish("child-421") ; return ; }   /* its last word */
  switch (a->what)
  {
    case W_EHLO :
      if (code == 250) out.tail -= n - smtp_ehlo_keep(copy, n, EXT_DEFAULT | EXT_SMTPUTF8, &offered) ;
      else offered = 0 ;
      if (mode == M_HELD) mode = M_COMMAND ;
      break ;
    case W_HELO :
      offered = 0 ;   /* no ESMTP parameters after HELO */
      if (mode == M_HELD) mode = M_COMMAND ;
      break ;
    case W_DATA :
      if (mode != M_HELD) break ;   /* the session is ending */
      if (code == 354) { datascan_start(&scan) ; mode = M_DATA ; }
      else mode = M_COMMAND ;
      break ;
    case W_AUTH :
      if (mode != M_HELD) break ;
      if (code == 334) mode = M_AUTHLINE ;
      else
      {
        /* 235: trusted from now on, and still followed command by
           command: no verb off the allow-list reaches the server */
        if (code == 235) stats->trusted = trusted = 1 ;
        mode = M_COMMAND ;
      }
      break ;
    case W_DATAEND :
      if (code >= 200 && code < 300) stats->messages++ ;
      break ;
    case W_MAIL :
      /* the server refused the sender: no transaction after all */
      if (code / 100 != 2) envelope_reset(env) ;
      break ;
    case W_QUIT :
      finish("quit") ;
      break ;
    default : break ;
  }
}

/* The child is gone with answers still owed: after a refusal of its
   own (qmail-smtpd's 451 and exit) that was its last word; otherwise it
   died, and the client is told. */
static void child_gone (void)
{
  if (last_code >= 400) finish("child-exit") ;
  else last_word("421 4.3.0 mail server unavailable, closing connection\r\n", "child-died") ;
}

/* The child's last word, sent unasked, when its turn has come. */
static int last_word_due (size_t n)
{
  if (!n || !closing_at || consumed + 1 != closing_at) return 0 ;
  if (mx_fifo_room(&out) < n) return 1 ;
  mx_fifo_put(&out, fromchild.s + fromchild.head, n) ;
  fromchild_skip(n) ;
  finish("child-closed") ;
  return 1 ;
}

/* Gives the client every answer that is due, in order. */
static void answers (void)
{
  while (!result)
  {
    answer const *a ;
    size_t n = smtp_reply_len(fromchild.s + fromchild.head, scanned) ;
    if (!qlen)
    {
      if (last_word_due(n)) return ;
      if (n) { out_of_step() ; return ; }   /* child_replies lets none through */
      if (child_eof) child_gone() ;
      return ;
    }
    a = &queue[qhead] ;
    if (a->ready > now) return ;
    if (a->what == W_LOCAL)
    {
      if (mx_fifo_room(&out) < a->len) return ;
      if (!a->close && mx_fifo_len(&in) && unauth_pipelining(W_LOCAL)) return ;
      mx_fifo_put(&out, text.s + text.head, a->len) ;
      mx_fifo_skip(&text, a->len) ;
      if (a->close) finish(a->close) ;
    }
    else
    {
      if (last_word_due(n)) return ;
      if (!n)
      {
        if (child_eof) child_gone() ;
        else if (mx_fifo_room(&fromchild) == 0) out_of_step() ;   /* a reply longer than the buffer */
        return ;
      }
      if (mx_fifo_room(&out) < n) return ;
      if (mx_fifo_len(&in) && unauth_pipelining((enum what)a->what)) return ;
      child_answer(a, n) ;
      if (result) return ;
    }
    qhead = (qhead + 1) % QMAX ;
    qlen-- ;
  }
}

/* when the client's silence (or the child's) ends the session */
static long long idle_deadline (void)
{
  long long base = last_activity ;
  /* the client has left: whatever is still owed to it, -t from then */
  if (client_eof) return client_gone_at + conf->idle_ms ;
  /* the child owes the next answer: only the child's bytes count, not
     those a client trickles in meanwhile */
  if (qlen && queue[qhead].what != W_LOCAL && heard == consumed) base = last_child ;
  else if (qlen && queue[qhead].ready > base) base = queue[qhead].ready ;
  return base + conf->idle_ms ;
}

char const *proxy_run (proxy_conf const *c, int fromchild_fd_, int tochild_fd_, proxy_stats *st)
{
  conf = c ;
  env = c->chk->env ;
  stats = st ;
  trusted = c->relay ;
  fromchild_fd = fromchild_fd_ ;
  tochild_fd = tochild_fd_ ;
  mx_fifo_nonblocking(0) ; mx_fifo_nonblocking(1) ;
  mx_fifo_nonblocking(fromchild_fd) ; mx_fifo_nonblocking(tochild_fd) ;
  now = last_activity = last_child = mx_now_ms() ;
  owe(W_GREETING, 0) ;

  for (;;)
  {
    struct pollfd p[4] ;
    int np = 0, ci = -1, co = -1, ki = -1, ko = -1, e ;
    long long wake ;

    now = mx_now_ms() ;
    if (!result)
    {
      client_input() ;
      answers() ;
      client_input() ;   /* answers may have opened the data phase or an AUTH line */
    }
    /* the client is done sending: once what it sent is answered, the
       child's input ends and so does the session */
    if (!result && client_eof && !mx_fifo_len(&in) && !qlen) finish("client-eof") ;
    /* the child's input ends after QUIT too: some servers (exim) wait
       for it to end before they say 221 and leave */
    if ((result || quit_sent) && !mx_fifo_len(&tochild) && !childin_closed)
    {
      close(tochild_fd) ;
      childin_closed = 1 ;
    }
    if (result && !mx_fifo_len(&out)) return result ;

    if (!result && !client_eof && mode != M_DONE && mx_fifo_room(&in)) { ci = np ; p[np].fd = 0 ; p[np].events = POLLIN ; np++ ; }
    if (mx_fifo_len(&out)) { co = np ; p[np].fd = 1 ; p[np].events = POLLOUT ; np++ ; }
    if (!childin_closed && mx_fifo_len(&tochild)) { ko = np ; p[np].fd = tochild_fd ; p[np].events = POLLOUT ; np++ ; }
    if (!result && !child_eof && mx_fifo_room(&fromchild)) { ki = np ; p[np].fd = fromchild_fd ; p[np].events = POLLIN ; np++ ; }

    wake = idle_deadline() ;
    if (!result && qlen && queue[qhead].ready > now && queue[qhead].ready < wake) wake = queue[qhead].ready ;
    e = poll(p, (nfds_t)np, wake > now ? (int)(wake - now) : 0) ;
    if (e < 0)
    {
      if (errno == EINTR) continue ;
      return result ? result : "poll-error" ;
    }
    now = mx_now_ms() ;
    if (!e)
    {
      if (now < idle_deadline()) continue ;   /* a delayed answer is due */
      if (result) return result ;             /* the client reads nothing: give up */
      if (qlen && queue[qhead].what != W_LOCAL)
        last_word("421 4.3.0 mail server not answering, closing connection\r\n", "child-timeout") ;
      else last_word("421 4.4.2 timeout, closing connection\r\n", "timeout") ;
      continue ;
    }

    if (ci >= 0 && p[ci].revents)
    {
      ssize_t r = mx_fifo_fill(0, &in) ;
      if (r > 0) last_activity = now ;
      else if (!r || (errno != EAGAIN && errno != EINTR)) { client_eof = 1 ; client_gone_at = now ; }
    }
    if (co >= 0 && p[co].revents)
    {
      ssize_t r = mx_fifo_flush(1, &out) ;
      if (r > 0) last_activity = now ;
      else if (r < 0 && errno != EAGAIN && errno != EINTR)
      {
        /* the client is gone: nobody to tell anything */
        out.head = out.tail = 0 ;
        client_eof = 1 ;
        finish("client-gone") ;
      }
    }
    if (ko >= 0 && p[ko].revents)
    {
      ssize_t r = mx_fifo_flush(tochild_fd, &tochild) ;
      if (r > 0) written_total += (unsigned long long)r ;
      if (r < 0 && errno != EAGAIN && errno != EINTR)
      {
        tochild.head = tochild.tail = 0 ;   /* the child is gone; its output says the rest */
        close(tochild_fd) ;
        childin_closed = 1 ;
      }
    }
    if (ki >= 0 && p[ki].revents)
    {
      ssize_t r = mx_fifo_fill(fromchild_fd, &fromchild) ;
      if (r > 0) { last_activity = last_child = now ; child_replies() ; }
      else if (!r || (errno != EAGAIN && errno != EINTR)) child_eof = 1 ;
    }
  }
}
