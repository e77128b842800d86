/* engine-test: rcptchecks' session engine (rcptchecks/engine.h) driven
 * on bytes alone: what the client writes goes into its input, what the
 * server would write into the child's output, and what comes out each
 * way is compared. The recipient source is a stub (example.org local,
 * alice@example.org its one address); no DNS, no file descriptor.
 */
#include <stdio.h>
#include <string.h>

#include <skalibs/strerr.h>

#include "engine.h"
#include "source.h"
#include "verbs.h"
#include "tap.h"

char const *PROG = "engine-test" ;

/* the log lines, one after another */
static char logged[8192] ;

void strerr_warnv (char const *const *v, unsigned int n)
{
  size_t l = strlen(logged) ;
  unsigned int i ;
  for (i = 0 ; i < n ; i++)
  {
    size_t k = strlen(v[i]) ;
    if (l + k + 2 >= sizeof logged) return ;
    memcpy(logged + l, v[i], k) ; l += k ;
  }
  logged[l++] = '\n' ; logged[l] = 0 ;
}

int source_domain (source *s, char const *domain) { (void)s ; return !strcmp(domain, "example.org") ; }
int source_address (source *s, char const *key) { (void)s ; return !strcmp(key, "alice@example.org") ; }

static engine eng ;
static engine *e = &eng ;
static envelope env ;
static source src ;
static check chk ;
static proxy_conf conf ;
static proxy_stats st ;
static long long now ;

static void start (int relay)
{
  memset(&env, 0, sizeof env) ;
  memset(&chk, 0, sizeof chk) ;
  memset(&st, 0, sizeof st) ;
  env.ip = "127.0.0.1" ;
  chk.src = &src ; chk.delimiter = '-' ; chk.ip = "127.0.0.1" ; chk.env = &env ;
  chk.tp.free_rcpts = 1000 ;
  conf.chk = &chk ; conf.relay = relay ; conf.linemax = 1000 ; conf.idle_ms = 60000 ;
  logged[0] = 0 ;
  now = 1000 ;
  engine_init(e, &conf, &st, now) ;
}

static void run (void) { engine_run(e, now) ; }

static void client (char const *s)
{
  mx_fifo_put(&e->in, s, strlen(s)) ;
  engine_client_read(e, now) ;
  run() ;
}

static void server (char const *s)
{
  mx_fifo_put(&e->fromchild, s, strlen(s)) ;
  engine_child_read(e, now) ;
  run() ;
}

/* what the server got since the last call (all of it is taken) */
static char const *server_got (void)
{
  static char buf[ENGINE_BUFSZ + 1] ;
  size_t n = mx_fifo_len(&e->tochild) ;
  memcpy(buf, e->tochild.s + e->tochild.head, n) ; buf[n] = 0 ;
  mx_fifo_skip(&e->tochild, n) ;
  engine_child_wrote(e, n) ;
  run() ;
  return buf ;
}

static char const *client_got (void)
{
  static char buf[ENGINE_BUFSZ + 1] ;
  size_t n = mx_fifo_len(&e->out) ;
  memcpy(buf, e->out.s + e->out.head, n) ; buf[n] = 0 ;
  mx_fifo_skip(&e->out, n) ;
  return buf ;
}

static int is (char const *got, char const *want, char const *name)
{
  int ok = tap_ok(!strcmp(got, want), name) ;
  if (!ok) fprintf(stderr, "# got  '%s'\n# want '%s'\n", got, want) ;
  return ok ;
}

/* a session up to the answer of EHLO, with these extension lines */
static void ehlo (char const *answer)
{
  server("220 server ESMTP\r\n") ;
  is(client_got(), "220 server ESMTP\r\n", "greeting passed on") ;
  client("EHLO client.test\r\n") ;
  is(server_got(), "EHLO client.test\r\n", "EHLO passed on") ;
  server(answer) ;
}

