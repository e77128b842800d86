/* session-fuzz: libFuzzer harness for rcptchecks' session engine
 * (engine.h), driving whole conversations between a scripted client and
 * a scripted server on bytes alone, under a clock of its own.
 *
 * The input is a script. Its first byte sets the envelope checks
 * (pipelining, non-SMTP commands, sender form: on or warn-only) and the
 * tarpit; then each step is an opcode byte and its operands:
 *   0 n bytes    the client sends n raw bytes
 *   1 k          the client sends line k of a list of commands
 *   2 v          the server answers every complete command it has got,
 *                in order (v picks refusals, the extensions its EHLO
 *                offers, a 421, an unasked or a malformed reply)
 *   3 t          the clock moves on t x 50 ms
 *   4            the client's input ends
 *   5            the server's output ends
 * The SPF check (spf.h) is off, on or warn-only by the input's length
 * (modulo 3), on a scripted lookup (mx_dns_spf_ask below): the sender
 * domains of the command list get "-all" with an explanation, "~all",
 * "+all" or no answer in time, by the length again, and softfail and
 * permerror are accepted, deferred or refused by the length too (its
 * settings -O softfail=, -O permerror=, as rcptchecks parses them).
 * The server is a model: it answers each command it receives (354 to
 * DATA, then takes the data to CRLF.CRLF), and tags each reply with the
 * number of the command it answers.
 *
 * Aborts when an invariant breaks, not only on a crash:
 *  - the server never receives a RCPT the checker refused (an address
 *    of the local domain the stub source does not know) from a client
 *    that is not trusted, nor a line off the grammar (a verb off the
 *    allow-list, a NUL or CR, a MAIL path rcptaddr_mailfrom8 refuses, an
 *    overlong line), nor a MAIL or RCPT parameter of an extension its
 *    last EHLO answer did not offer (none after HELO or a refused EHLO);
 *  - the client gets the server's replies in command order, each at
 *    most once, and well-formed replies only;
 *  - nothing is lost or duplicated in DATA: each message the server got
 *    is a run of bytes the client sent, and the engine counts exactly
 *    the bytes the server got as data;
 *  - but for the Received-SPF field: exactly the transaction's field
 *    (printable ASCII, CRLF-ended lines of at most 998 bytes, folded
 *    with a TAB) at the head of the data, once, only with the check on
 *    and never for a trusted client.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skalibs/strerr.h>

#include "engine.h"
#include "mx_dns.h"
#include "rcptaddr.h"
#include "source.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;
char const *PROG = "session-fuzz" ;

/* an invariant: says which one broke */
#define must(cond) do { if (!(cond)) { fprintf(stderr, "session-fuzz: broken at line %d: %s\n", __LINE__, #cond) ; abort() ; } } while (0)

/* quiet: no log line on stderr for every RCPT */
void strerr_warnv (char const *const *v, unsigned int n) { (void)v ; (void)n ; }
/* no DNS: the checks that ask it are off, and it would fail */
int mx_dns_all (mx_dns_query *q, size_t n, unsigned int ms) { (void)q ; (void)n ; (void)ms ; return -1 ; }

/* the scripted lookup of the SPF check */
static unsigned int spf_pick ;
void mx_dns_spf_start (mx_spf_dnsctx *c, unsigned int ms) { c->deadline_ms = ms ; }
int mx_dns_spf_ask (void *ctx, enum mx_spf_qtype type, char const *name, mx_spf_answer *out)
{
  static char const *const recs[] = { "v=spf1 -all exp=why.example.com", "v=spf1 ~all", "v=spf1 +all", 0 } ;
  char const *rec = !strcmp(name, "why.example.com") ? "no mail from %{i} for %{d}" : recs[spf_pick % 4] ;
  size_t n ;
  (void)ctx ;
  if (!rec) return 0 ;   /* no answer in time */
  memset(out, 0, offsetof(mx_spf_answer, buf)) ;
  if (type != MX_SPF_Q_TXT) return 1 ;
  n = strlen(rec) ;
  out->buf[0] = (unsigned char)(n >> 8) ; out->buf[1] = (unsigned char)n ;
  memcpy(out->buf + 2, rec, n) ;
  out->len = n + 2 ; out->n = 1 ;
  return 1 ;
}

int source_domain (source *s, char const *domain) { (void)s ; return !strcmp(domain, "example.org") ; }
int source_address (source *s, char const *key) { (void)s ; return !strcmp(key, "alice@example.org") || !strcmp(key, "bob-default@example.org") ; }

