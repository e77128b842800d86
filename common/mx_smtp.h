/* mx_smtp: the little SMTP the proxies (rcptchecks, smtp-tls) have to understand, as pure
 * functions over bytes (no I/O), so that each can be tested and fuzzed
 * on its own.
 */
#ifndef MX_SMTP_H
#define MX_SMTP_H

#include <stddef.h>

/* The commands the proxies know (an allow-list). rcptchecks answers
   every other verb 502, and it never reaches the child; smtp-tls, which
   reads only what it must, passes it on to the child, that is to the
   rcptchecks behind it. */
enum smtp_verb
{
  VERB_UNKNOWN, VERB_HELO, VERB_EHLO, VERB_MAIL, VERB_RCPT, VERB_DATA,
  VERB_RSET, VERB_NOOP, VERB_QUIT, VERB_HELP, VERB_VRFY, VERB_AUTH,
  VERB_STARTTLS, VERB_BDAT
} ;

/* The verb of a command line (len bytes, without its line end): the
   bytes before the first space, in any case, as qmail-smtpd's
   commands() splits them ("RCPT\tTO:" and " RCPT" are not RCPT). *arg
   is the offset just after that one space (further blanks are the
   argument's: "RCPT  TO:" is not exim's "rcpt to:"), or len. */
extern enum smtp_verb smtp_verb (char const *line, size_t len, size_t *arg) ;

/* Is this command line (len bytes, without its line end) STARTTLS, in
   any form a server might take for it? 1: "STARTTLS" alone or followed
   by blanks only (spaces, TABs: a blank tail is no parameter); 2: any
   other line that starts with STARTTLS after optional blanks
   ("STARTTLS x", "STARTTLSX", " STARTTLS"); 0: not STARTTLS. A proxy
   that ends TLS itself answers 1 and 2 and passes neither on; this is
   apart from smtp_verb, which splits like qmail-smtpd. */
extern int smtp_starttls_line (char const *line, size_t len) ;

/* Length of the first complete reply in buf (its last line "NNN " or a
   line that does not continue, through its LF), or 0 if incomplete. */
extern size_t smtp_reply_len (char const *buf, size_t len) ;

/* The reply's code (first line), or 0 if it does not start with three
   digits. */
extern unsigned int smtp_reply_code (char const *reply, size_t len) ;

/* The code of a complete reply (len bytes, from smtp_reply_len) if it
   is well-formed: every line "NNN", "NNN-text" or "NNN text" with the
   same code NNN, 200 <= NNN <= 599; otherwise 0. */
extern unsigned int smtp_reply_valid (char const *reply, size_t len) ;

/* What a reply answers, for smtp_reply_fits. */
enum smtp_answers { SMTP_ANSWERS_GREETING, SMTP_ANSWERS_COMMAND, SMTP_ANSWERS_DATA, SMTP_ANSWERS_AUTH } ;

/* Does a reply with this code fit what it answers? The greeting: 220
   or a 4xx/5xx; DATA: 354 or a 4xx/5xx; AUTH: 334, 2xx, 4xx or 5xx;
   any other command, and the end of the data: 2xx, 4xx or 5xx. A
   proxy that takes a reply that does not fit for an answer no longer
   knows where the session stands. */
extern int smtp_reply_fits (enum smtp_answers what, unsigned int code) ;

/* Rewrites a complete 250 EHLO reply (len bytes, in a buffer of room
   bytes) for a TLS proxy: removes the server's own STARTTLS line, and
   with add, inserts "250-STARTTLS" after the greeting line, fixing the
   continuation marks. Returns the new length, or 0 if len is 0 or there
   is no room (room >= len + 14 always suffices). */
extern size_t smtp_ehlo_starttls (char *reply, size_t len, size_t room, int add) ;

/* The ESMTP extensions the proxy understands, and so offers. */
#define EXT_PIPELINING 0x01
#define EXT_SIZE 0x02
#define EXT_8BITMIME 0x04
#define EXT_ENHANCEDSTATUSCODES 0x08
#define EXT_DSN 0x10
#define EXT_AUTH 0x20
#define EXT_HELP 0x40
#define EXT_SMTPUTF8 0x80   /* RFC 6531: known, kept only when asked */

/* What smtp_ehlo_filter keeps: all of the above but SMTPUTF8, which
   only a proxy that does not read addresses (smtp-tls) may keep for
   now. */
#define EXT_DEFAULT (EXT_PIPELINING | EXT_SIZE | EXT_8BITMIME | EXT_ENHANCEDSTATUSCODES | EXT_DSN | EXT_AUTH | EXT_HELP)

/* Keeps in a 250 EHLO reply (len bytes, complete) the greeting line and
   the lines of the extensions in EXT_DEFAULT, and drops every other
   (STARTTLS, CHUNKING, PRDR, XCLIENT, SMTPUTF8, ...), fixing the
   continuation marks. Edits in place; returns the new length; *offered
   gets the EXT_ bits of the lines kept. */
extern size_t smtp_ehlo_filter (char *reply, size_t len, unsigned int *offered) ;

/* The same, keeping the lines of the extensions in keep (EXT_ bits)
   only: smtp_ehlo_filter is smtp_ehlo_keep with EXT_DEFAULT. */
extern size_t smtp_ehlo_keep (char *reply, size_t len, unsigned int keep, unsigned int *offered) ;

/* Judges the parameters of MAIL (rcpt 0) or RCPT (rcpt 1): s (len
   bytes) is blank-separated "KEYWORD[=VALUE]" items (RFC 5321 4.1.2
   syntax, and no '<', '>', '"' or backslash in a value but MAIL's
   AUTH=<>). Each must belong to an extension in offered: MAIL SIZE
   (SIZE), BODY=7BIT or 8BITMIME (8BITMIME), AUTH (AUTH), RET and ENVID
   (DSN), SMTPUTF8 without a value (SMTPUTF8); RCPT NOTIFY and ORCPT
   (DSN). Returns 1 if all do. */
extern int smtp_params_ok (char const *s, size_t len, unsigned int offered, int rcpt) ;

/* The end of the DATA phase, found as the bytes go by.
   DATASCAN_END: "CRLF . CRLF" ends the data (RFC 5321).
   DATASCAN_BARE: a lone dot next to a bare LF ("LF . LF", "LF . CRLF",
   "CRLF . LF"): SMTP servers disagree on whether that ends the data,
   which is how mail is smuggled past a proxy; it is refused. */
enum datascan_result { DATASCAN_MORE, DATASCAN_END, DATASCAN_BARE } ;

typedef struct datascan_s datascan ;
struct datascan_s { int state ; } ;

/* Starts a scan at the first byte after the DATA command's line. */
extern void datascan_start (datascan *d) ;

/* Scans buf. MORE: all len bytes are message data (*used = len).
   END: the data ends after *used bytes (terminator included).
   BARE: the first *used bytes are data; what follows must not reach
   the server. */
extern enum datascan_result datascan_run (datascan *d, char const *buf, size_t len, size_t *used) ;

#endif
