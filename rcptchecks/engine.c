/* engine: see engine.h. Fixed buffers: a hostile client can fill them,
 * and then it is simply not read. The verbs are verbs.c's rows, the
 * checks of the stream envelope.c's command stage: what is here moves
 * bytes, owes answers and keeps the session's mode; the child's side
 * (its replies counted, paired and passed on in order) is answers.c.
 */
#include "engine.h"

#include <string.h>

#include "engine-int.h"
#include "verbs.h"

void engine_finish (engine *e, char const *why)
{
  if (!e->result) e->result = why ;
  e->mode = M_DONE ;
}

/* A last word to the client, outside the queue (whatever was owed is
   not coming), then the end. */
void engine_last_word (engine *e, char const *reply, char const *why)
{
  mx_fifo_put(&e->out, reply, strlen(reply)) ;
  engine_finish(e, why) ;
}

static void owe (engine *e, enum owed w, long long ready)
{
  engine_answer *a = &e->queue[(e->qhead + e->qlen++) % ENGINE_QMAX] ;
  a->what = (unsigned char)w ;
  a->ready = ready ;
  a->len = 0 ;
  a->close = 0 ;
}

static void owe_local (engine *e, char const *reply, size_t len, long long ready, char const *close)
{
  engine_answer *a = &e->queue[(e->qhead + e->qlen) % ENGINE_QMAX] ;
  owe(e, O_LOCAL, ready) ;
  mx_fifo_put(&e->text, reply, len) ;   /* room was checked by the caller */
  a->len = (unsigned short)len ;
  a->close = close ;
  if (close) e->mode = M_DONE ;         /* the rest of the session is not read */
}

/* Room for one more command's consequences: an answer, its text, and
   the line on its way to the child. */
static int room_for_command (engine *e, size_t linelen)
{
  return e->qlen < ENGINE_QMAX && mx_fifo_room(&e->text) >= CHECK_REPLYROOM && mx_fifo_room(&e->tochild) >= linelen + 2 ;
}

static void put_child (engine *e, char const *s, size_t n)
{
  mx_fifo_put(&e->tochild, s, n) ;
  e->put_total += n ;
}

/* The end of a command the child owes a reply to. */
static void asking (engine *e)
{
  e->forwarded++ ;
  e->ends[(e->ends_head + e->ends_len++) % (ENGINE_QMAX + 2)] = e->put_total ;
  e->last_child = e->now ;
}

/* A line for the child. MAIL, RCPT and RSET (group) may be followed
   before their answers when the server offered PIPELINING (RFC 2920);
   every other command ends a group, and the next one waits for every
   answer (a reply that answers nothing then shows: child_replies). */
static void forward (engine *e, char const *line, size_t len, int group)
{
  put_child(e, line, len) ;
  put_child(e, "\r\n", 2) ;
  asking(e) ;
  e->may_follow = group && (e->offered & EXT_PIPELINING) ;
}

/* The proxy and the server no longer agree: whatever was owed is not
   coming. */
void engine_out_of_step (engine *e)
{
  engine_last_word(e, "421 4.3.0 mail server out of step, closing connection\r\n", "out-of-step") ;
}

static size_t line_limit (engine *e)
{
  size_t arg ;
  size_t peek = mx_fifo_len(&e->in) < 16 ? mx_fifo_len(&e->in) : 16 ;
  if (e->mode == M_AUTHLINE || verbs[smtp_verb(e->in.s + e->in.head, peek, &arg)].flags & V_LONG)
    return PROXY_LINE_MAX ;
  return e->conf->linemax < PROXY_LINE_MAX ? e->conf->linemax : PROXY_LINE_MAX ;
}

/* When an answer delayed by delay ms is due: after the answer before
   it, so that pipelined RCPTs wait one delay after another, as they
   would one at a time. */
static long long due (engine *e, unsigned int delay)
{
  if (!delay) return 0 ;
  e->last_ready = (e->last_ready > e->now ? e->last_ready : e->now) + delay ;
  return e->last_ready ;
}