static char const *const lines[] =
{
  "EHLO client.test", "HELO client.test", "EHLO bad_name", "MAIL FROM:<a@example.com>",
  "MAIL FROM:<a@example.com> SIZE=10", "MAIL FROM:<> BODY=8BITMIME", "MAIL FROM:<a@b> SMTPUTF8", "MAIL FROM:<a@example.com> X-SECRET=1",
  "RCPT TO:<alice@example.org>", "RCPT TO:<nobody@example.org>", "RCPT TO:<bob-x@example.org>", "RCPT TO:<x@elsewhere.test>",
  "RCPT TO:<postmaster>", "RCPT TO:<alice@example.org> NOTIFY=NEVER", "RCPT TO:<\"a b\"@example.org>", "RCPT TO:<alice@example.org> SIZE=1",
  "DATA", "RSET", "NOOP", "QUIT", "AUTH PLAIN", "dGVzdAB0ZXN0AHRlc3Q=", "VRFY alice", "STARTTLS",
  "BDAT 10 LAST", "XCLIENT ADDR=1.2.3.4", "GET / HTTP/1.0", "Host: x", ".", "Subject: x", "", "..stuffed",
  "MAIL FROM:nodomain", "RCPT TO:<NOBODY@EXAMPLE.ORG>", "HELP", "rcpt to:<alice@example.org>",
} ;
#define NLINES (sizeof lines / sizeof *lines)

static engine eng ;
static envelope env ;
static source src ;
static check chk ;
static proxy_conf conf ;
static proxy_stats st ;
static long long now ;

/* the client's side: all it sent, all it got */
static char sent[1 << 16] ;
static size_t sentlen ;
static long long last_tag ;     /* the last server reply tag the client saw */

/* the server model */
static struct
{
  char buf[ENGINE_BUFSZ * 2] ;  /* received, not yet taken */
  size_t len ;
  unsigned int commands ;       /* complete commands received */
  unsigned int answered ;
  int data ;                    /* taking message bytes */
  int authline ;                /* the next line answers its 334 */
  int trusted ;                 /* it said 235 */
  int gone ;                    /* it said 421 or ended: takes nothing more */
  int quit ;                    /* it said 221: answers nothing more */
  unsigned int offered ;        /* EXT_ bits of its last EHLO answer (0 after HELO or a refusal) */
  unsigned long long databytes ;
  int inclosed ;                /* the engine ended its input */
  int pending[ENGINE_QMAX * 4] ; /* kinds of the commands to answer, in order */
  unsigned int npending ;
  char field[SPF_FIELD_MAX] ;   /* the Received-SPF field the data must start with, from its 354 */
  size_t fieldlen ;
  int datastart ;               /* no byte of this message taken yet */
} srv ;

enum kind { K_EHLO, K_HELO, K_DATA, K_DATAEND, K_AUTH, K_AUTHLINE, K_QUIT, K_MAIL, K_OTHER } ;

/* The field of the transaction: taken when its MAIL reaches the
   server, dropped when the server refuses that MAIL, at RSET, HELO,
   EHLO, the end of the data and a 235; well-formed, and only from a
   check that is on, for an untrusted client. */
static char txfield[SPF_FIELD_MAX] ;
static size_t txfieldlen ;
static void tx_take (void)
{
  size_t k, col = 0 ;
  txfieldlen = env.spf.fieldlen ;
  if (!txfieldlen) return ;
  must(env.mode[ENV_SPF] != ENV_OFF && !eng.trusted) ;
  must(txfieldlen <= sizeof txfield) ;
  memcpy(txfield, env.spf.field, txfieldlen) ;
  must(txfieldlen > 16 && !memcmp(txfield, "Received-SPF: ", 14) && !memcmp(txfield + txfieldlen - 2, "\r\n", 2)) ;
  for (k = 0 ; k < txfieldlen ; k++)
  {
    unsigned char c = (unsigned char)txfield[k] ;
    if (c == '\r') { must(k + 1 < txfieldlen && txfield[k+1] == '\n') ; must(k + 2 == txfieldlen || txfield[k+2] == '\t') ; col = 0 ; k++ ; continue ; }
    must((c >= 32 && c < 127) || c == '\t') ;
    must(++col <= 998) ;
  }
}

static void run (void) { engine_run(&eng, now) ; if (engine_end_childin(&eng)) srv.inclosed = 1 ; }

/* is the run of bytes part of what the client sent? */
static int sent_has (char const *s, size_t n)
{
  size_t i ;
  if (!n) return 1 ;
  for (i = 0 ; i + n <= sentlen ; i++) if (!memcmp(sent + i, s, n)) return 1 ;
  return 0 ;
}

