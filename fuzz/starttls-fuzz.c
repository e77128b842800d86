/* starttls-fuzz: libFuzzer harness for smtp-tls's session engine
 * (smtp-tls/session.h), driving whole conversations: the input is a
 * script of steps (the client sends a command from a dictionary or raw
 * bytes, the scripted server answers its oldest command or sends raw
 * bytes, the handshake ends, either side closes), played against the
 * engine with the queues drained after each step. The scripted server
 * reads what it gets as a server would (commands, with verbs split as
 * qmail-smtpd and rcptchecks split them, AUTH answers, data to the dot) and
 * tags every reply with the number of the command it answers.
 * Aborts when:
 *  - the client gets an extension the server did not offer, CHUNKING or
 *    PRDR while the engine follows, or STARTTLS once TLS is up or
 *    without a certificate;
 *  - the server's replies reach the client out of order or twice;
 *  - the server gets a STARTTLS-like command (not an AUTH answer) while
 *    the engine follows,
 *    or, inside TLS, a message whose data does not start with the trace
 *    field;
 *  - once the engine relays, the bytes either way are not exactly those
 *    sent after the relay point (nothing lost, added or duplicated).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mx_smtp.h"
#include "session.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

/* an invariant: its line and text on stderr, then abort */
#define check(c) do { if (!(c)) { fprintf(stderr, "starttls-fuzz.c:%d: %s\n", __LINE__, #c) ; show() ; abort() ; } } while (0)

static void show (void) ;

#define STREAM 262144
/* a byte stream as one side sees it, kept whole */
typedef struct { char s[STREAM] ; size_t n ; } stream ;
static stream csent, crecv, ssent, srecv ;

static void add (stream *st, char const *s, size_t n)
{
  if (n > STREAM - st->n) n = STREAM - st->n ;
  memcpy(st->s + st->n, s, n) ;
  st->n += n ;
}

static uint8_t const *in ;
static size_t inlen ;
static unsigned int take (void) { if (!inlen) return 0 ; inlen-- ; return *in++ ; }

static session_conf conf ;
static int ready_ok ;
static int ready (void) { return ready_ok ; }

/* the server: its commands not answered yet, its reading position */
static unsigned int pending[512], npending, ncommands ;   /* the tag, and EHLO_BIT for an EHLO */
#define EHLO_BIT 0x80000000u
static int sdata, sauth, want_trace, tainted ;
static size_t sline ;         /* start of the line being read in srecv */
static unsigned int offered ; /* extensions the server ever offered */
static int tls_up ;
static int relaying ;          /* the engine relays */
static int followed ;          /* it did not relay yet when this step began: what the client gets now, it sent following */

static char const *const exts[] = { "PIPELINING", "SIZE 1000", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN", "AUTH PLAIN LOGIN",
  "HELP", "SMTPUTF8", "CHUNKING", "PRDR", "STARTTLS", "XCLIENT ADDR" } ;
#define NEXTS (sizeof exts / sizeof *exts)

/* the keyword of a known extension line "250-KEY..." or "250 KEY...", or -1 */
static int ext_of (char const *l, size_t n)
{
  unsigned int i ;
  if (n < 5 || memcmp(l, "250", 3) || (l[3] != '-' && l[3] != ' ')) return -1 ;
  for (i = 0 ; i < NEXTS ; i++)
  {
    size_t k = strcspn(exts[i], " ") ;
    if (n - 4 >= k && !strncasecmp(l + 4, exts[i], k) && (n - 4 == k || l[4 + k] == ' ' || l[4 + k] == '\r' || l[4 + k] == '='))
      return (int)i ;
  }
  return -1 ;
}

/* what the client got, line by line, since the last look */
static size_t cline, last_tag ;
static void client_reads (void)
{
  size_t n = mx_fifo_len(&session_cout) ;
  add(&crecv, session_cout.s + session_cout.head, n) ;
  mx_fifo_skip(&session_cout, n) ;
  for (;;)
  {
    char *nl = memchr(crecv.s + cline, '\n', crecv.n - cline) ;
    char const *l = crecv.s + cline, *tag ;
    size_t len ;
    int e ;
    if (!nl) break ;
    len = (size_t)(nl - l) ;
    e = ext_of(l, len) ;
    /* the engine's own STARTTLS, before TLS and with a certificate only;
       everything else as the server offered it, and nothing the engine
       cannot follow while it follows */
    if (e == 10 && followed) check(!tls_up && conf.tls_ok && !conf.implicit) ;
    else if (e >= 0 && !tainted) check(offered & (1u << e)) ;
    if ((e == 8 || e == 9) && followed && !tainted) check(0) ;
    /* the server's replies in order, each once */
    tag = memchr(l, '#', len) ;
    if (tag && !tainted)
    {
      size_t t = strtoul(tag + 1, 0, 10) ;
      check(t + 1 > last_tag) ;
      last_tag = t + 1 ;
    }
    cline += len + 1 ;
  }
}

