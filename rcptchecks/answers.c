/* answers: the child's side of rcptchecks' engine (engine.h). Counts
 * the child's complete replies as they come, pairs each with what it
 * answers (a reply of the wrong kind, or one that answers nothing, ends
 * the session with 421, but a 4xx, the server's last word), and gives
 * the client every answer that is due, the child's and the engine's
 * own, in command order.
 */
#include "engine.h"

#include "engine-int.h"

/* consumed from the child: no longer counted in scanned */
static void fromchild_skip (engine *e, size_t n)
{
  mx_fifo_skip(&e->fromchild, n) ;
  e->scanned = e->scanned > n ? e->scanned - n : 0 ;
  e->consumed++ ;
}

/* New bytes from the child: counts its complete replies, and ends the
   session when one answers nothing. */
void engine_child_replies (engine *e)
{
  while (e->ends_len && e->ends[e->ends_head] <= e->written_total)
  {
    e->ends_head = (e->ends_head + 1) % (ENGINE_QMAX + 2) ;
    e->ends_len-- ;
    e->asked++ ;
  }
  while (!e->result)
  {
    char const *r = e->fromchild.s + e->fromchild.head + e->scanned ;
    size_t n = smtp_reply_len(r, mx_fifo_len(&e->fromchild) - e->scanned) ;
    unsigned int code ;
    if (!n) return ;
    code = smtp_reply_valid(r, n) ;
    if (!code) { engine_out_of_step(e) ; return ; }
    e->heard++ ;
    e->scanned += n ;
    if (e->heard <= e->asked) continue ;
    /* unasked: the server's own timeout or shutdown notice is its last
       word; anything else is a reply to a command it never got */
    if (code / 100 != 4 || e->closing_at) { engine_out_of_step(e) ; return ; }
    e->closing_at = e->heard ;
    e->mode = M_DONE ;
  }
}

/* The child's answer to the front of the queue is at the head of
   fromchild (n bytes): passes it on, and acts on what it says. */
static void child_answer (engine *e, engine_answer const *a, size_t n)
{
  mx_fifo *out = &e->out ;
  unsigned int code = smtp_reply_code(e->fromchild.s + e->fromchild.head, n) ;
  char *copy ;
  /* a reply of the wrong kind for what it answers */
  if (!smtp_reply_fits(a->what == O_GREETING ? SMTP_ANSWERS_GREETING : a->what == O_DATA ? SMTP_ANSWERS_DATA
      : a->what == O_AUTH ? SMTP_ANSWERS_AUTH : SMTP_ANSWERS_COMMAND, code)) { engine_out_of_step(e) ; return ; }
  mx_fifo_put(out, e->fromchild.s + e->fromchild.head, n) ;   /* may move out's contents */
  copy = out->s + out->tail - n ;
  fromchild_skip(e, n) ;
  e->last_code = code ;
  if (code == 421) { engine_finish(e, "child-421") ; return ; }   /* its last word */
  switch (a->what)
  {
    case O_EHLO :
      /* a refused EHLO offers nothing: not even what an earlier one did */
      if (code == 250) out->tail -= n - smtp_ehlo_keep(copy, n, EXT_DEFAULT | EXT_SMTPUTF8, &e->offered) ;
      else e->offered = 0 ;
      if (e->mode == M_HELD) e->mode = M_COMMAND ;
      break ;
    case O_HELO :
      e->offered = 0 ;   /* no ESMTP parameters after HELO */
      if (e->mode == M_HELD) e->mode = M_COMMAND ;
      break ;
    case O_DATA :
      if (e->mode != M_HELD) break ;   /* the session is ending */
      if (code == 354) { datascan_start(&e->scan) ; e->mode = M_DATA ; engine_data_head(e) ; }
      else e->mode = M_COMMAND ;
      break ;
    case O_AUTH :
      if (e->mode != M_HELD) break ;
      if (code == 334) e->mode = M_AUTHLINE ;
      else
      {
        /* 235: trusted from now on, and still followed command by
           command: no verb off the allow-list reaches the server */
        if (code == 235)
        {
          e->stats->trusted = e->trusted = 1 ;
          spf_reset(&e->env->spf) ;   /* no SPF mark for a client that authenticated (inside a transaction, for a server that allows it) */
        }
        e->mode = M_COMMAND ;
      }
      break ;
    case O_DATAEND :
      if (code >= 200 && code < 300) e->stats->messages++ ;
      break ;
    case O_MAIL :
      /* the server refused the sender: no transaction after all */
      if (code / 100 != 2) envelope_reset(e->env) ;
      break ;
    case O_QUIT :
      engine_finish(e, "quit") ;
      break ;
    default : break ;
  }
}

/* The child is gone with answers still owed: after a refusal of its
   own (qmail-smtpd's 451 and exit) that was its last word; otherwise it
   died, and the client is told. */
static void child_gone (engine *e)
{
  if (e->last_code >= 400) engine_finish(e, "child-exit") ;
  else engine_last_word(e, "421 4.3.0 mail server unavailable, closing connection\r\n", "child-died") ;
}

/* The child's last word, sent unasked, when its turn has come. */
static int last_word_due (engine *e, size_t n)
{
  if (!n || !e->closing_at || e->consumed + 1 != e->closing_at) return 0 ;
  if (mx_fifo_room(&e->out) < n) return 1 ;
  mx_fifo_put(&e->out, e->fromchild.s + e->fromchild.head, n) ;
  fromchild_skip(e, n) ;
  engine_finish(e, "child-closed") ;
  return 1 ;
}

/* Gives the client every answer that is due, in order. */
void engine_answers (engine *e)
{
  while (!e->result)
  {
    engine_answer const *a ;
    size_t n = smtp_reply_len(e->fromchild.s + e->fromchild.head, e->scanned) ;
    if (!e->qlen)
    {
      if (last_word_due(e, n)) return ;
      if (n) { engine_out_of_step(e) ; return ; }   /* child_replies lets none through */
      if (e->child_eof) child_gone(e) ;
      return ;
    }
    a = &e->queue[e->qhead] ;
    if (a->ready > e->now) return ;
    if (a->what == O_LOCAL)
    {
      if (mx_fifo_room(&e->out) < a->len) return ;
      if (!a->close && mx_fifo_len(&e->in) && engine_pipelining(e, O_LOCAL)) return ;
      mx_fifo_put(&e->out, e->text.s + e->text.head, a->len) ;
      mx_fifo_skip(&e->text, a->len) ;
      if (a->close) engine_finish(e, a->close) ;
    }
    else
    {
      if (last_word_due(e, n)) return ;
      if (!n)
      {
        if (e->child_eof) child_gone(e) ;
        else if (mx_fifo_room(&e->fromchild) == 0) engine_out_of_step(e) ;   /* a reply longer than the buffer */
        return ;
      }
      if (mx_fifo_room(&e->out) < n) return ;
      if (mx_fifo_len(&e->in) && engine_pipelining(e, (enum owed)a->what)) return ;
      child_answer(e, a, n) ;
      if (e->result) return ;
    }
    e->qhead = (e->qhead + 1) % ENGINE_QMAX ;
    e->qlen-- ;
  }
}

