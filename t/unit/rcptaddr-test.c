/* rcptaddr-test: the RCPT forms of t/data/rcpt-forms, each decided as
   rcptchecks decides it and checked against qmail-smtpd's rules; the
   MAIL path; and the lookup keys of each address, table-driven.

   qmail-smtpd's rules are in qmail-model.c, each step citing the line
   of notqmail's source it follows. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qmail-model.h"
#include "rcptaddr.h"
#include "mx_smtp.h"
#include "tap.h"

/* the set-up the forms file assumes */
static char const *const locals[] = { "example.org", "example.net", "mx.example.org" } ;
#define OFFERED (EXT_PIPELINING | EXT_SIZE | EXT_8BITMIME | EXT_HELP)

int qmail_model_rcpthost (char const *d)
{
  size_t i ;
  for (i = 0 ; i < sizeof locals / sizeof *locals ; i++) if (!strcasecmp(d, locals[i])) return 1 ;
  return 0 ;
}

/* What rcptchecks decides, in the forms file's words, from the same
   functions the proxy and check.c call. */
static void rcptchecks_decides (char const *line, size_t len, char *out)
{
  static rcptaddr a ;
  size_t arg ;
  enum rcptaddr_form f ;
  /* the proxy: the CR of the CRLF is the line end's; NUL or CR left is 500 */
  if (memchr(line, 0, len) || memchr(line, '\r', len) || smtp_verb(line, len, &arg) != VERB_RCPT) { strcpy(out, "refuse") ; return ; }
  f = rcptaddr_parse(line + arg, len - arg, &a) ;
  if (f == RCPTADDR_BAD || f == RCPTADDR_NOTUTF8 || f == RCPTADDR_NEEDUTF8 || (a.paramslen && !smtp_params_ok(line + arg + a.params, a.paramslen, OFFERED, 1))) { strcpy(out, "refuse") ; return ; }
  switch (f)
  {
    case RCPTADDR_POSTMASTER : strcpy(out, "postmaster") ; return ;
    case RCPTADDR_NODOMAIN :
    case RCPTADDR_LITERAL : sprintf(out, "check %s@%s", a.local, ME) ; return ;
    default :
      if (qmail_model_rcpthost(a.domain)) sprintf(out, "check %s@%s", a.local, a.domain) ;
      else sprintf(out, "foreign %s", a.domain) ;
  }
}

/* the forms file's escapes: \t \r \\ \xHH */
static size_t unescape (char const *s, size_t n, char *out)
{
  size_t i, o = 0 ;
  for (i = 0 ; i < n ; i++)
  {
    if (s[i] != '\\' || i + 1 == n) { out[o++] = s[i] ; continue ; }
    i++ ;
    if (s[i] == 't') out[o++] = '\t' ;
    else if (s[i] == 'r') out[o++] = '\r' ;
    else if (s[i] == 'x' && i + 2 < n) { char h[3] = { s[i + 1], s[i + 2], 0 } ; out[o++] = (char)strtol(h, 0, 16) ; i += 2 ; }
    else out[o++] = s[i] ;
  }
  return o ;
}

