/* qmail-model: what qmail-smtpd makes of a RCPT line, for the tests.
 *
 * Read from notqmail's source (files at the commits read: qmail-smtpd.c
 * 005c5752, commands.c 628b8661, ip.c 777df377, ipme.c 0c37a1f9,
 * rcpthosts.c 1d135541) and written anew; each step quotes the line it
 * follows. control/me, envnoathost and localiphost are all ME; the
 * interfaces are lo's (ipme: 0.0.0.0 and 127.0.0.1).
 */
#ifndef MX_QMAIL_MODEL_H
#define MX_QMAIL_MODEL_H

#include <stddef.h>

#define ME "mx.example.org"

/* The address addrparse() leaves for a command line (len bytes, its
   CRLF removed): 1 and out (room for 2048 bytes), or 0 when the line
   is not RCPT to qmail-smtpd or the address is refused (555). */
extern int qmail_model_addrparse (char const *line, size_t len, char *out) ;

/* What qmail-smtpd queues for the line: 1 and the address as
   qmail-send reads it (qualified with ME), or 0 when it queues nothing
   (not RCPT, 555, or a domain rcpthosts does not list: 553). */
extern int qmail_model_queues (char const *line, size_t len, char *out) ;

/* Supplied by the caller: does control/rcpthosts list this domain? */
extern int qmail_model_rcpthost (char const *domain) ;

#endif
