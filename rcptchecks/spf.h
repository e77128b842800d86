/* spf: rcptchecks' SPF check at MAIL (RFC 7208), a row of the MAIL
 * stage of envelope.c, on the evaluator of common/mx_spf.h.
 *
 * At MAIL the client's address (TCPREMOTEIP) is checked against the
 * sender's domain (the MAIL FROM identity, RFC 7208 2.4), or, for the
 * null sender "<>", against the HELO/EHLO name (the HELO identity, 2.3:
 * none when it is no domain name), every DNS question of the
 * evaluation under one deadline (-F). What the result does:
 *   pass, none, neutral   accepted
 *   fail                  550 5.7.23 (RFC 7372) with the explanation
 *                         the domain gives (exp=, cut to one reply line,
 *                         every byte outside 32..126 made '?'), or a
 *                         text of our own
 *   softfail, permerror   accepted by default (and marked by the field
 *                         below); by -O softfail= and -O permerror=:
 *                         accept, defer (451 4.7.23 / 451 4.7.24) or
 *                         reject (550 5.7.23 / 550 5.7.24)
 *   temperror             451 4.7.24 (never a 5xx from a DNS problem)
 * A client without a usable TCPREMOTEIP, or a sender path too long to
 * judge, is not evaluated. Trusted clients (RELAYCLIENT, after AUTH)
 * and a transaction an OK of the sender access list lifted never meet
 * the check (envelope.h).
 *
 * The result travels on: a Received-SPF header field (RFC 7208 9.1:
 * the result, a comment, client-ip, envelope-from, helo, identity,
 * receiver, and mechanism= or problem=) is made at MAIL and put by the
 * engine at the head of the transaction's message data, once, the data
 * otherwise relayed as it is; the field holds only printable ASCII, the
 * client's words quoted (RFC 5322 quoted-string) where they are no
 * dot-atom. Warn-only (-W spf): logged as it would be refused, the field
 * added, nothing refused.
 */
#ifndef RCPTCHECKS_SPF_H
#define RCPTCHECKS_SPF_H

#include <stddef.h>
#include "mx_ip.h"
#include "mx_spf.h"

#define SPF_FIELD_MAX 1536
#define SPF_VALUE_MAX 300     /* a value in the field, before quoting */
#define SPF_HELO_MAX 255
#define SPF_DOMAIN_MAX 255  /* the checked domain kept for greylisting's allow-list */

enum spf_policy { SPF_ACCEPT, SPF_DEFER, SPF_REJECT } ;

typedef struct spf_s spf ;
struct spf_s
{
  /* configuration */
  unsigned int ms ;                 /* -F: the deadline of one evaluation */
  unsigned char softfail ;          /* enum spf_policy: -O softfail= */
  unsigned char permerror ;         /* -O permerror= */
  char const *receiver ;            /* this host's name (%{r}, receiver=) */
  int client_known ;                /* TCPREMOTEIP was an address */
  /* the session */
  char helo[SPF_HELO_MAX + 1] ;     /* the HELO/EHLO name as given (blanks around it removed), "" if unusable */
  int result ;                      /* 1 + enum mx_spf_result of this transaction, 0: none evaluated */
  char domain[SPF_DOMAIN_MAX + 1] ; /* the domain it was evaluated for (the sender's, or the HELO name), lower case; "" if none or longer */
  char field[SPF_FIELD_MAX] ;       /* the Received-SPF field, CRLF-ended lines */
  size_t fieldlen ;                 /* 0: none to add */
} ;

/* What a check decided: its result word and the refusal. */
typedef struct spf_verdict_s spf_verdict ;
struct spf_verdict_s
{
  char const *code ;                /* "550 5.7.23", or 0: accepted */
  char const *text ;                /* after the code */
  char const *result ;              /* spf-rejected, spf-deferred, spf-accepted */
  char textbuf[MX_SPF_EXP_MAX + 1] ;
} ;

/* A policy: "accept", "defer", "reject". Returns 1, or 0. */
extern int spf_policy_scan (char const *s, unsigned char *p) ;

/* One -O setting of the check: "softfail=POLICY" or
   "permerror=POLICY". Returns 1 (f set), or 0 (not one of these, or a
   bad policy: f unchanged). */
extern int spf_option (spf *f, char const *s) ;

/* HELO or EHLO with argument arg (len bytes). */
extern void spf_helo (spf *f, char const *arg, size_t len) ;

/* The end of a transaction: no result, no field. */
extern void spf_reset (spf *f) ;

/* Evaluates at MAIL: client the client's address, sender the address
   ("" for "<>"). Sets f->result and f->field, and v. */
extern void spf_mail (spf *f, ip46 const *client, char const *sender, spf_verdict *v) ;

/* The result word of this transaction ("pass", ...), or 0. */
extern char const *spf_word (spf const *f) ;

#endif