static void server_reply (char const *r)
{
  add(&ssent, r, strlen(r)) ;
  mx_fifo_put(&session_kin, r, strlen(r)) ;
}

/* what the server got, read as a server reads it; following: every
   line came from the engine following the session */
static void server_reads (int following)
{
  size_t n = mx_fifo_len(&session_kout) ;
  add(&srecv, session_kout.s + session_kout.head, n) ;
  mx_fifo_skip(&session_kout, n) ;
  for (;;)
  {
    char *nl = memchr(srecv.s + sline, '\n', srecv.n - sline) ;
    char const *l = srecv.s + sline ;
    size_t len ;
    if (!nl) break ;
    len = (size_t)(nl - l) ;
    if (sdata)
    {
      if (want_trace && !tainted) check(len >= 15 && !memcmp(l, "Received: from ", 15)) ;
      want_trace = 0 ;
      if ((len == 1 || (len == 2 && l[1] == '\r')) && l[0] == '.') { sdata = 0 ; if (npending < 512) pending[npending++] = ++ncommands ; }
    }
    else
    {
      size_t cl = len && l[len - 1] == '\r' ? len - 1 : len ;
      /* no STARTTLS-like line while the engine follows */
      if (following && !sauth) check(!smtp_starttls_line(l, cl)) ;
      /* after a 334, the line is an AUTH answer, whatever it says; the
         server splits verbs as qmail-smtpd and rcptchecks do */
      size_t arg ;
      if (npending < 512) pending[npending++] = ++ncommands | (!sauth && smtp_verb(l, cl, &arg) == VERB_EHLO ? EHLO_BIT : 0) ;
      sauth = 0 ;
    }
    sline += len + 1 ;
  }
}

/* the conversation so far, for a human */
static void show (void)
{
  fprintf(stderr, "--- client got:\n%.*s--- server got:\n%.*s--- %s\n", (int)crecv.n, crecv.s, (int)srecv.n, srecv.s,
    session_result() ? session_result() : "(going on)") ;
}

static char const *const commands[] =
{
  "EHLO client.test\r\n", "HELO client.test\r\n", "STARTTLS\r\n", "STARTTLS x\r\n", "MAIL FROM:<a@example.com>\r\n",
  "RCPT TO:<b@example.org>\r\n", "DATA\r\n", "Subject: x\r\n\r\nbody\r\n.\r\n", "AUTH PLAIN Z29vZA==\r\n", "AUTH LOGIN\r\n",
  "BDAT 5 LAST\r\n", "RSET\r\n", "NOOP\r\n", "QUIT\r\n", "VRFY x\r\n", "dGVzdA==\r\n", " STARTTLS\r\n", "x\n.\n",
} ;
#define NCOMMANDS (sizeof commands / sizeof *commands)

