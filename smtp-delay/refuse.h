/* refuse: the short SMTP conversation smtp-delay holds with a client it
 * refuses, in the manner of rblsmtpd: a greeting, 250 to HELO, EHLO,
 * RSET and NOOP, the refusal (a 4xx) to everything else, 221 to QUIT.
 * Bounded: lines of at most 1000 bytes (longer ones are cut), at most 100
 * commands, and `seconds` in all; then the connection is closed. After
 * its 221 or 421 it shuts its side down and reads what the client still
 * sends for a second at most, so that the replies are not lost to a
 * reset.
 */
#ifndef SMTPDELAY_REFUSE_H
#define SMTPDELAY_REFUSE_H

/* Talks on fds 0 and 1 until QUIT, EOF, too many commands or the
   deadline; never returns. reply is the refusal line without CRLF,
   e.g. "451 4.7.1 ...". Exit code 0. */
extern void refuse_conversation (char const *greeting_host, char const *reply, unsigned int seconds) __attribute__((noreturn)) ;

#endif