static void forms (char const *path)
{
  FILE *f = fopen(path, "r") ;
  char line[4096], form[4096], name[4600] ;
  unsigned int count = 0 ;
  if (!tap_ok(f != 0, "the forms file opens")) return ;
  while (fgets(line, sizeof line, f))
  {
    char *t1, *t2, want[1100], got[2100], queued[2100] ;
    size_t n ;
    int q ;
    if (line[0] == '#' || line[0] == '\n') continue ;
    line[strcspn(line, "\n")] = 0 ;
    t1 = strchr(line, '\t') ;
    if (!t1) { tap_ok(0, line) ; continue ; }
    t2 = strchr(t1 + 1, '\t') ;
    if (t2) *t2 = 0 ;
    snprintf(want, sizeof want, "%s", t1 + 1) ;
    n = unescape(line, (size_t)(t1 - line), form) ;
    count++ ;
    rcptchecks_decides(form, n, got) ;
    snprintf(name, sizeof name, "%.*s: rcptchecks decides \"%s\"", (int)(t1 - line), line, want) ;
    tap_ok(!strcmp(got, want), name) ;
    /* against qmail-smtpd: whatever it would queue at a local domain is
       what rcptchecks checked, or rcptchecks refused it */
    q = qmail_model_queues(form, n, queued) ;
    if (!strncmp(got, "check ", 6)) snprintf(name, sizeof name, "%.*s: qmail-smtpd queues nothing or %s (it queues %s)", (int)(t1 - line), line, got + 6, q ? queued : "nothing") ;
    else if (!strcmp(got, "postmaster")) snprintf(name, sizeof name, "%.*s: qmail-smtpd queues postmaster@" ME, (int)(t1 - line), line) ;
    else snprintf(name, sizeof name, "%.*s: %s; qmail-smtpd queues %s", (int)(t1 - line), line, got, q ? queued : "nothing") ;
    if (!strcmp(got, "refuse")) tap_ok(1, name) ;
    else if (!strncmp(got, "check ", 6)) tap_ok(!q || !strcasecmp(queued, got + 6), name) ;
    else if (!strcmp(got, "postmaster")) tap_ok(q && !strcasecmp(queued, "postmaster@" ME), name) ;
    else tap_ok(!q, name) ;   /* foreign: not queued for a local domain */
  }
  fclose(f) ;
  tap_ok(count >= 80, "at least 80 forms") ;
}

static struct { char const *arg, *path, *params ; } const mailspan[] =
{
  { "FROM:<a@example.com>", "a@example.com", "" },
  { "FROM:  <a@example.com>  SIZE=10 BODY=8BITMIME  ", "a@example.com", "SIZE=10 BODY=8BITMIME" },
  { "from:a@example.com SIZE=10", "a@example.com", "SIZE=10" },
  { "FROM:<>", "", "" },
  { "FROM:<> SIZE=1", "", "SIZE=1" },
  { "FROM:<@relay.example:a@example.com>", "@relay.example:a@example.com", "" },
  { "FROM:a@example.com   ", "a@example.com", "" },
} ;

static struct { char const *arg ; int want ; } const mailfrom[] =
{
  { "FROM:<alice@example.org>", 1 }, { "from: <alice@example.org> SIZE=10", 1 }, { "FROM:<>", 1 },
  { "FROM:alice@example.org", 1 }, { "FROM:<a@[192.0.2.1]>", 1 }, { "FROM:<@a.example:b@example.org>", 1 },
  { "FROM:<\"a>b\"@example.org> PRDR", 0 }, { "FROM:<a\\>b@example.org>", 0 }, { "FROM:<a(b>c)@d>", 0 },
  { "FROM:<a b@example.org>", 0 }, { "FROM:", 0 }, { "FROM: ", 0 }, { "<a@b>", 0 }, { "FROM:<a@b>x", 0 },
  { "FROM:<a@b> AUTH=<>", 1 }, { "FROM:a@b AUTH=<>", 0 }, { "FROM:<a@b", 0 }, { "FROM:<<a@b>>", 0 }, { "FROM:<n\xc3\xb6@b>", 0 },
} ;