/* the server's answer to its oldest command */
static void answer (void)
{
  char buf[512] ;
  unsigned int c = take(), tag, i, ehlo ;
  if (!npending) return ;
  tag = pending[0] & ~EHLO_BIT ;
  ehlo = pending[0] & EHLO_BIT ;
  memmove(pending, pending + 1, --npending * sizeof *pending) ;
  /* extensions are listed in answers to EHLO only */
  if (c % 10 < 3 && !ehlo) c = 9 ;
  switch (c % 10)
  {
    case 0 : case 1 : case 2 :
    {
      /* an EHLO answer with the extensions of the next two bytes */
      unsigned int bits = take() | (take() << 8) ;
      size_t n = (size_t)snprintf(buf, sizeof buf, "250%cserver #%u\r\n", bits & 0xfff ? '-' : ' ', tag) ;
      for (i = 0 ; i < NEXTS && n < sizeof buf - 40 ; i++)
        if (bits & (1u << i))
        {
          bits &= ~(1u << i) ;
          offered |= 1u << i ;
          n += (size_t)snprintf(buf + n, sizeof buf - n, "250%c%s\r\n", bits & 0xfff ? '-' : ' ', exts[i]) ;
        }
      break ;
    }
    case 3 : snprintf(buf, sizeof buf, "354 go #%u\r\n", tag) ; sdata = 1 ; want_trace = tls_up ; break ;
    case 4 : snprintf(buf, sizeof buf, "334 VXNlcm5hbWU6 #%u\r\n", tag) ; sauth = 1 ; break ;
    case 5 : snprintf(buf, sizeof buf, "235 2.7.0 ok #%u\r\n", tag) ; break ;
    case 6 : snprintf(buf, sizeof buf, "550 no #%u\r\n", tag) ; break ;
    case 7 : snprintf(buf, sizeof buf, "221 bye #%u\r\n", tag) ; break ;
    case 8 : snprintf(buf, sizeof buf, "451 later #%u\r\n", tag) ; break ;
    default : snprintf(buf, sizeof buf, "250 ok #%u\r\n", tag) ; break ;
  }
  /* a reply that starts the data only if the server reads data next */
  if (c % 10 == 3 && !tls_up) want_trace = 0 ;
  server_reply(buf) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  unsigned int flags ;
  in = data ; inlen = size ;
  flags = take() ;
  conf.tls_ok = !(flags & 1) ;
  conf.implicit = conf.tls_ok && (flags & 2) ;
  conf.auth_tls_only = !!(flags & 4) ;
  conf.tls_ready = &ready ;
  conf.local_name = "mx.test" ;
  conf.client_ip = flags & 8 ? "2001:db8::1" : "192.0.2.1" ;
  ready_ok = !(flags & 16) ;
  csent.n = crecv.n = ssent.n = srecv.n = 0 ;
  npending = ncommands = 0 ; sdata = sauth = want_trace = tainted = 0 ; sline = cline = last_tag = 0 ;
  offered = 0 ; tls_up = 0 ; relaying = 0 ;
  session_start(&conf) ;
  if (conf.implicit) { tls_up = 1 ; session_tls_up("TLS_FUZZ") ; }
  server_reply("220 server #0\r\n") ;

  while (inlen && session_phase() != SESSION_DONE)
  {
    unsigned int op = take() ;
    size_t cbefore = csent.n, sbefore = ssent.n, crbefore, srbefore ;
    int was_relaying = relaying ;
    followed = !relaying ;
    switch (op % 8)
    {
      case 0 : case 1 : case 2 :
      {
        /* the client sends a command of the dictionary */
        char const *c = commands[take() % NCOMMANDS] ;
        if (session_phase() == SESSION_HANDSHAKE) break ;
        add(&csent, c, strlen(c)) ;
        mx_fifo_put(&session_cin, c, strlen(c)) ;
        break ;
      }
      case 3 :
      {
        /* the client sends raw bytes */
        size_t n = take() % 64 ;
        if (n > inlen) n = inlen ;
        if (session_phase() == SESSION_HANDSHAKE) break ;
        if (mx_fifo_put(&session_cin, (char const *)in, n)) add(&csent, (char const *)in, n) ;
        in += n ; inlen -= n ;
        break ;
      }
      case 4 : case 5 : answer() ; break ;
      case 6 :
      {
        /* the server sends raw bytes: no ordering or offer holds then */
        size_t n = take() % 32 ;
        if (n > inlen) n = inlen ;
        if (mx_fifo_put(&session_kin, (char const *)in, n)) { add(&ssent, (char const *)in, n) ; tainted = 1 ; }
        in += n ; inlen -= n ;
        break ;
      }
      default :
        switch (take() % 4)
        {
          case 0 : if (session_phase() == SESSION_HANDSHAKE) { tls_up = 1 ; session_tls_up("TLS_FUZZ") ; } break ;
          case 1 : session_client_eof() ; break ;
          case 2 : session_child_eof() ; break ;
          default : break ;
        }
    }
    crbefore = crecv.n ; srbefore = srecv.n ;
    session_run() ;
    if (session_phase() == SESSION_RELAY) relaying = 1 ;
    client_reads() ;
    server_reads(!relaying) ;
    if (session_phase() == SESSION_STARTING && !mx_fifo_len(&session_cout)) session_handshake() ;
    if (was_relaying)
    {
      /* bytes only, nothing lost, added or duplicated */
      check(srecv.n - srbefore == csent.n - cbefore) ;
      check(!memcmp(srecv.s + srbefore, csent.s + cbefore, csent.n - cbefore)) ;
      check(crecv.n - crbefore == ssent.n - sbefore) ;
      check(!memcmp(crecv.s + crbefore, ssent.s + sbefore, ssent.n - sbefore)) ;
    }
  }
  if (getenv("STARTTLS_FUZZ_SHOW")) show() ;
  /* the queues are bounded whatever came */
  check(mx_fifo_len(&session_cin) <= session_cin.size && mx_fifo_len(&session_kin) <= session_kin.size) ;
  return 0 ;
}
