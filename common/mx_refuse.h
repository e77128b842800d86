/* mx_refuse: the short conversation held with a client refused for
 * talking before the greeting, in the manner of rblsmtpd, kept by
 * smtp-delay (a process per client, blocking) and smtp-screen (one
 * slot per client, non-blocking) alike: 250 to HELO, EHLO, RSET and
 * NOOP, the refusal to everything else, 221 to QUIT, and after 100
 * commands "421 too many commands, closing". Only a line's first bytes
 * are kept (its verb), so a client gains nothing by sending long lines.
 * The greeting and the time limit are the caller's.
 */
#ifndef MX_REFUSE_H
#define MX_REFUSE_H

#include <stddef.h>

#define MX_REFUSE_TEXT "Talking before the greeting is not allowed (RFC 5321 section 4.3.1)"
#define MX_REFUSE_REPLY "451 4.7.1 " MX_REFUSE_TEXT
#define MX_REFUSE_MAX_COMMANDS 100
#define MX_REFUSE_HOST_MAX 255
/* the longest reply mx_refuse_step writes, CRLF included */
#define MX_REFUSE_REPLY_MAX (MX_REFUSE_HOST_MAX + sizeof MX_REFUSE_REPLY + 8)

typedef struct mx_refuse_s mx_refuse ;
struct mx_refuse_s
{
  char head[6] ;            /* the line's first bytes */
  unsigned char len ;       /* bytes of the line seen, counting up to 7 ("longer") */
  unsigned char commands ;  /* lines answered */
} ;
#define MX_REFUSE_ZERO { { 0 }, 0, 0 }

/* Takes bytes from buf[0..len) up to and including the first LF.
   *used says how many it took. If a line ended, writes its reply (host
   cut to MX_REFUSE_HOST_MAX bytes; refusal, e.g. "451 4.7.1 ...", cut
   to 48) with its CRLF into out (MX_REFUSE_REPLY_MAX bytes) and returns
   the reply's length; *end is then 1 if the conversation is over (a
   221 or the 421). Returns 0 if the bytes held no LF. */
extern size_t mx_refuse_step (mx_refuse *r, char const *buf, size_t len, size_t *used,
  char const *host, char *out, int *end) ;

/* "220 host\r\n" into out (MX_REFUSE_REPLY_MAX bytes): its length */
extern size_t mx_refuse_greeting (char const *host, char *out) ;

#endif