static struct { char const *addr ; char delim ; int keep ; char const *want ; } const keys[] =
{
  { "alice@example.org", '-', 0, "alice@example.org|@example.org" },
  { "Alice@Example.ORG", '-', 1, "Alice@example.org|@example.org" },
  { "bob-lists@example.org", '-', 0, "bob-lists@example.org|bob-default@example.org|bob@example.org|@example.org" },
  { "a-b-c@example.org", '-', 0, "a-b-c@example.org|a-b-default@example.org|a-default@example.org|a@example.org|@example.org" },
  { "bob+lists@example.org", '+', 0, "bob+lists@example.org|bob+default@example.org|bob@example.org|@example.org" },
  { "bob+lists@example.org", '-', 0, "bob+lists@example.org|@example.org" },
  { "-x@example.org", '-', 0, "-x@example.org|@example.org" },
  { "u-1-2-3-4-5-6-7-8-9-10-11-12-13@example.org", '-', 0, "u-1-2-3-4-5-6-7-8-9-10-11-12-13@example.org|u-1-2-3-4-5-6-7-8-9-10-11-12-default@example.org|u-1-2-3-4-5-6-7-8-9-10-11-default@example.org|u-1-2-3-4-5-6-7-8-9-10-default@example.org|u-1-2-3-4-5-6-7-8-9-default@example.org|u-1-2-3-4-5-6-7-8-default@example.org|u-1-2-3-4-5-6-7-default@example.org|u-1-2-3-4-5-6-default@example.org|u-1-2-3-4-5-default@example.org|u-1-2-3-4-default@example.org|u-1-2-3-default@example.org|u-1-2-default@example.org|u-1-default@example.org|u@example.org|@example.org" },
  { "a@b@example.org", '-', 0, "a@b@example.org|@example.org" },   /* the last @ splits */
  { "' OR 1=1 --@example.org", '-', 0, "' or 1=1 --@example.org|' or 1=1 --default@example.org|' or 1=1 -default@example.org|' or 1=1 @example.org|@example.org" },
} ;

/* qmail-smtpd.c addrparse: "if (addr.len > 900) return 0;" with the
   NUL counted: 899 bytes are taken, 900 refused (555). rcptchecks takes
   exactly what it takes, counting the address as qmail reads it (quotes
   and route gone). */
static void boundary (void)
{
  static struct { char const *pre, *post, *name ; } const shapes[] =
  {
    { "<", "@example.org>", "local@domain" },
    { "<", ">", "no domain" },
    { "<\"", "\"@example.org>", "quoted local part" },
    { "<@route.example:", "@example.org>", "source route" },
  } ;
  static char line[2100], q[4096], name[200] ;
  static rcptaddr a ;
  size_t total, s ;
  for (s = 0 ; s < sizeof shapes / sizeof *shapes ; s++)
    for (total = 899 ; total <= 901 ; total++)
    {
      size_t ql = strlen(shapes[s].post), tail = strchr(shapes[s].post, '@') ? strlen(strchr(shapes[s].post, '@')) - 1 : 0 ;
      size_t local = total - tail, n ;
      int took, qmail ;
      n = (size_t)sprintf(line, "RCPT TO:%s", shapes[s].pre) ;
      memset(line + n, 'x', local) ; n += local ;
      memcpy(line + n, shapes[s].post, ql + 1) ; n += ql ;
      took = rcptaddr_parse(line + 5, n - 5, &a) != RCPTADDR_BAD ;
      qmail = qmail_model_addrparse(line, n, q) ;
      snprintf(name, sizeof name, "%s, %zu bytes as qmail reads it: %s, as qmail-smtpd (addrparse: addr.len > 900 counts the NUL)", shapes[s].name, total, total < 900 ? "taken" : "refused") ;
      tap_ok(took == (total < 900) && qmail == (total < 900) && (!qmail || strlen(q) == total), name) ;
    }
}

static char const *const no_domain[] = { "postmaster", "", "alice@" } ;

/* SMTPUTF8 (RFC 6531): the RCPT argument, whether the transaction
   declared SMTPUTF8, the form, and local|domain as read when taken */