int main (void)
{
  unsigned int i ;
  char name[200] ;

  for (i = 0 ; i < verbs_n ; i++)
  {
    snprintf(name, sizeof name, "verb table: row %u is verb %u", i, i) ;
    tap_ok(verbs[i].verb == (enum smtp_verb)i, name) ;
  }
  tap_ok(verbs_n == VERB_BDAT + 1, "verb table: a row for every verb") ;

  /* pipelined: answers in command order, a refused RCPT never passed on */
  start(0) ;
  ehlo("250-server\r\n250-PIPELINING\r\n250-X-SECRET\r\n250 SIZE 1000\r\n") ;
  is(client_got(), "250-server\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", "EHLO: the extension not understood is dropped") ;
  client("MAIL FROM:<a@example.com> SIZE=10\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n") ;
  is(server_got(), "MAIL FROM:<a@example.com> SIZE=10\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n", "the server gets MAIL, the known RCPT and DATA only") ;
  server("250 ok from\r\n250 ok alice\r\n354 go\r\n") ;
  {
    char const *got = client_got() ;
    tap_ok(!strncmp(got, "250 ok from\r\n550 5.1.1 ", 23) && strstr(got, "\r\n250 ok alice\r\n354 go\r\n"), "answers in command order, the refusal in its place") ;
  }
  client("Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\n") ;
  is(server_got(), "Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\n", "DATA: the bytes as they are, once") ;
  server("250 queued\r\n") ;
  is(client_got(), "250 queued\r\n", "the end of the data answered") ;
  tap_ok(st.messages == 1, "one message counted") ;

  /* the end of the data ends the transaction: a MAIL without RSET opens a new one */
  client("MAIL FROM:<b@example.com>\r\n") ;
  is(server_got(), "MAIL FROM:<b@example.com>\r\n", "a second MAIL after the data, without RSET: passed on") ;
  server("250 ok\r\n") ;
  is(client_got(), "250 ok\r\n", "... and answered by the server") ;
  client("MAIL FROM:<c@example.com>\r\n") ;
  tap_ok(!strncmp(client_got(), "503 ", 4) && !*server_got(), "a MAIL inside that transaction: 503 here") ;
  client("RCPT TO:<nobody@example.org>\r\nQUIT\r\n") ;
  is(server_got(), "QUIT\r\n", "an unknown RCPT in the second transaction is not passed on") ;
  server("221 bye\r\n") ;
  tap_ok(!strncmp(client_got(), "550 5.1.1 ", 10), "... refused here") ;
  tap_ok(engine_result(e) && !strcmp(engine_result(e), "quit"), "the session ends with QUIT") ;
  tap_ok(engine_end_childin(e) && !engine_end_childin(e), "the child's input ends, once") ;

  /* a refused second EHLO leaves nothing offered */
  start(0) ;
  ehlo("250-server\r\n250 SIZE 1000\r\n") ;
  client_got() ;
  client("EHLO bad_name\r\n") ;
  is(server_got(), "EHLO bad_name\r\n", "the second EHLO passed on") ;
  server("501 bad name\r\n") ;
  is(client_got(), "501 bad name\r\n", "... and refused") ;
  client("MAIL FROM:<a@example.com> SIZE=10\r\n") ;
  is(server_got(), "", "SIZE after a refused EHLO does not reach the server") ;
  tap_ok(!strncmp(client_got(), "555 5.5.4 ", 10), "... 555 here") ;

  /* non-SMTP commands: a row of the command stage */
  start(0) ;
  envelope_modes(&env, "nonsmtp", ENV_ON) ;
  server("220 server\r\n") ;
  client_got() ;
  client("GET / HTTP/1.0\r\n") ;
  is(server_got(), "", "GET: not passed on") ;
  tap_ok(!strncmp(client_got(), "421 4.7.0 ", 10) && engine_over(e) && !strcmp(engine_over(e), "nonsmtp"), "GET: 421, the session ends (nonsmtp)") ;

  /* unauthorised pipelining: a row of the command stage */
  start(0) ;
  envelope_modes(&env, "pipelining", ENV_ON) ;
  ehlo("250 server\r\n") ;
  client_got() ;
  client("MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@example.org>\r\n") ;
  is(server_got(), "MAIL FROM:<a@example.com>\r\n", "no PIPELINING offered: MAIL passed on") ;
  server("250 ok\r\n") ;
  tap_ok(!strncmp(client_got(), "554 5.5.0 ", 10) && !*server_got() && !strcmp(engine_result(e), "pipelining"),
    "the RCPT sent before MAIL's answer: 554, nothing of it passed on") ;
  start(0) ;
  envelope_modes(&env, "pipelining", ENV_WARN) ;
  ehlo("250 server\r\n") ;
  client_got() ;
  client("MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@example.org>\r\n") ;
  server_got() ;
  server("250 ok\r\n") ;
  is(server_got(), "RCPT TO:<alice@example.org>\r\n", "warn-only: the RCPT is passed on") ;
  tap_ok(strstr(logged, "result=pipelining dryrun=1") != 0, "... and logged with dryrun=1") ;

  /* the server out of step, and the client's silence */
  start(0) ;
  ehlo("250 server\r\n") ;
  client_got() ;
  server("250 unasked\r\n") ;
  tap_ok(!strncmp(client_got(), "421 4.3.0 mail server out of step", 33), "a reply to nothing: 421, out of step") ;
  start(0) ;
  server("220 server\r\n") ;
  client_got() ;
  now += 60000 ;
  tap_ok(!engine_timeout(e, now) && !strncmp(client_got(), "421 4.4.2 ", 10) && !strcmp(engine_result(e), "timeout"), "idle: 421 timeout") ;

  /* a trusted client: its RCPT goes to the server as written */
  start(1) ;
  ehlo("250 server\r\n") ;
  client_got() ;
  client("MAIL FROM:<a@example.com>\r\n") ;
  server_got() ;
  server("250 ok\r\n") ;
  client("RCPT TO:<nobody@example.org>\r\n") ;
  is(server_got(), "RCPT TO:<nobody@example.org>\r\n", "trusted: an unknown recipient is the server's business") ;
  client_got() ;
  client("XCLIENT ADDR=1.2.3.4\r\n") ;
  is(server_got(), "", "trusted: a verb off the list still does not pass") ;

  /* an AUTH answer off the grammar cancels the exchange */
  start(0) ;
  ehlo("250-server\r\n250 AUTH PLAIN\r\n") ;
  client_got() ;
  client("AUTH PLAIN\r\n") ;
  is(server_got(), "AUTH PLAIN\r\n", "AUTH passed on") ;
  server("334 \r\n") ;
  client_got() ;
  client("dGVz\rdA==\r\n") ;
  is(server_got(), "*\r\n", "an answer to 334 with a bare CR goes to the server as \"*\"") ;

  /* a tarpit delay: the answer waits, the clock decides */
  start(0) ;
  chk.tp.free_rcpts = 0 ; chk.tp.delay_ms = 2000 ;
  ehlo("250-server\r\n250 PIPELINING\r\n") ;
  client_got() ;
  client("MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@example.org>\r\n") ;
  server_got() ;
  server("250 ok\r\n250 ok\r\n") ;
  is(client_got(), "250 ok\r\n", "the delayed RCPT answer is not out before its time") ;
  tap_ok(engine_wake(e) == now + 2000, "... the engine asks to be woken then") ;
  now += 2000 ;
  engine_timeout(e, now) ;
  run() ;
  is(client_got(), "250 ok\r\n", "... and it is out then") ;
  return tap_done() ;
}
