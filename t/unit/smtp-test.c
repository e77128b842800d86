/* smtp-test: the SMTP rcptchecks must understand, table-driven: verbs,
   reply boundaries, the EHLO filter, and the end of the data phase
   (including every bare-LF form, fed whole and a byte at a time). */
#include <stdio.h>
#include <string.h>

#include "smtp.h"
#include "tap.h"

static struct { char const *line ; enum smtp_verb verb ; size_t arg ; } const verbs[] =
{
  { "RCPT TO:<a@b>", VERB_RCPT, 5 },
  { "rcpt to:<a@b>", VERB_RCPT, 5 },
  { "RCPT\tTO:<a@b>", VERB_RCPT, 5 },       /* stricter than servers: still checked */
  { "  RCPT TO:<a@b>", VERB_RCPT, 7 },
  { "RCPT:<a@b>", VERB_RCPT, 4 },
  { "RCPT", VERB_RCPT, 4 },
  { "RCPTX TO:<a@b>", VERB_OTHER, 14 },
  { "DATA", VERB_DATA, 4 },
  { "data ", VERB_DATA, 5 },
  { "DATAX", VERB_OTHER, 5 },
  { "AUTH PLAIN AGFAAGI=", VERB_AUTH, 5 },
  { "EHLO host", VERB_EHLO, 5 },
  { "HELO host", VERB_OTHER, 9 },
  { "QUIT", VERB_QUIT, 4 },
  { "STARTTLS", VERB_STARTTLS, 8 },
  { "BDAT 100 LAST", VERB_BDAT, 5 },
  { "MAIL FROM:<a@b>", VERB_OTHER, 15 },
  { "", VERB_OTHER, 0 },
} ;

static struct { char const *buf ; size_t want ; } const replies[] =
{
  { "250 ok\r\n", 8 },
  { "250 ok\n", 7 },
  { "250-a\r\n250 b\r\n", 14 },
  { "250-a\r\n250-b\r\n", 0 },                 /* not finished */
  { "250-a\r\n250 b", 0 },                     /* last line without its end */
  { "250 a\r\n250 b\r\n", 7 },                 /* two replies: the first */
  { "ok\r\n", 4 },                             /* too short to continue */
  { "", 0 },
} ;

static struct { char const *in ; char const *want ; } const ehlo[] =
{
  { "250-mx hello\r\n250-SIZE 100\r\n250-STARTTLS\r\n250 HELP\r\n", "250-mx hello\r\n250-SIZE 100\r\n250 HELP\r\n" },
  { "250-mx hello\r\n250-PIPELINING\r\n250 CHUNKING\r\n", "250-mx hello\r\n250 PIPELINING\r\n" },
  { "250-mx hello\r\n250-chunking\r\n250-BINARYMIME\r\n250 starttls\r\n", "250 mx hello\r\n" },
  { "250-mx STARTTLS\r\n250 8BITMIME\r\n", "250-mx STARTTLS\r\n250 8BITMIME\r\n" },  /* the greeting line is kept */
  { "250-mx\r\n250-STARTTLSX\r\n250 AUTH PLAIN\r\n", "250-mx\r\n250-STARTTLSX\r\n250 AUTH PLAIN\r\n" },
  { "250 mx hello\r\n", "250 mx hello\r\n" },
} ;