static struct { char const *arg ; int utf8 ; enum rcptaddr_form want ; char const *read, *why ; } const utf8rcpt[] =
{
  { "TO:<d\\xc3\\xa9lia@example.org>", 1, RCPTADDR_DOMAIN, "d\\xc3\\xa9lia|example.org", "RFC 6531 3.3: atext =/ UTF8-non-ascii" },
  { "TO:<D\\xc3\\x89lia@Example.ORG>", 1, RCPTADDR_DOMAIN, "D\\xc3\\x89lia|example.org", "non-ASCII bytes kept as written, no Unicode case folding" },
  { "TO:<d\\xc3\\xa9lia@example.org>", 0, RCPTADDR_NEEDUTF8, 0, "RFC 6531 3.7.4.1: no SMTPUTF8, 553 5.6.7" },
  { "TO:<nobody@ex\\xc3\\xa4mple.org>", 0, RCPTADDR_NEEDUTF8, 0, "RFC 6531 3.7.4.1: a U-label without SMTPUTF8" },
  { "TO:<j\\xc3\\xb6rg@b\\xc3\\xbccher.example>", 1, RCPTADDR_DOMAIN, "j\\xc3\\xb6rg|xn--bcher-kva.example", "a U-label domain is read as its A-label" },
  { "TO:<j@B\\xc3\\xbcCHER.example>", 1, RCPTADDR_DOMAIN, "j|xn--bcher-kva.example", "ASCII capitals in a U-label domain: the same A-label" },
  { "TO:<j@XN--BCHER-KVA.example>", 1, RCPTADDR_DOMAIN, "j|xn--bcher-kva.example", "an A-label as written, lower-cased" },
  { "TO:<\"d\\xc3\\xa9lia\"@example.org>", 1, RCPTADDR_DOMAIN, "d\\xc3\\xa9lia|example.org", "a quoted UTF-8 dot-atom is read as the dot-atom" },
  { "TO:<d\\xc3\\xa9lia>", 1, RCPTADDR_NODOMAIN, "d\\xc3\\xa9lia|", "a UTF-8 local part alone" },
  { "TO:<d\\xc3lia@example.org>", 1, RCPTADDR_NOTUTF8, 0, "RFC 3629: a lead byte without its continuation" },
  { "TO:<d\\xc0\\xaelia@example.org>", 1, RCPTADDR_NOTUTF8, 0, "RFC 3629: an overlong form" },
  { "TO:<d\\xed\\xa0\\x80lia@example.org>", 1, RCPTADDR_NOTUTF8, 0, "RFC 3629: a surrogate" },
  { "TO:<d\\xf4\\x90\\x80\\x80@example.org>", 1, RCPTADDR_NOTUTF8, 0, "RFC 3629: above U+10FFFF" },
  { "TO:<d\\xc3lia@example.org>", 0, RCPTADDR_NOTUTF8, 0, "not UTF-8 without SMTPUTF8 either: 501" },
  { "TO:<a@b\\xc3\\xbc\\xc3.example>", 1, RCPTADDR_NOTUTF8, 0, "RFC 3629: a truncated sequence in the domain" },
  { "TO:<a@\\xe2\\x80\\x8b.example>", 1, RCPTADDR_BAD, 0, "IDNA2008 refuses the label (U+200B): 501" },
  { "TO:<d\\xc3\\xa9 lia@example.org>", 1, RCPTADDR_BAD, 0, "a blank stays refused" },
  { "TO:<d\\xc3\\xa9..lia@example.org>", 1, RCPTADDR_BAD, 0, "a doubled dot stays refused" },
  { "TO:<@r\\xc3\\xa9.example:a@example.org>", 1, RCPTADDR_BAD, 0, "a route domain stays ASCII" },
  { "TO:<a@[192.0.2.\\xc3\\xa9]>", 1, RCPTADDR_BAD, 0, "a literal stays ASCII" },
} ;