/* The command stage (envelope.h) on what is known: a command line, or
   that the client did not wait (early). Returns 1 if it refused. */
static int stream_check (engine *e, char const *line, size_t len, int early)
{
  envelope_cmd c = { line, len, early, e->trusted, 0, 0, 0 } ;
  if (!envelope_command(e->env, &c)) return 0 ;
  if (c.now)
  {
    mx_fifo_skip(&e->in, mx_fifo_len(&e->in)) ;   /* never reaches the server */
    engine_last_word(e, c.reply, c.close) ;
  }
  else owe_local(e, c.reply, strlen(c.reply), 0, c.close) ;
  return 1 ;
}

/* The client sent bytes before the answer to w: pipelining it may not
   (RFC 2920), before the greeting, an EHLO answer, or any answer when
   PIPELINING was not offered. The answer to the end of the data is
   never withheld (the message is the server's by then), nor those to
   AUTH and QUIT. Returns 1 if the session ends for it. */
int engine_pipelining (engine *e, enum owed w)
{
  if (e->mode == M_DONE || w == O_QUIT || w == O_AUTH || w == O_DATAEND) return 0 ;
  if (w != O_GREETING && w != O_EHLO && (e->offered & EXT_PIPELINING)) return 0 ;
  return stream_check(e, 0, 0, 1) ;
}

/* a command is about to be taken: is an answer still owed to the
   client? The oldest that pipelining may not overtake decides. */
static int early_command (engine *e)
{
  unsigned int i ;
  for (i = 0 ; i < e->qlen ; i++)
  {
    enum owed w = (enum owed)e->queue[(e->qhead + i) % ENGINE_QMAX].what ;
    if (w == O_GREETING || w == O_EHLO || !(e->offered & EXT_PIPELINING)) return engine_pipelining(e, w) ;
  }
  return 0 ;
}

/* One command line (len bytes, line end removed). */
static void command (engine *e, char const *line, size_t len)
{
  verb_call v ;
  verb_row const *row ;
  if (e->mode == M_AUTHLINE)
  {
    /* an answer to the child's 334: not a command; one the grammar
       cannot take (a NUL, a bare CR) cancels the AUTH, as one too
       long does (too_long) */
    if (memchr(line, 0, len) || memchr(line, '\r', len)) { line = "*" ; len = 1 ; }
    forward(e, line, len, 0) ;
    owe(e, O_AUTH, 0) ;
    e->mode = M_HELD ;
    return ;
  }
  if (memchr(line, 0, len) || memchr(line, '\r', len))
  {
    static char const r[] = "500 5.5.2 NUL or bare CR in a command\r\n" ;
    owe_local(e, r, sizeof r - 1, 0, 0) ;
    return ;
  }
  if (stream_check(e, line, len, 0)) return ;
  v.line = line ; v.len = len ;
  row = &verbs[smtp_verb(line, len, &v.arg)] ;
  v.chk = e->conf->chk ; v.env = e->env ; v.trusted = e->trusted ; v.offered = e->offered ;
  v.close = 0 ; v.delay = 0 ;
  if (row->handler && row->handler(&v) == VERB_ACT_LOCAL)
  {
    owe_local(e, v.text, v.textlen, due(e, v.delay), v.close) ;
    return ;
  }
  forward(e, line, len, row->flags & V_GROUP) ;
  owe(e, (enum owed)row->owed, due(e, v.delay)) ;
  if (row->flags & V_HOLD) e->mode = M_HELD ;
  if (row->flags & V_LAST) e->quit_sent = 1 ;
}

/* A line over the limit, dropped: a command is refused; an answer to
   the child's 334 becomes "*", which cancels the AUTH (RFC 4954), so
   that the child does not take the next command for it. */
static void too_long (engine *e)
{
  static char const r[] = "500 5.5.2 line too long\r\n" ;
  if (e->mode == M_AUTHLINE) command(e, "*", 1) ;
  else owe_local(e, r, sizeof r - 1, 0, 0) ;
}

/* The child has taken everything before DATA when it says 354, so
   there is room; a field that would not fit is left out rather than
   cut. Not counted in databytes: those are the client's. */
