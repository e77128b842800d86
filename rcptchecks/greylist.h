/* greylist: rcptchecks' greylisting check, at RCPT, once the recipient
 * is known to exist (check.c asks it for a known local recipient only:
 * an unknown one is refused anyway, a foreign one is the server's).
 *
 * The triplet (client network, sender, recipient; greystore.h) seen for
 * the first time, or again before the delay is over, is deferred with
 * 451 4.7.1 and a text that says when to retry; a retry after the delay
 * and within the retry window passes, and so does every later one
 * within the lifetime; a network with autoallow passes passes outright.
 *
 * Never greylisted: a trusted client (RELAYCLIENT, after AUTH: check.c
 * is not asked), a transaction whose sender the access list said OK
 * for (envelope.h), a client rblenv or smtp-screen scored at or under
 * the DNSWL allow threshold (RBLSCORE <= dnswl, default -1). Selective
 * (only): with GREY_ONLY_RDNS only clients whose reverse DNS class
 * (SMTPDELAY_CLASS, from smtp-delay or smtp-screen) is none or dynamic,
 * with GREY_ONLY_DNSBL only clients with RBLSCORE above 0, with
 * GREY_ONLY_SPF only transactions whose SPF result (spf.h, evaluated at
 * MAIL) is other than pass; with several, any one. With spfallow (-O
 * spfallow=file, spfallow.h), a transaction whose SPF result is pass for
 * a listed domain or a subdomain of one is never greylisted; the file is
 * read at the first such pass of the session, and one that cannot be
 * used is warned about once and greylisting goes on without it. A store that cannot be opened, read or written lets the
 * recipient through (greylist=error, and a warning with the reason):
 * greylisting never loses or bounces mail.
 */
#ifndef RCPTCHECKS_GREYLIST_H
#define RCPTCHECKS_GREYLIST_H

#include <stddef.h>
#include "envelope.h"
#include "greystore.h"
#include "spfallow.h"

#define GREY_ONLY_RDNS 1
#define GREY_ONLY_DNSBL 2
#define GREY_ONLY_SPF 4

typedef struct greylist_s greylist ;
struct greylist_s
{
  greystore store ;
  greyconf conf ;
  unsigned int v4, v6 ;        /* prefix lengths of a network */
  unsigned int only ;          /* GREY_ONLY_ bits, 0: every client */
  int dnswl ;                  /* the allow threshold */
  int warn ;                   /* -W greylist: log, never defer */
  char const *spfallow ;       /* the allow-list's file, or 0 */
  /* the client, read once (greylist_client) */
  char net[GREY_NET_MAX + 1] ;
  char const *skip ;           /* the skip word for every RCPT, or 0 */
  int cause ;                  /* only: the client gave a cause of its own (rdns, dnsbl) */
  int allow_state ;            /* spfallow: 0 not read yet, 1 read, -1 unusable */
  size_t allowlen ;
  char allow[SPFALLOW_LIST_MAX] ;
  int store_failed ;           /* a warning was logged */
} ;

/* Sets up net and skip from the client's address and the environment
   (RBLSCORE, SMTPDELAY_CLASS). */
extern void greylist_client (greylist *g, ip46 const *ip) ;

/* Parses one -O setting "name=value" into g. 1, or 0 if unknown. */
extern int greylist_option (greylist *g, char const *s) ;

/* The check for recipient rcpt (the address as looked up) in e's
   transaction. Returns 1: defer (reply set, CRLF-terminated, room for
   512 bytes), 0: pass; *word is the greylist= word of the log line.
   In warn-only mode it returns -1 where it would defer. */
extern int greylist_rcpt (void *g, envelope const *e, char const *rcpt, char *reply, size_t *replylen, char const **word) ;

#endif
