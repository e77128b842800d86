/* smtp-test: the SMTP rcptchecks must understand, table-driven: verbs,
   reply boundaries, the EHLO filter, and the end of the data phase
   (including every bare-LF form, fed whole and a byte at a time). */
#include <stdio.h>
#include <string.h>

#include "mx_smtp.h"
#include "tap.h"

/* the verb is the bytes before the first space, as qmail-smtpd's
   commands() splits a line (notqmail commands.c: "i = str_chr(cmd.s,' ')") */
static struct { char const *line ; enum smtp_verb verb ; size_t arg ; } const verbs[] =
{
  { "RCPT TO:<a@b>", VERB_RCPT, 5 },
  { "rcpt to:<a@b>", VERB_RCPT, 5 },
  { "RCPT  TO:<a@b>", VERB_RCPT, 5 },       /* the second blank is the argument's */
  { "RCPT\tTO:<a@b>", VERB_UNKNOWN, 13 },  /* qmail-smtpd: verb "RCPT\tTO:<a@b>", 502 */
  { "  RCPT TO:<a@b>", VERB_UNKNOWN, 1 },
  { "RCPT:<a@b>", VERB_UNKNOWN, 10 },
  { "RCPT", VERB_RCPT, 4 },
  { "RCPTX TO:<a@b>", VERB_UNKNOWN, 6 },
  { "DATA", VERB_DATA, 4 },
  { "data ", VERB_DATA, 5 },
  { "DATAX", VERB_UNKNOWN, 5 },
  { "AUTH PLAIN AGFAAGI=", VERB_AUTH, 5 },
  { "EHLO host", VERB_EHLO, 5 },
  { "HELO host", VERB_HELO, 5 },
  { "QUIT", VERB_QUIT, 4 },
  { "STARTTLS", VERB_STARTTLS, 8 },
  { "BDAT 100 LAST", VERB_BDAT, 5 },
  { "MAIL FROM:<a@b>", VERB_MAIL, 5 },
  { "VRFY root", VERB_VRFY, 5 },
  { "XCLIENT ADDR=127.0.0.1", VERB_UNKNOWN, 8 },
  { "XFORWARD ADDR=127.0.0.1", VERB_UNKNOWN, 9 },
  { "EXPN staff", VERB_UNKNOWN, 5 },
  { "ETRN example.org", VERB_UNKNOWN, 5 },
  { "", VERB_UNKNOWN, 0 },
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

static struct { char const *in ; char const *want ; unsigned int offered ; } const ehlo[] =
{
  { "250-mx hello\r\n250-SIZE 100\r\n250-STARTTLS\r\n250 HELP\r\n", "250-mx hello\r\n250-SIZE 100\r\n250 HELP\r\n", EXT_SIZE | EXT_HELP },
  { "250-mx hello\r\n250-PIPELINING\r\n250 CHUNKING\r\n", "250-mx hello\r\n250 PIPELINING\r\n", EXT_PIPELINING },
  { "250-mx hello\r\n250-chunking\r\n250-BINARYMIME\r\n250 starttls\r\n", "250 mx hello\r\n", 0 },
  { "250-mx STARTTLS\r\n250 8BITMIME\r\n", "250-mx STARTTLS\r\n250 8BITMIME\r\n", EXT_8BITMIME },  /* the greeting line is kept */
  { "250-mx\r\n250-STARTTLSX\r\n250 AUTH PLAIN\r\n", "250-mx\r\n250 AUTH PLAIN\r\n", EXT_AUTH },
  { "250 mx hello\r\n", "250 mx hello\r\n", 0 },
  /* an allow-list: what the proxy cannot follow never reaches the client */
  { "250-mx\r\n250-PRDR\r\n250-XCLIENT ADDR NAME\r\n250-XFORWARD NAME ADDR\r\n250-SMTPUTF8\r\n250-X-EXPS LOGIN\r\n250-ETRN\r\n250-DSN\r\n250 ENHANCEDSTATUSCODES\r\n",
    "250-mx\r\n250-DSN\r\n250 ENHANCEDSTATUSCODES\r\n", EXT_DSN | EXT_ENHANCEDSTATUSCODES },
  { "250-mx\r\n250-AUTH=LOGIN PLAIN\r\n250-AUTHX\r\n250 SIZEX 1\r\n", "250-mx\r\n250 AUTH=LOGIN PLAIN\r\n", EXT_AUTH },
} ;

static struct { char const *buf ; unsigned int want ; } const valid[] =
{
  { "250 ok\r\n", 250 }, { "250\r\n", 250 }, { "250-a\r\n250 b\r\n", 250 }, { "354 go\n", 354 },
  { "250-a\r\n251 b\r\n", 0 },     /* two codes in one reply */
  { "ok\r\n", 0 }, { "25\r\n", 0 }, { "199 x\r\n", 0 }, { "600 x\r\n", 0 }, { "250x\r\n", 0 },
} ;

static struct { char const *params ; unsigned int offered ; int rcpt ; int want ; } const params[] =
{
  { "SIZE=100", EXT_SIZE, 0, 1 }, { "SIZE=100", 0, 0, 0 },
  { "BODY=8BITMIME", EXT_8BITMIME, 0, 1 }, { "body=7bit", EXT_8BITMIME, 0, 1 },
  { "BODY=BINARYMIME", EXT_8BITMIME, 0, 0 }, { "BODY", EXT_8BITMIME, 0, 0 },
  { "SIZE=1  BODY=8BITMIME", EXT_SIZE | EXT_8BITMIME, 0, 1 },
  { "AUTH=<>", EXT_AUTH, 0, 1 }, { "RET=HDRS ENVID=x", EXT_DSN, 0, 1 },
  { "NOTIFY=NEVER", EXT_DSN, 1, 1 }, { "NOTIFY=NEVER", EXT_DSN, 0, 0 }, { "SIZE=1", ~0u, 1, 0 },
  { "PRDR", ~0u, 0, 0 }, { "XCLIENT=1", ~0u, 0, 0 },
  /* SMTPUTF8 (RFC 6531 3.4): MAIL only, no value, only when offered */
  { "SMTPUTF8", EXT_DEFAULT, 0, 0 }, { "SMTPUTF8", EXT_SMTPUTF8, 0, 1 }, { "smtputf8", EXT_SMTPUTF8, 0, 1 },
  { "SMTPUTF8=1", EXT_SMTPUTF8, 0, 0 }, { "SMTPUTF8", EXT_SMTPUTF8, 1, 0 },
  { "SIZE=10 SMTPUTF8", EXT_SIZE | EXT_SMTPUTF8, 0, 1 }, { "SMTPUTF8X", EXT_SMTPUTF8, 0, 0 },
  { "ORCPT=rfc822;a@example.org", EXT_DSN, 1, 1 }, { "ORCPT=<nobody@example.org>", EXT_DSN, 1, 0 },
  { "ORCPT=rfc822;\"a\"@b", EXT_DSN, 1, 0 }, { "ENVID=a\\b", EXT_DSN, 0, 0 },
  { "SIZE=", EXT_SIZE, 0, 0 }, { "SIZE=a=b", EXT_SIZE, 0, 0 }, { "-SIZE=1", EXT_SIZE, 0, 0 },
} ;

/* SMTPUTF8 is known but kept only when asked (smtp-tls): rcptchecks
   cannot read UTF-8 addresses yet */
static struct { char const *in ; unsigned int keep ; char const *want ; unsigned int offered ; } const keep[] =
{
  { "250-mx\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n", EXT_DEFAULT, "250-mx\r\n250 8BITMIME\r\n", EXT_8BITMIME },
  { "250-mx\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n", EXT_DEFAULT | EXT_SMTPUTF8, "250-mx\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n", EXT_8BITMIME | EXT_SMTPUTF8 },
  { "250-mx\r\n250-smtputf8\r\n250-SMTPUTF8X\r\n250 CHUNKING\r\n", EXT_DEFAULT | EXT_SMTPUTF8, "250-mx\r\n250 smtputf8\r\n", EXT_SMTPUTF8 },
  /* smtp-tls -a in clear: AUTH is not offered */
  { "250-mx\r\n250-AUTH PLAIN\r\n250-AUTH=PLAIN\r\n250 SIZE 10\r\n", (EXT_DEFAULT | EXT_SMTPUTF8) & ~EXT_AUTH, "250-mx\r\n250 SIZE 10\r\n", EXT_SIZE },
  { "250-mx\r\n250 AUTH PLAIN\r\n", EXT_DEFAULT, "250-mx\r\n250 AUTH PLAIN\r\n", EXT_AUTH },
} ;

/* what a STARTTLS proxy takes for STARTTLS: 1 starts TLS, 2 gets 501,
   0 is another command */
static struct { char const *line ; int want ; } const starttls_lines[] =
{
  { "STARTTLS", 1 }, { "starttls", 1 }, { "STARTTLS ", 1 }, { "STARTTLS\t", 1 }, { "STARTTLS \t  ", 1 },
  { "STARTTLS x", 2 }, { "STARTTLS\tx", 2 }, { "STARTTLSX", 2 }, { "STARTTLS\r", 2 }, { " STARTTLS", 2 }, { "\tstarttls", 2 },
  { "STARTTL", 0 }, { "START TLS", 0 }, { "", 0 }, { "   ", 0 }, { "NOOP STARTTLS", 0 }, { "XSTARTTLS", 0 },
} ;

/* smtp-tls's EHLO rewriting: the server's STARTTLS out, its own in */
static struct { char const *in ; int add ; char const *want ; } const starttls[] =
{
  { "250-mx\r\n250-SIZE 10\r\n250 HELP\r\n", 1, "250-mx\r\n250-STARTTLS\r\n250-SIZE 10\r\n250 HELP\r\n" },
  { "250-mx\r\n250-SIZE 10\r\n250 HELP\r\n", 0, "250-mx\r\n250-SIZE 10\r\n250 HELP\r\n" },
  { "250 mx\r\n", 1, "250-mx\r\n250 STARTTLS\r\n" },
  { "250-mx\r\n250-STARTTLS\r\n250 SIZE 10\r\n", 1, "250-mx\r\n250-STARTTLS\r\n250 SIZE 10\r\n" },
  { "250-mx\r\n250-starttls\r\n250 SIZE 10\r\n", 0, "250-mx\r\n250 SIZE 10\r\n" },
  { "250-mx\r\n250 STARTTLS\r\n", 0, "250 mx\r\n" },
  { "250-mx STARTTLS\r\n250-STARTTLSX\r\n250 8BITMIME\r\n", 0, "250-mx STARTTLS\r\n250-STARTTLSX\r\n250 8BITMIME\r\n" },
} ;

static struct { enum smtp_answers what ; unsigned int code ; int want ; } const fits[] =
{
  { SMTP_ANSWERS_GREETING, 220, 1 }, { SMTP_ANSWERS_GREETING, 554, 1 }, { SMTP_ANSWERS_GREETING, 250, 0 },
  { SMTP_ANSWERS_DATA, 354, 1 }, { SMTP_ANSWERS_DATA, 250, 0 }, { SMTP_ANSWERS_DATA, 451, 1 },
  { SMTP_ANSWERS_COMMAND, 354, 0 }, { SMTP_ANSWERS_COMMAND, 353, 0 }, { SMTP_ANSWERS_COMMAND, 250, 1 },
  { SMTP_ANSWERS_AUTH, 334, 1 }, { SMTP_ANSWERS_AUTH, 235, 1 }, { SMTP_ANSWERS_AUTH, 354, 0 },
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
  char name[300], buf[1024] ;
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
    unsigned int offered = 99 ;
    n = smtp_ehlo_filter(buf, n, &offered) ;
    snprintf(name, sizeof name, "EHLO filter %zu", i) ;
    tap_ok(n == strlen(ehlo[i].want) && !memcmp(buf, ehlo[i].want, n) && offered == ehlo[i].offered, name) ;
  }
  for (i = 0 ; i < sizeof keep / sizeof *keep ; i++)
  {
    size_t n = strlen(keep[i].in) ;
    unsigned int offered = 99 ;
    memcpy(buf, keep[i].in, n) ;
    n = smtp_ehlo_keep(buf, n, keep[i].keep, &offered) ;
    snprintf(name, sizeof name, "EHLO filter keeping %x, %zu", keep[i].keep, i) ;
    tap_ok(n == strlen(keep[i].want) && !memcmp(buf, keep[i].want, n) && offered == keep[i].offered, name) ;
  }
  for (i = 0 ; i < sizeof starttls_lines / sizeof *starttls_lines ; i++)
  {
    char shown[64] ;
    size_t k, m = 0 ;
    for (k = 0 ; starttls_lines[i].line[k] && m < sizeof shown - 3 ; k++)
    {
      char c = starttls_lines[i].line[k] ;
      if (c == '\t' || c == '\r') { shown[m++] = '\\' ; shown[m++] = c == '\t' ? 't' : 'r' ; }
      else shown[m++] = c ;
    }
    shown[m] = 0 ;
    snprintf(name, sizeof name, "\"%s\" is STARTTLS: %d", shown, starttls_lines[i].want) ;
    tap_ok(smtp_starttls_line(starttls_lines[i].line, strlen(starttls_lines[i].line)) == starttls_lines[i].want, name) ;
  }
  for (i = 0 ; i < sizeof starttls / sizeof *starttls ; i++)
  {
    size_t n = strlen(starttls[i].in) ;
    memcpy(buf, starttls[i].in, n) ;
    n = smtp_ehlo_starttls(buf, n, sizeof buf, starttls[i].add) ;
    snprintf(name, sizeof name, "STARTTLS in EHLO %zu", i) ;
    tap_ok(n == strlen(starttls[i].want) && !memcmp(buf, starttls[i].want, n), name) ;
  }
  tap_ok(!smtp_ehlo_starttls(buf, 10, 12, 1), "no room for the STARTTLS line: 0") ;
  for (i = 0 ; i < sizeof fits / sizeof *fits ; i++)
  {
    snprintf(name, sizeof name, "reply %u %s what it answers (%d)", fits[i].code, fits[i].want ? "fits" : "does not fit", (int)fits[i].what) ;
    tap_ok(smtp_reply_fits(fits[i].what, fits[i].code) == fits[i].want, name) ;
  }
  for (i = 0 ; i < sizeof valid / sizeof *valid ; i++)
  {
    snprintf(name, sizeof name, "reply %zu is %s", i, valid[i].want ? "valid" : "malformed") ;
    tap_ok(smtp_reply_valid(valid[i].buf, strlen(valid[i].buf)) == valid[i].want, name) ;
  }
  for (i = 0 ; i < sizeof params / sizeof *params ; i++)
  {
    snprintf(name, sizeof name, "%s parameters \"%s\" offered %x: %s", params[i].rcpt ? "RCPT" : "MAIL", params[i].params, params[i].offered, params[i].want ? "ok" : "refused") ;
    tap_ok(smtp_params_ok(params[i].params, strlen(params[i].params), params[i].offered, params[i].rcpt) == params[i].want, name) ;
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
