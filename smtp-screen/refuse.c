/* refuse: the conversation smtp-screen holds with a client that talked
 * before the greeting, as smtp-delay holds it: "220 name" (after the
 * teaser: the end of that greeting), then mx_refuse's answers
 * (common/mx_refuse.h: 250 to HELO, EHLO, RSET and NOOP, the 451
 * refusal to everything else, 221 to QUIT, at most 100 commands), and
 * REFUSE_MS in all (then closed). The bytes the client sent early are
 * its first commands.
 */
#include <errno.h>
#include <sys/socket.h>

#include "mx_refuse.h"
#include "slots.h"

void refuse_start (client *c)
{
  char out[MX_REFUSE_REPLY_MAX] ;
  if (!client_say(c, out, mx_refuse_greeting(S.cf.name, out))) { client_free(c) ; return ; }
  client_state(c, ST_REFUSE, REFUSE_MS) ;
}

void refuse_read (client *c)
{
  char buf[4096] ;
  char out[MX_REFUSE_REPLY_MAX] ;
  ssize_t r = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT) ;
  size_t i = 0 ;
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return ;
  if (r <= 0) { client_free(c) ; return ; }
  while (i < (size_t)r)
  {
    size_t used ;
    int end ;
    size_t n = mx_refuse_step(&c->rf, buf + i, (size_t)r - i, &used, S.cf.name, out, &end) ;
    i += used ;
    if (n && !client_say(c, out, n)) { client_free(c) ; return ; }
    if (end) { client_drain(c) ; return ; }
  }
}
