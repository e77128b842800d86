/* envelope: rcptchecks' checks of the greeting and the sender, the
 * checks Postfix sites run as check_sender_access, reject_rhsbl_sender,
 * reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname,
 * reject_non_fqdn_sender and reject_unknown_sender_domain.
 *
 * Each is off unless asked (-E name), or asked in its warn-only form
 * (-W name: "would refuse" is logged with dryrun=1 and the command
 * passes). The access list (-S) and the RHSBL zones (-R) are on when
 * given, warn-only when also named in -W. A trusted client (RELAYCLIENT,
 * or after a successful AUTH) never meets them: verbs.c passes its
 * commands on unchecked (but for the allow-list of verbs).
 *
 * They run at MAIL, in the order of the table in envelope.c: the
 * sender access list (REJECT: 550 5.7.1; OK: the rest of this table is
 * skipped and rblenv's late verdict, RBLLATE, is lifted for this
 * transaction, never the recipient check: a sender is forgeable), the
 * HELO name (helo.h: 501 5.5.2 invalid, 504 5.5.2 not a FQDN, 550 5.7.1
 * a literal that is not the client's), the sender's form (sender.h:
 * 553 5.1.7), then the DNS, all questions at once under one deadline:
 * the sender domain's MX, A and AAAA (550 5.1.8 when the DNS says the
 * name does not exist, has none of them, or has a null MX, RFC 7505;
 * 450 4.1.8 on a timeout or a server failure: never a 5xx from a DNS
 * problem) and the RHSBL zones (rblenv's zone syntax, filters and
 * weights; 550 5.7.1 naming the zone at a score of 1, or 451 4.7.1 with
 * -Y; a timeout is not a listing; answers outside 127/8 or
 * 127.255.255.x never count and are logged as configuration faults),
 * and last SPF (spf.h: 550 5.7.23 on fail, 451 4.7.24 on temperror,
 * softfail and permerror by policy; every evaluation logged with its
 * spf= word, and its Received-SPF field put at the head of the message
 * data by the engine). "all" in -E and -W names every check but spf,
 * which changes the message (and -E all neither the access list nor
 * the RHSBL zones, which need their files and zones).
 * The null sender "<>" meets none of the sender checks; a path longer
 * than RFC 5321's 256 bytes is refused (553 5.1.7) when any sender check
 * is on, rather than checked cut short. A second MAIL inside a
 * transaction is refused with 503 before any check (verbs.c), so that an
 * OK sender never lifts anything for another's transaction.
 *
 * The command stage, a second table beside the MAIL stage, judges the
 * command stream itself (engine.h asks it at each command line, and
 * whenever the client sent bytes before an answer it had to wait for):
 * pipelining (a client that sends a command before the answer to the
 * one before when PIPELINING was not offered, or before the greeting or
 * an EHLO answer: 554 5.5.0 at once, ahead of every answer owed, and
 * the end) and non-SMTP commands (CONNECT, GET, POST, USER or a
 * header-like "Name:" line as a command: 421 in its turn and the end);
 * envelope_nonsmtp classifies the lines. A trusted client meets neither.
 *
 * "greylist" (-E greylist, -W greylist) is named here with the others
 * but runs at RCPT, once the recipient is known (greylist.h); "all"
 * leaves it off.
 */
#ifndef RCPTCHECKS_ENVELOPE_H
#define RCPTCHECKS_ENVELOPE_H

#include <stddef.h>
#include "mx_ip.h"
#include "rcptaddr.h"
#include "sender.h"
#include "spf.h"
#include "mx_zonespec.h"

enum envelope_check
{
  ENV_ACCESS, ENV_HELO_SYNTAX, ENV_HELO_FQDN, ENV_HELO_LITERAL, ENV_SENDER_FQDN,
  ENV_SENDER_DOMAIN, ENV_RHSBL, ENV_SPF, ENV_PIPELINING, ENV_NONSMTP, ENV_GREYLIST, ENV_NCHECKS
} ;
enum envelope_mode { ENV_OFF, ENV_ON, ENV_WARN } ;

#define ENV_ZONES_MAX 16
#define ENV_SHOWN_MAX 100    /* helo= and from= in log lines */

typedef struct envelope_s envelope ;
struct envelope_s
{
  /* configuration */
  unsigned char mode[ENV_NCHECKS] ;
  char const *access ;             /* -S: the sender access CDB, or 0 */
  zonespec zones[ENV_ZONES_MAX] ;  /* -R */
  unsigned int nzones ;
  unsigned int dns_ms ;            /* -y: the DNS deadline */
  int rhsbl_temp ;                 /* -Y: 451 instead of 550 */
  ip46 client ;
  char const *ip ;                 /* for log lines */
  /* the session */
  char helo[ENV_SHOWN_MAX + 1] ;   /* sanitised, "" before HELO/EHLO */
  char from[ENV_SHOWN_MAX + 1] ;   /* sanitised, "" outside a transaction */
  int helo_given ;
  int helo_verdict ;               /* enum helo_result of the last HELO */
  int sender_ok ;                  /* the access list said OK for this transaction */
  int in_transaction ;             /* a MAIL was passed on, no RSET, HELO or end of data since */
  int smtputf8 ;                   /* and it declared SMTPUTF8 (RFC 6531) */
  int pipelining_logged ;          /* a warn-only pipelining check logs once */
  char greysender[SENDER_MAX + 1] ; /* the sender as greylisting keys it (greylist.h): "" for <> */
  spf spf ;                        /* -E spf: its configuration and this transaction's result (spf.h) */
} ;

/* Parses a -E or -W list ("helo-syntax,sender-domain,...", or "all")
   into e->mode. Returns 1, or 0 for an unknown name. */
extern int envelope_modes (envelope *e, char const *list, enum envelope_mode m) ;

/* HELO or EHLO with argument arg (len bytes): remembered and judged
   (the verdict waits for MAIL). A new greeting ends the transaction. */
extern void envelope_helo (envelope *e, char const *arg, size_t len) ;

/* The end of a transaction (RSET, HELO/EHLO, the end of DATA). */
extern void envelope_reset (envelope *e) ;

/* MAIL with argument arg, which rcptaddr_mailfrom8 accepted and read
   into f. Returns 1 to pass it on, or 0 with the refusal
   (CRLF-terminated, room for 512 bytes) in reply. */
extern int envelope_mail (envelope *e, char const *arg, rcptaddr_from const *f, char *reply, size_t *replylen) ;

/* The command stage: what the engine knows when it asks (a command
   line, or that the client did not wait), and what a refusal says. */
typedef struct envelope_cmd_s envelope_cmd ;
struct envelope_cmd_s
{
  char const *line ;           /* a command line (line end removed), or 0 */
  size_t len ;
  int early ;                  /* the client sent bytes before an answer it had to wait for */
  int trusted ;
  /* a refusal */
  char const *reply ;          /* CRLF-terminated */
  char const *close ;          /* the session ends, with this result word */
  int now ;                    /* 1: said at once, ahead of every answer owed, the client's waiting bytes dropped; 0: in its turn */
} ;

/* Runs the command stage's rows in order: 1 when one refuses (c says
   how), else 0. */
extern int envelope_command (envelope *e, envelope_cmd *c) ;

/* Is the command line (len bytes) an HTTP, proxy or POP command, or a
   header-like "Name:" line, sent to an SMTP server? */
extern int envelope_nonsmtp (char const *line, size_t len) ;

#endif
