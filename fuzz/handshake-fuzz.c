/* handshake-fuzz: libFuzzer harness for smtp-forward's handshake, the
 * part that reads what the server says before the client is let in.
 * The input is the server's bytes (after a first byte choosing plain or
 * XCLIENT mode), cut into replies as smtp-forward cuts them. Aborts when
 * a command written is not one CRLF-terminated line of at most 512
 * bytes, when the session is handed over without a well-formed greeting
 * (and, with XCLIENT, without an XCLIENT command naming ADDR and NAME
 * answered 220), or when anything is taken after the end. Also checks
 * xclient_offered and xtext_encode on the raw input.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "mx_smtp.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

static void check (int cond) { if (!cond) abort() ; }

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char const *s = (char const *)data + 1 ;
  size_t n = size ? size - 1 : 0, pos = 0 ;
  int xclient = size && (data[0] & 1), sent_xclient = 0, ended = 0 ;
  handshake h ;
  ip46 ip ;
  if (!size) return 0 ;
  mx_ip_scan("2001:db8::7", 11, &ip) ;
  handshake_start(&h, xclient, "[127.0.0.1]", &ip, 1234, "mail.example.com") ;
  while (pos < n)
  {
    char out[HANDSHAKE_LINE_MAX] ;
    size_t len = smtp_reply_len(s + pos, n - pos), outlen ;
    enum handshake_next next ;
    if (!len) break ;
    next = handshake_reply(&h, s + pos, len, out, sizeof out, &outlen) ;
    if (ended) check(next == HS_NEXT_FAIL) ;
    if (next == HS_NEXT_SEND)
    {
      size_t i ;
      check(xclient && outlen >= 2 && outlen <= HANDSHAKE_LINE_MAX) ;
      check(out[outlen-2] == '\r' && out[outlen-1] == '\n') ;
      for (i = 0 ; i + 2 < outlen ; i++) check(out[i] != '\r' && out[i] != '\n' && out[i]) ;
      if (outlen > 8 && !memcmp(out, "XCLIENT ", 8))
      {
        check(memmem(out, outlen, " ADDR=IPV6:2001:db8::7", 22) && memmem(out, outlen, " NAME=mail.example.com", 22)) ;
        sent_xclient = 1 ;
      }
    }
    else check(!outlen) ;
    if (next == HS_NEXT_PASS)
    {
      unsigned int code = smtp_reply_valid(s + pos, len) ;
      check(!ended && code && smtp_reply_fits(SMTP_ANSWERS_GREETING, code)) ;
      if (xclient) check(sent_xclient && code == 220) ;
    }
    if (next != HS_NEXT_SEND) ended = 1 ;
    pos += len ;
  }
  {
    unsigned int attrs ;
    if (xclient_offered(s, n, &attrs)) check(!(attrs & ~(XCLIENT_ADDR | XCLIENT_NAME | XCLIENT_PORT | XCLIENT_PROTO))) ;
  }
  if (n <= 256)
  {
    char x[768] ;
    size_t w = xtext_encode(x, s, n), i ;
    check(w >= n && w <= 3 * n) ;
    for (i = 0 ; i < w ; i++) check(x[i] >= '!' && x[i] <= '~' && x[i] != '=') ;
  }
  return 0 ;
}