void engine_data_head (engine *e)
{
  spf *f = &e->env->spf ;
  if (f->fieldlen && mx_fifo_room(&e->tochild) >= f->fieldlen) put_child(e, f->field, f->fieldlen) ;
  f->fieldlen = 0 ;   /* one field per transaction */
}

/* Client bytes in the data phase: relayed as they are, up to the end. */
static void data_bytes (engine *e)
{
  size_t n = mx_fifo_len(&e->in), room = mx_fifo_room(&e->tochild), used ;
  enum datascan_result r ;
  if (n > room) n = room ;
  if (!n) return ;
  r = datascan_run(&e->scan, e->in.s + e->in.head, n, &used) ;
  put_child(e, e->in.s + e->in.head, used) ;
  mx_fifo_skip(&e->in, used) ;
  e->stats->databytes += used ;
  if (r == DATASCAN_END)
  {
    envelope_reset(e->env) ;   /* the transaction ends with its data */
    asking(e) ;
    owe(e, O_DATAEND, 0) ;
    e->mode = M_COMMAND ;
  }
  else if (r == DATASCAN_BARE)
  {
    /* the child never sees the end: it drops the message when its
       input closes, and the client, told 421, keeps it */
    static char const msg[] = "421 4.5.0 bare LF next to the final dot (RFC 5321 4.1.1.4), message refused, closing connection\r\n" ;
    owe_local(e, msg, sizeof msg - 1, 0, "bare-lf") ;
  }
}

/* Handles as much client input as the buffers allow. */
static void client_input (engine *e)
{
  mx_fifo *in = &e->in ;
  for (;;)
  {
    char *nl ;
    size_t n = mx_fifo_len(in), len, whole ;
    if (e->mode == M_DATA) { data_bytes(e) ; if (e->mode == M_DATA) return ; continue ; }
    if (e->mode != M_COMMAND && e->mode != M_AUTHLINE) return ;
    /* the child has answered every command, or the last one given it
       was part of a pipelined group */
    if (e->heard != e->forwarded && !e->may_follow) return ;
    if (!n) return ;
    nl = memchr(in->s + in->head, '\n', n) ;
    if (e->skipping)
    {
      if (!nl) { mx_fifo_skip(in, n) ; return ; }
      if (!room_for_command(e, 1)) return ;
      mx_fifo_skip(in, (size_t)(nl - (in->s + in->head)) + 1) ;
      e->skipping = 0 ;
      too_long(e) ;
      continue ;
    }
    if (!nl)
    {
      if (n > line_limit(e)) e->skipping = 1 ;
      else if (e->client_eof) mx_fifo_skip(in, n) ;   /* a last line without its end: dropped */
      if (e->skipping) continue ;
      return ;
    }
    len = (size_t)(nl - (in->s + in->head)) ;
    whole = len + 1 ;
    if (len && in->s[in->head + len - 1] == '\r') len-- ;
    if (early_command(e)) return ;
    /* too long is decided before room is asked for: a line that fills
       the buffer must still be answered */
    if (len > line_limit(e))
    {
      if (!room_for_command(e, 1)) return ;
      too_long(e) ;
    }
    else
    {
      if (!room_for_command(e, len)) return ;
      command(e, in->s + in->head, len) ;
    }
    mx_fifo_skip(in, whole) ;
  }
}

/* when the client's silence (or the child's) ends the session */
static long long idle_deadline (engine *e)
{
  long long base = e->last_activity ;
  engine_answer const *a = &e->queue[e->qhead] ;
  /* the client has left: whatever is still owed to it, -t from then */
  if (e->client_eof) return e->client_gone_at + e->conf->idle_ms ;
  /* the child owes the next answer: only the child's bytes count, not
     those a client trickles in meanwhile */
  if (e->qlen && a->what != O_LOCAL && e->heard == e->consumed) base = e->last_child ;
  else if (e->qlen && a->ready > base) base = a->ready ;
  return base + e->conf->idle_ms ;
}