/* a command line the server got (n bytes, CRLF removed): the
   invariants of what may reach it */
static void server_line (char const *l, size_t n)
{
  size_t arg ;
  enum smtp_verb v ;
  must(!memchr(l, 0, n) && !memchr(l, '\r', n)) ;
  if (srv.authline) { srv.authline = 0 ; srv.pending[srv.npending++] = K_AUTHLINE ; must(n <= PROXY_LINE_MAX) ; return ; }
  v = smtp_verb(l, n, &arg) ;
  must(v != VERB_UNKNOWN && v != VERB_VRFY && v != VERB_STARTTLS && v != VERB_BDAT) ;
  must(n <= (v == VERB_AUTH ? PROXY_LINE_MAX : conf.linemax)) ;
  if (v == VERB_MAIL || v == VERB_RCPT)
  {
    /* the parameters: only those of what was offered */
    if (v == VERB_MAIL)
    {
      rcptaddr_from f ;
      if (!srv.trusted)
      {
        must(rcptaddr_mailfrom8(l + arg, n - arg, &f) == RCPTADDR_MAIL_OK) ;
        must(!f.paramslen || smtp_params_ok(l + arg + f.params, f.paramslen, srv.offered & (EXT_DEFAULT | EXT_SMTPUTF8), 0)) ;
      }
    }
    else if (!srv.trusted)
    {
      static rcptaddr a ;
      static rcptaddr_keys k ;
      enum rcptaddr_form form = rcptaddr_parse8(l + arg, n - arg, 1, &a) ;
      must(form == RCPTADDR_DOMAIN || form == RCPTADDR_POSTMASTER) ;
      must(!a.paramslen || smtp_params_ok(l + arg + a.params, a.paramslen, srv.offered & (EXT_DEFAULT | EXT_SMTPUTF8), 1)) ;
      if (form == RCPTADDR_DOMAIN && !strcmp(a.domain, "example.org"))
      {
        /* a local recipient: one the source knows */
        char addr[2 * RCPTADDR_MAX + 2] ;
        unsigned int i ;
        int known = 0 ;
        snprintf(addr, sizeof addr, "%s@%s", a.local, a.domain) ;
        must(rcptaddr_keys_make(addr, '-', 0, &k)) ;
        for (i = 0 ; i < k.n ; i++) known |= source_address(&src, k.key[i]) ;
        must(known) ;
      }
    }
  }
  if (v == VERB_MAIL) tx_take() ;
  if (v == VERB_RSET || v == VERB_EHLO || v == VERB_HELO) txfieldlen = 0 ;
  srv.pending[srv.npending++] = v == VERB_EHLO ? K_EHLO : v == VERB_HELO ? K_HELO : v == VERB_DATA ? K_DATA
    : v == VERB_AUTH ? K_AUTH : v == VERB_QUIT ? K_QUIT : v == VERB_MAIL ? K_MAIL : K_OTHER ;
}

/* the server takes what the engine wrote for it */
static void server_take (void)
{
  size_t n = mx_fifo_len(&eng.tochild), i = 0 ;
  if (!n) return ;
  must(!srv.inclosed) ;   /* nothing after the end of its input */
  must(srv.len + n <= sizeof srv.buf) ;
  memcpy(srv.buf + srv.len, eng.tochild.s + eng.tochild.head, n) ;
  mx_fifo_skip(&eng.tochild, n) ;
  engine_child_wrote(&eng, n) ;
  if (srv.gone) return ;   /* it left: what comes is lost, as to a dead process */
  srv.len += n ;
  /* every complete line, or message */
  while (srv.npending < sizeof srv.pending / sizeof *srv.pending - 1)
  {
    char const *b = srv.buf + i ;
    size_t have = srv.len - i, k, end = 0 ;
    if (srv.data && srv.datastart)
    {
      /* the transaction's field first, whole, once */
      if (!have) break ;
      srv.datastart = 0 ;
      if (srv.fieldlen)
      {
        must(have >= srv.fieldlen && !memcmp(b, srv.field, srv.fieldlen)) ;
        i += srv.fieldlen ;
        continue ;
      }
    }
    if (srv.data)
    {
      /* the end: CRLF.CRLF, or "." CRLF at the very start */
      if (have >= 3 && !memcmp(b, ".\r\n", 3)) end = 3 ;
      for (k = 0 ; !end && k + 5 <= have ; k++) if (!memcmp(b + k, "\r\n.\r\n", 5)) end = k + 5 ;
      if (!end) break ;
      /* the message as it came: bytes the client sent, in one run */
      must(sent_has(b, end)) ;
      srv.databytes += end ;
      srv.data = 0 ;
      txfieldlen = 0 ;
      srv.pending[srv.npending++] = K_DATAEND ;
    }
    else
    {
      char const *nl = memchr(b, '\n', have) ;
      if (!nl) break ;
      end = (size_t)(nl - b) + 1 ;
      must(end >= 2 && b[end - 2] == '\r') ;   /* the engine ends its lines with CRLF */
      server_line(b, end - 2) ;
    }
    i += end ;
  }
  memmove(srv.buf, srv.buf + i, srv.len - i) ;
  srv.len -= i ;
}