/* the data phase; want_used is how much is data (END: with the dot line) */
static struct { char const *data ; enum datascan_result want ; size_t want_used ; } const scans[] =
{
  { "hello\r\n.\r\n", DATASCAN_END, 10 },
  { ".\r\n", DATASCAN_END, 3 },                              /* an empty message */
  { "hello\r\n.\r\nQUIT\r\n", DATASCAN_END, 10 },            /* pipelined after the end */
  { "hello\r\n..\r\nmore\r\n", DATASCAN_MORE, 17 },          /* dot-stuffed */
  { "a\r\n.x\r\n", DATASCAN_MORE, 7 },
  { "a\nb\r\n.\r\n", DATASCAN_END, 8 },                      /* a bare LF inside is data */
  { "a\r\n.\r", DATASCAN_MORE, 5 },
  { "a\r\n.\rx\r\n.\r\n", DATASCAN_END, 11 },
  { "a\n.\n", DATASCAN_BARE, 3 },                            /* LF . LF */
  { "a\r\n.\n", DATASCAN_BARE, 4 },                          /* CRLF . LF */
  { "a\n.\r\n", DATASCAN_BARE, 4 },                          /* LF . CRLF */
  { ".\n", DATASCAN_BARE, 1 },
  { "a\r\n\n.\r\n", DATASCAN_BARE, 6 },                      /* after an empty bare-LF line */
  { "a\r\r\n.\r\n", DATASCAN_END, 7 },
} ;

static enum datascan_result scan_all (char const *s, size_t n, size_t *used)
{
  datascan d ;
  datascan_start(&d) ;
  return datascan_run(&d, s, n, used) ;
}

/* the same bytes a byte at a time: the state must carry over */
static enum datascan_result scan_bytes (char const *s, size_t n, size_t *used)
{
  datascan d ;
  size_t i ;
  datascan_start(&d) ;
  for (i = 0 ; i < n ; i++)
  {
    size_t u ;
    enum datascan_result r = datascan_run(&d, s + i, 1, &u) ;
    if (r != DATASCAN_MORE) { *used = i + u ; return r ; }
  }
  *used = n ;
  return DATASCAN_MORE ;
}

int main (void)
{
  char name[300], buf[512] ;
  size_t i ;
  for (i = 0 ; i < sizeof verbs / sizeof *verbs ; i++)
  {
    size_t arg = 99 ;
    enum smtp_verb v = smtp_verb(verbs[i].line, strlen(verbs[i].line), &arg) ;
    snprintf(name, sizeof name, "verb of \"%s\"", verbs[i].line) ;
    tap_ok(v == verbs[i].verb && arg == verbs[i].arg, name) ;
  }
  for (i = 0 ; i < sizeof replies / sizeof *replies ; i++)
  {
    snprintf(name, sizeof name, "reply length %zu", i) ;
    tap_ok(smtp_reply_len(replies[i].buf, strlen(replies[i].buf)) == replies[i].want, name) ;
  }
  tap_ok(smtp_reply_code("354 go\r\n", 8) == 354, "reply code") ;
  tap_ok(smtp_reply_code("35x go\r\n", 8) == 0 && smtp_reply_code("25", 2) == 0, "no reply code") ;
  for (i = 0 ; i < sizeof ehlo / sizeof *ehlo ; i++)
  {
    size_t n = strlen(ehlo[i].in) ;
    memcpy(buf, ehlo[i].in, n) ;
    n = smtp_ehlo_filter(buf, n) ;
    snprintf(name, sizeof name, "EHLO filter %zu", i) ;
    tap_ok(n == strlen(ehlo[i].want) && !memcmp(buf, ehlo[i].want, n), name) ;
  }
  for (i = 0 ; i < sizeof scans / sizeof *scans ; i++)
  {
    size_t n = strlen(scans[i].data), u1 = 0, u2 = 0 ;
    enum datascan_result r1 = scan_all(scans[i].data, n, &u1) ;
    enum datascan_result r2 = scan_bytes(scans[i].data, n, &u2) ;
    snprintf(name, sizeof name, "data scan %zu, whole", i) ;
    tap_ok(r1 == scans[i].want && u1 == scans[i].want_used, name) ;
    snprintf(name, sizeof name, "data scan %zu, byte by byte", i) ;
    tap_ok(r2 == scans[i].want && u2 == scans[i].want_used, name) ;
  }
  {
    /* NUL bytes are data like any other */
    static char const z[] = "a\0b\r\n\0.\r\n.\r\n" ;
    size_t u ;
    tap_ok(scan_all(z, sizeof z - 1, &u) == DATASCAN_END && u == sizeof z - 1, "NUL bytes in data") ;
  }
  return tap_done() ;
}