void engine_init (engine *e, proxy_conf const *c, proxy_stats *st, long long now)
{
  memset(e, 0, offsetof(engine, inbuf)) ;
  e->in = (mx_fifo)MX_FIFO(e->inbuf) ;
  e->tochild = (mx_fifo)MX_FIFO(e->childinbuf) ;
  e->fromchild = (mx_fifo)MX_FIFO(e->childoutbuf) ;
  e->out = (mx_fifo)MX_FIFO(e->outbuf) ;
  e->text = (mx_fifo)MX_FIFO(e->textbuf) ;
  e->conf = c ;
  e->env = c->chk->env ;
  e->stats = st ;
  e->trusted = c->relay ;
  e->mode = M_COMMAND ;
  e->forwarded = e->asked = 1 ;   /* the greeting is the first thing asked */
  e->now = e->last_activity = e->last_child = now ;
  owe(e, O_GREETING, 0) ;
}

void engine_run (engine *e, long long now)
{
  e->now = now ;
  if (!e->result)
  {
    client_input(e) ;
    engine_answers(e) ;
    client_input(e) ;   /* answers may have opened the data phase or an AUTH line */
  }
  /* the client is done sending: once what it sent is answered, the
     child's input ends and so does the session */
  if (!e->result && e->client_eof && !mx_fifo_len(&e->in) && !e->qlen) engine_finish(e, "client-eof") ;
}

int engine_end_childin (engine *e)
{
  /* after QUIT too: some servers (exim) wait for their input to end
     before they say 221 and leave */
  if (!(e->result || e->quit_sent) || mx_fifo_len(&e->tochild) || e->childin_closed) return 0 ;
  e->childin_closed = 1 ;
  return 1 ;
}

char const *engine_over (engine const *e) { return e->result && !mx_fifo_len(&e->out) ? e->result : 0 ; }
char const *engine_result (engine const *e) { return e->result ; }
int engine_wants_client (engine *e) { return !e->result && !e->client_eof && e->mode != M_DONE && mx_fifo_room(&e->in) ; }
int engine_wants_child (engine *e) { return !e->result && !e->child_eof && mx_fifo_room(&e->fromchild) ; }
int engine_has_for_child (engine const *e) { return !e->childin_closed && mx_fifo_len(&e->tochild) ; }

long long engine_wake (engine *e)
{
  long long wake = idle_deadline(e) ;
  if (!e->result && e->qlen && e->queue[e->qhead].ready > e->now && e->queue[e->qhead].ready < wake) wake = e->queue[e->qhead].ready ;
  return wake ;
}

char const *engine_timeout (engine *e, long long now)
{
  e->now = now ;
  if (now < idle_deadline(e)) return 0 ;   /* a delayed answer is due */
  if (e->result) return e->result ;        /* the client reads nothing: give up */
  if (e->qlen && e->queue[e->qhead].what != O_LOCAL)
    engine_last_word(e, "421 4.3.0 mail server not answering, closing connection\r\n", "child-timeout") ;
  else engine_last_word(e, "421 4.4.2 timeout, closing connection\r\n", "timeout") ;
  return 0 ;
}

void engine_client_read (engine *e, long long now) { e->last_activity = now ; }
void engine_client_eof (engine *e, long long now) { e->client_eof = 1 ; e->client_gone_at = now ; }
void engine_client_wrote (engine *e, long long now) { e->last_activity = now ; }

/* the client is gone: nobody to tell anything */
void engine_client_gone (engine *e)
{
  e->out.head = e->out.tail = 0 ;
  e->client_eof = 1 ;
  engine_finish(e, "client-gone") ;
}

void engine_child_wrote (engine *e, size_t n) { e->written_total += n ; }

/* the child is gone; its output says the rest */
void engine_child_lost (engine *e)
{
  e->tochild.head = e->tochild.tail = 0 ;
  e->childin_closed = 1 ;
}

void engine_child_read (engine *e, long long now)
{
  e->last_activity = e->last_child = now ;
  engine_child_replies(e) ;
}

void engine_child_eof (engine *e) { e->child_eof = 1 ; }