static void say (char const *s)
{
  mx_fifo_put(&eng.fromchild, s, strlen(s)) ;
}

/* the server answers what it has got; v picks how */
static void server_answer (unsigned int v)
{
  unsigned int i ;
  char r[256] ;
  if (srv.gone || srv.quit) return ;
  for (i = 0 ; i < srv.npending && mx_fifo_room(&eng.fromchild) >= 256 ; i++)
  {
    unsigned int tag = ++srv.answered ;
    int refuse = (v >> (i % 4)) & 1 && (v & 0x10) ;
    switch (srv.pending[i])
    {
      case K_EHLO :
        if (refuse) { snprintf(r, sizeof r, "501 #%u bad\r\n", tag) ; srv.offered = 0 ; }
        else
        {
          snprintf(r, sizeof r, "250-#%u server\r\n%s%s%s%s250 8BITMIME\r\n", tag, v & 0x20 ? "250-PIPELINING\r\n" : "",
            v & 0x40 ? "250-SIZE 1000\r\n" : "", v & 0x80 ? "250-SMTPUTF8\r\n250-DSN\r\n" : "", "250-X-SECRET\r\n250-AUTH PLAIN\r\n") ;
          srv.offered = EXT_8BITMIME | EXT_AUTH | (v & 0x20 ? EXT_PIPELINING : 0) | (v & 0x40 ? EXT_SIZE : 0) | (v & 0x80 ? EXT_SMTPUTF8 | EXT_DSN : 0) ;
        }
        break ;
      case K_HELO : snprintf(r, sizeof r, "250 #%u server\r\n", tag) ; srv.offered = 0 ; break ;
      case K_DATA :
        if (refuse) snprintf(r, sizeof r, "554 #%u no\r\n", tag) ;
        else
        {
          snprintf(r, sizeof r, "354 #%u go\r\n", tag) ; srv.data = 1 ;
          srv.datastart = 1 ; srv.fieldlen = txfieldlen ; memcpy(srv.field, txfield, txfieldlen) ;
        }
        break ;
      case K_AUTH :
      case K_AUTHLINE :
        if (refuse) snprintf(r, sizeof r, "535 #%u no\r\n", tag) ;
        else if (srv.pending[i] == K_AUTH) { snprintf(r, sizeof r, "334 #%u\r\n", tag) ; srv.authline = 1 ; }
        else { snprintf(r, sizeof r, "235 #%u ok\r\n", tag) ; srv.trusted = 1 ; txfieldlen = 0 ; }
        break ;
      case K_QUIT : snprintf(r, sizeof r, "221 #%u bye\r\n", tag) ; srv.quit = 1 ; break ;
      case K_MAIL : if (refuse) txfieldlen = 0 ; /* fall through */
      default : snprintf(r, sizeof r, refuse ? "550 #%u no\r\n" : "250 #%u ok\r\n", tag) ; break ;
    }
    say(r) ;
    if (srv.quit) { i++ ; break ; }
  }
  memmove(srv.pending, srv.pending + i, (srv.npending - i) * sizeof *srv.pending) ;
  srv.npending -= i ;
  /* misbehaving, now and then: the engine must notice, not follow */
  if (srv.quit) ;
  else if ((v & 0x0f) == 0x0f && !srv.gone) { say("421 4.4.2 server shutting down\r\n") ; srv.gone = 1 ; }
  else if ((v & 0x1f) == 0x0e && !srv.gone) say("250 unasked\r\n") ;
  else if ((v & 0x1f) == 0x0d && !srv.gone) say("garbage\r\n") ;
  engine_child_read(&eng, now) ;
}

