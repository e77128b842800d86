/* refuse: the short SMTP conversation smtp-delay holds with a client it
 * refuses, in the manner of rblsmtpd: a greeting, then mx_refuse's
 * answers (common/mx_refuse.h: 250 to HELO, EHLO, RSET and NOOP, the
 * 451 refusal to everything else, 221 to QUIT, at most 100 commands).
 * Bounded by `seconds` in all; then the connection is closed. After
 * its 221 or 421 it shuts its side down and reads what the client still
 * sends for a second at most, so that the replies are not lost to a
 * reset.
 */
#ifndef SMTPDELAY_REFUSE_H
#define SMTPDELAY_REFUSE_H

/* Talks on fds 0 and 1 until QUIT, EOF, too many commands or the
   deadline; never returns. Exit code 0. */
extern void refuse_conversation (char const *greeting_host, unsigned int seconds) __attribute__((noreturn)) ;

#endif