static struct { char const *arg ; enum rcptaddr_mail want ; int utf8 ; char const *why ; } const utf8mail[] =
{
  { "FROM:<s\\xc3\\xa9n@other.test> SMTPUTF8", RCPTADDR_MAIL_OK, 1, "RFC 6531 3.4: SMTPUTF8 declared, UTF-8 sender" },
  { "FROM:<s\\xc3\\xa9n@other.test> BODY=8BITMIME smtputf8", RCPTADDR_MAIL_OK, 1, "the keyword in any case, among others" },
  { "FROM:<s@other.test> SMTPUTF8", RCPTADDR_MAIL_OK, 1, "an ASCII sender may declare it" },
  { "FROM:<s@other.test>", RCPTADDR_MAIL_OK, 0, "nothing declared" },
  { "FROM:<s\\xc3\\xa9n@other.test>", RCPTADDR_MAIL_NEEDUTF8, 0, "RFC 6531 3.7.4.1: 553 5.6.7" },
  { "FROM:<s\\xc3\\xa9n@other.test> SMTPUTF8=YES", RCPTADDR_MAIL_NEEDUTF8, 0, "SMTPUTF8 takes no value: not a declaration" },
  { "FROM:<s\\xc3n@other.test> SMTPUTF8", RCPTADDR_MAIL_NOTUTF8, 1, "RFC 3629: not UTF-8, 501 5.1.7" },
  { "FROM:<s\\xc0\\xafn@other.test> SMTPUTF8", RCPTADDR_MAIL_NOTUTF8, 1, "RFC 3629: an overlong '/'" },
} ;

static void utf8 (void)
{
  static rcptaddr a ;
  char arg[300], want[300], got[2000], name[700] ;
  size_t i, n ;
  for (i = 0 ; i < sizeof utf8rcpt / sizeof *utf8rcpt ; i++)
  {
    enum rcptaddr_form f ;
    n = unescape(utf8rcpt[i].arg, strlen(utf8rcpt[i].arg), arg) ;
    f = rcptaddr_parse8(arg, n, utf8rcpt[i].utf8, &a) ;
    snprintf(got, sizeof got, "%s|%s", a.local, a.domain) ;
    want[unescape(utf8rcpt[i].read ? utf8rcpt[i].read : "", utf8rcpt[i].read ? strlen(utf8rcpt[i].read) : 0, want)] = 0 ;
    snprintf(name, sizeof name, "RCPT %s%s: %s", utf8rcpt[i].arg, utf8rcpt[i].utf8 ? " (SMTPUTF8)" : "", utf8rcpt[i].why) ;
    tap_ok(f == utf8rcpt[i].want && (!utf8rcpt[i].read || !strcmp(got, want)), name) ;
  }
  for (i = 0 ; i < sizeof utf8mail / sizeof *utf8mail ; i++)
  {
    rcptaddr_from f ;
    enum rcptaddr_mail r ;
    n = unescape(utf8mail[i].arg, strlen(utf8mail[i].arg), arg) ;
    r = rcptaddr_mailfrom8(arg, n, &f) ;
    snprintf(name, sizeof name, "MAIL %s: %s", utf8mail[i].arg, utf8mail[i].why) ;
    tap_ok(r == utf8mail[i].want && (r != RCPTADDR_MAIL_OK || f.utf8 == utf8mail[i].utf8), name) ;
  }
  /* the keys: ASCII letters folded, other bytes as written (qmail and
     exim compare local parts byte for byte, ASCII case aside) */
  {
    static rcptaddr_keys k ;
    tap_ok(rcptaddr_keys_make("D\xc3\x89lia-x@xn--bcher-kva.example", '-', 0, &k) && k.n == 4
      && !strcmp(k.key[0], "d\xc3\x89lia-x@xn--bcher-kva.example") && !strcmp(k.key[2], "d\xc3\x89lia@xn--bcher-kva.example"),
      "keys of a UTF-8 local part: ASCII folded, \\xc3\\x89 (\\u00c9) kept") ;
  }
}

