/* handshake: what smtp-forward says to the server before the session
 * is handed over, as a pure function of the server's replies (no I/O),
 * so that it can be tested and fuzzed on its own.
 *
 * Plain: the server's greeting, if it is a well-formed reply, is what
 * the client gets.
 * XCLIENT (Postfix's XCLIENT_README): the greeting must be 220; then
 * "EHLO helo"; the 250 reply must list XCLIENT with at least ADDR and
 * NAME (a server that would keep the guard's own address or name for
 * the client is refused); then "XCLIENT ADDR=.. [PORT=..] NAME=..
 * [PROTO=SMTP]" (each only if listed, values xtext-encoded, RFC 3461
 * section 4); its 220 reply, the server's new greeting, is what the
 * client gets. Anything else fails: the client must not be served by a
 * server that takes it for the guard.
 */
#ifndef SMTPFORWARD_HANDSHAKE_H
#define SMTPFORWARD_HANDSHAKE_H

#include <stddef.h>
#include "mx_ip.h"

/* The attributes an XCLIENT line may list (the ones smtp-forward uses). */
#define XCLIENT_ADDR 0x01
#define XCLIENT_NAME 0x02
#define XCLIENT_PORT 0x04
#define XCLIENT_PROTO 0x08

/* Longest command line smtp-forward sends (RFC 5321's 512, CRLF in). */
#define HANDSHAKE_LINE_MAX 512

/* Longest client name passed on (RFC 1035), longer ones are not names. */
#define HANDSHAKE_NAME_MAX 255

/* In a complete, well-formed 250 reply to EHLO (len bytes): 1 if a line
   after the first (the server's name) lists the XCLIENT keyword, with the attributes it names in *attrs;
   0 if none does. */
extern int xclient_offered (char const *reply, size_t len, unsigned int *attrs) ;

/* Writes s (n bytes) as xtext into out, which has room for 3 * n
   bytes: bytes outside '!'..'~', '+' and '=' become "+XX" (upper-case
   hexadecimal). Returns the length written. */
extern size_t xtext_encode (char *out, char const *s, size_t n) ;

/* Is name (NUL-terminated) a host name Postfix would take for NAME:
   letters, digits, '-' and '.', labels of 1 to 63 bytes, at most
   HANDSHAKE_NAME_MAX bytes? "[UNAVAILABLE]" and "[TEMPUNAVAIL]" are
   also taken. */
extern int xclient_name_ok (char const *name) ;

/* Writes the XCLIENT command line (with CRLF) for a client at ip, port
   (0: unknown, not sent) and name (xclient_name_ok) into out (room
   bytes), with the attributes of attrs only. Returns its length, or 0
   if attrs lacks ADDR or NAME, or the line would not fit. */
extern size_t xclient_command (char *out, size_t room, unsigned int attrs, ip46 const *ip, unsigned int port, char const *name) ;

enum handshake_step { HS_GREETING, HS_EHLO, HS_XCLIENT, HS_DONE, HS_FAILED } ;

typedef struct handshake_s handshake ;
struct handshake_s
{
  /* in */
  int xclient ;
  char const *helo ;             /* our EHLO argument */
  ip46 ip ;                      /* the client */
  unsigned int port ;
  char const *name ;
  /* out */
  enum handshake_step step ;
  unsigned int code ;            /* the last reply's code (0: malformed) */
  char const *why ;              /* HS_FAILED: what went wrong, for the log */
} ;

/* Starts a handshake at the server's greeting. */
extern void handshake_start (handshake *h, int xclient, char const *helo, ip46 const *ip, unsigned int port, char const *name) ;

enum handshake_next { HS_NEXT_SEND, HS_NEXT_PASS, HS_NEXT_FAIL } ;

/* Takes the server's next complete reply (len bytes, as smtp_reply_len
   measured it). SEND: write out[0..*outlen) to the server and call
   again with its reply. PASS: this reply is the greeting the client
   gets; relay the session from here. FAIL: h->why says why. Once PASS
   or FAIL has been returned, every call returns FAIL. */
extern enum handshake_next handshake_reply (handshake *h, char const *reply, size_t len, char *out, size_t room, size_t *outlen) ;

#endif