/* the client reads what was written for it */
static void client_take (void)
{
  size_t n = mx_fifo_len(&eng.out), i = 0 ;
  char const *s = eng.out.s + eng.out.head ;
  while (i < n)
  {
    size_t l = smtp_reply_len(s + i, n - i) ;
    char const *tag ;
    must(l && smtp_reply_valid(s + i, l)) ;   /* whole, well-formed replies */
    tag = l > 5 && s[i + 4] == '#' ? s + i + 4 : 0 ;   /* the model's replies: "CODE #N" */
    if (tag)
    {
      long long t = strtoll(tag + 1, 0, 10) ;
      must(t > last_tag) ;   /* in command order, none twice */
      last_tag = t ;
    }
    i += l ;
  }
  mx_fifo_skip(&eng.out, n) ;
}

static void client_send (char const *s, size_t n)
{
  if (mx_fifo_room(&eng.in) < n || sentlen + n > sizeof sent) return ;
  mx_fifo_put(&eng.in, s, n) ;
  memcpy(sent + sentlen, s, n) ;
  sentlen += n ;
  engine_client_read(&eng, now) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  size_t i = 1 ;
  unsigned int steps = 0 ;
  if (!size) return 0 ;
  memset(&env, 0, sizeof env) ;
  memset(&chk, 0, sizeof chk) ;
  memset(&st, 0, sizeof st) ;
  memset(&srv, 0, sizeof srv) ;
  txfieldlen = 0 ;
  env.ip = chk.ip = "192.0.2.7" ;
  env.dns_ms = 1 ;
  env.mode[ENV_SPF] = size % 3 == 0 ? ENV_OFF : size % 3 == 1 ? ENV_ON : ENV_WARN ;
  env.spf.ms = 1 ; env.spf.client_known = 1 ; env.spf.receiver = "mx.example.org" ;
  env.client.ip[0] = (char)0xc0 ; env.client.ip[2] = 2 ; env.client.ip[3] = 7 ;
  spf_pick = (unsigned int)(size / 3) ;
  {
    static char const *const pol[] = { "softfail=accept", "softfail=defer", "softfail=reject", "permerror=reject" } ;
    must(spf_option(&env.spf, pol[(size / 12) % 4])) ;
  }
  if (data[0] & 1) env.mode[ENV_PIPELINING] = data[0] & 2 ? ENV_WARN : ENV_ON ;
  if (data[0] & 4) env.mode[ENV_NONSMTP] = data[0] & 8 ? ENV_WARN : ENV_ON ;
  if (data[0] & 16) env.mode[ENV_SENDER_FQDN] = ENV_ON ;
  chk.src = &src ; chk.delimiter = '-' ; chk.env = &env ;
  chk.tp.free_rcpts = data[0] & 32 ? 1 : 1000 ;
  chk.tp.delay_ms = 100 ; chk.tp.unknown_ms = data[0] & 64 ? 0 : 150 ;
  chk.tp.max_unknown = 3 ;
  conf.chk = &chk ; conf.relay = data[0] >> 7 ; conf.linemax = 512 ; conf.idle_ms = 10000 ;
  srv.trusted = conf.relay ;
  sentlen = 0 ; last_tag = -1 ;
  now = 1000 ;
  engine_init(&eng, &conf, &st, now) ;
  say("220 #0 server ESMTP\r\n") ;
  engine_child_read(&eng, now) ;

  while (i < size && !engine_over(&eng) && steps++ < 400)
  {
    unsigned int op = data[i++] % 6, n ;
    switch (op)
    {
      case 0 :
        n = i < size ? data[i++] : 0 ;
        if (n > size - i) n = (unsigned int)(size - i) ;
        client_send((char const *)data + i, n) ;
        i += n ;
        break ;
      case 1 :
      {
        char l[64] ;
        size_t k = i < size ? data[i++] % NLINES : 0 ;
        size_t ll = strlen(lines[k]) ;
        memcpy(l, lines[k], ll) ; l[ll] = '\r' ; l[ll + 1] = '\n' ;
        client_send(l, ll + 2) ;
        break ;
      }
      case 2 : server_answer(i < size ? data[i++] : 0) ; break ;
      case 3 :
        now += 50 * (long long)(i < size ? data[i++] : 1) ;
        if (engine_timeout(&eng, now)) { client_take() ; return 0 ; }
        break ;
      case 4 : if (!eng.client_eof) engine_client_eof(&eng, now) ; break ;
      case 5 : if (!eng.child_eof) { engine_child_eof(&eng) ; srv.gone = 1 ; } break ;
    }
    run() ;
    server_take() ;
    client_take() ;
    run() ;
    server_take() ;
    client_take() ;
  }
  /* whatever the engine relayed as data, the server got as data (all
     it holds is data while it takes a message), once */
  if (!srv.gone) must(st.databytes == srv.databytes + (srv.data ? srv.len : 0)) ;
  return 0 ;
}