int main (int argc, char const *const *argv)
{
  char name[1200], path[4096] ;
  size_t i ;
  char const *slash = argc ? strrchr(argv[0], '/') : 0 ;
  snprintf(path, sizeof path, "%.*s%sdata/rcpt-forms", slash ? (int)(slash - argv[0]) : 0, argv[0], slash ? "/../" : "../") ;
  forms(path) ;
  for (i = 0 ; i < sizeof mailfrom / sizeof *mailfrom ; i++)
  {
    rcptaddr_from f ;
    snprintf(name, sizeof name, "MAIL %s: %s", mailfrom[i].arg, mailfrom[i].want ? "taken" : "refused") ;
    tap_ok(rcptaddr_mailfrom(mailfrom[i].arg, strlen(mailfrom[i].arg), &f) == mailfrom[i].want, name) ;
  }
  /* the one parse of MAIL's path: the spans every later reader takes */
  for (i = 0 ; i < sizeof mailspan / sizeof *mailspan ; i++)
  {
    rcptaddr_from f ;
    char const *a = mailspan[i].arg ;
    int ok = rcptaddr_mailfrom(a, strlen(a), &f) ;
    snprintf(name, sizeof name, "MAIL %s: path '%s', parameters '%s'", a, mailspan[i].path, mailspan[i].params) ;
    tap_ok(ok && f.pathlen == strlen(mailspan[i].path) && !memcmp(a + f.path, mailspan[i].path, f.pathlen)
      && f.paramslen == strlen(mailspan[i].params) && !memcmp(a + f.params, mailspan[i].params, f.paramslen), name) ;
  }
  {
    static rcptaddr a ;
    static char big[2000] ;
    memset(big, 'x', sizeof big - 1) ;
    memcpy(big, "TO:<", 4) ;
    tap_ok(rcptaddr_parse(big, strlen(big), &a) == RCPTADDR_BAD, "a 2000-byte address is refused") ;
    memset(big, 'x', sizeof big) ;
    memcpy(big, "TO:<", 4) ;
    memcpy(big + 4 + RCPTADDR_MAX - 12, "@example.org>", 14) ;
    tap_ok(rcptaddr_parse(big, strlen(big), &a) == RCPTADDR_DOMAIN && strlen(a.local) == RCPTADDR_MAX - 12, "an address of exactly the limit is taken") ;
    tap_ok(rcptaddr_parse("TO:<a@b.example> NOTIFY=NEVER", 29, &a) == RCPTADDR_DOMAIN && a.paramslen == 12 && a.params == 17, "parameters are found after the path") ;
  }
  boundary() ;
  utf8() ;
  for (i = 0 ; i < sizeof keys / sizeof *keys ; i++)
  {
    static rcptaddr_keys k ;
    char got[4000] = "" ;
    unsigned int j ;
    int r = rcptaddr_keys_make(keys[i].addr, keys[i].delim, keys[i].keep, &k) ;
    for (j = 0 ; r && j < k.n ; j++)
    {
      if (j) strcat(got, "|") ;
      strcat(got, k.key[j]) ;
    }
    snprintf(name, sizeof name, "keys of %s (%c%s): %s", keys[i].addr, keys[i].delim, keys[i].keep ? ", case kept" : "", keys[i].want) ;
    tap_ok(r && !strcmp(got, keys[i].want), name) ;
  }
  {
    static rcptaddr_keys k ;
    tap_ok(rcptaddr_keys_make("Alice@Example.ORG", '-', 0, &k) && !strcmp(k.domain, "example.org"), "the domain is given lower-cased") ;
    tap_ok(rcptaddr_keys_make("a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p@example.org", '-', 0, &k) && k.n == 15, "at most 12 extension levels: 15 keys") ;
  }
  for (i = 0 ; i < sizeof no_domain / sizeof *no_domain ; i++)
  {
    static rcptaddr_keys k ;
    snprintf(name, sizeof name, "no domain in \"%s\": no keys", no_domain[i]) ;
    tap_ok(!rcptaddr_keys_make(no_domain[i], '-', 0, &k) && !k.n, name) ;
  }
  return tap_done() ;
}
