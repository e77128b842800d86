/* smtp: the little SMTP the rcptchecks proxy has to understand, as pure
 * functions over bytes (no I/O), so that each can be tested and fuzzed
 * on its own.
 */
#ifndef RCPTCHECKS_SMTP_H
#define RCPTCHECKS_SMTP_H

#include <stddef.h>

/* The commands the proxy treats differently; every other line is
   passed to the child as it is. */
enum smtp_verb
{
  VERB_OTHER, VERB_RCPT, VERB_DATA, VERB_AUTH, VERB_EHLO, VERB_QUIT,
  VERB_STARTTLS, VERB_BDAT
} ;

/* The verb of a command line (len bytes, without its line end) and, in
   *arg, the offset of what follows the verb and its blank. */
extern enum smtp_verb smtp_verb (char const *line, size_t len, size_t *arg) ;

/* Length of the first complete reply in buf (its last line "NNN " or a
   line too short to continue, through its LF), or 0 if incomplete. */
extern size_t smtp_reply_len (char const *buf, size_t len) ;

/* The reply's code (first line), or 0 if it does not start with three
   digits. */
extern unsigned int smtp_reply_code (char const *reply, size_t len) ;

/* Removes from a 250 EHLO reply (len bytes, complete) the lines of the
   extensions a line-by-line proxy cannot pass on (STARTTLS, CHUNKING
   and BINARYMIME, which needs CHUNKING), fixing the continuation marks.
   Edits in place; returns the new length. */
extern size_t smtp_ehlo_filter (char *reply, size_t len) ;

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
