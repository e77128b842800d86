/* refuse: the conversation smtp-screen holds with a client that talked
 * before the greeting, as smtp-delay holds it (smtp-delay/refuse.h):
 * "220 name" (after the teaser: the end of that greeting), 250 to
 * HELO, EHLO, RSET and NOOP, "451 4.7.1 Talking before the greeting
 * is not allowed (RFC 5321 section 4.3.1)" to everything else, 221 to
 * QUIT; at most 100 commands (then 421) and REFUSE_MS in all (then
 * closed). The bytes the client sent early are its first commands.
 * Lines are looked at by their first bytes only: nothing of a line is
 * kept but its verb.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "slots.h"

#define MAX_COMMANDS 100

static int reply (client *c, char const *a, char const *b)
{
  char buf[NAME_MAX_TEXT + 160] ;
  size_t n = strlen(a), m = b ? strlen(b) : 0 ;
  memcpy(buf, a, n) ;
  if (m) memcpy(buf + n, b, m) ;
  memcpy(buf + n + m, "\r\n", 2) ;
  return client_say(c, buf, n + m + 2) ;
}

void refuse_start (client *c)
{
  if (!reply(c, "220 ", S.cf.name)) { client_free(c) ; return ; }
  client_state(c, ST_REFUSE, REFUSE_MS) ;
}

static int verb_is (client const *c, char const *verb)
{
  size_t n = strlen(verb) ;
  return c->linelen >= n && !strncasecmp(c->line, verb, n)
    && (c->linelen == n || c->line[n] == ' ' || c->line[n] == '\r') ;
}

/* one command line: 0 goes on, 1 the client is dealt with */
static int answer (client *c)
{
  int ok ;
  if (verb_is(c, "QUIT"))
  {
    if (reply(c, "221 ", S.cf.name)) client_drain(c) ; else client_free(c) ;
    return 1 ;
  }
  if (verb_is(c, "HELO") || verb_is(c, "EHLO")) ok = reply(c, "250 ", S.cf.name) ;
  else if (verb_is(c, "RSET") || verb_is(c, "NOOP")) ok = reply(c, "250 ok", 0) ;
  else ok = reply(c, "451 4.7.1 " REFUSAL_TEXT, 0) ;
  if (!ok) { client_free(c) ; return 1 ; }
  if (++c->lines >= MAX_COMMANDS)
  {
    if (reply(c, "421 too many commands, closing", 0)) client_drain(c) ; else client_free(c) ;
    return 1 ;
  }
  return 0 ;
}

void refuse_read (client *c)
{
  char buf[4096] ;
  ssize_t r = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT) ;
  size_t i ;
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return ;
  if (r <= 0) { client_free(c) ; return ; }
  for (i = 0 ; i < (size_t)r ; i++)
  {
    if (buf[i] != '\n')
    {
      if (c->linelen < sizeof c->line) c->line[c->linelen] = buf[i] ;
      if (c->linelen < sizeof c->line + 1) c->linelen++ ;   /* more than a verb: "long" */
      continue ;
    }
    if (c->linelen > sizeof c->line) c->linelen = sizeof c->line ;
    if (answer(c)) return ;
    c->linelen = 0 ;
  }
}
