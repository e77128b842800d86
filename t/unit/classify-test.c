/* classify-test: reverse-DNS classes, table-driven: keywords, every
   IP-in-name form, names that must stay "named", a pattern file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mx_classify.h"
#include "mx_ip.h"
#include "tap.h"

static struct { char const *ip ; char const *host ; enum rdns_class want ; char const *why ; } const cases[] =
{
  { "192.0.2.7", 0, CLASS_NONE, "noname" },
  { "192.0.2.7", "", CLASS_NONE, "noname" },
  { "192.0.2.7", "mail.example.org", CLASS_NAMED, "name" },
  { "192.0.2.7", "mx1.mail.example.co.uk", CLASS_NAMED, "name" },
  { "192.0.2.7", "dyn-42.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "host.dynamic.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "dhcp-77.campus.example.edu", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "a1.dialup.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "ppp123.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "pool-44.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "adsl-9.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "x.dsl.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "cable-3.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "cpe-1.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "client-8.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "DYN-42.ISP.EXAMPLE", CLASS_DYNAMIC, "keyword" },
  /* keywords inside the registered domain or inside a word do not count */
  { "192.0.2.7", "mail.dsl-provider.example", CLASS_NAMED, "name" },
  { "192.0.2.7", "mail.pool.example", CLASS_NAMED, "name" },
  { "192.0.2.7", "dynamo.example.org", CLASS_NAMED, "name" },
  { "192.0.2.7", "smtp.cablecompany.example.org", CLASS_NAMED, "name" },
  /* the client's own address in its name, every common form */
  { "192.0.2.7", "192.0.2.7.isp.example", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "host-192-0-2-7.isp.example", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "h192_0_2_7.isp.example", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "7.2.0.192.isp.example", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "7-2-0-192.isp.example", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "x192-000-002-007.isp.example", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "192000002007.isp.example", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "007.002.000.192.isp.example", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "a192027b.isp.example", CLASS_NAMED, "name" },     /* merged forms under 8 digits are too ambiguous */
  { "198.51.100.23", "h19851100023.isp.example", CLASS_NAMED, "name" },
  { "198.51.100.23", "h1985110023.isp.example", CLASS_DYNAMIC, "ip" },    /* merged */
  { "198.51.100.23", "ip3325256727.isp.example", CLASS_DYNAMIC, "ip" },  /* decimal */
  { "198.51.100.23", "c6336417.isp.example", CLASS_DYNAMIC, "ip" },      /* hex */
  { "198.51.100.23", "C6336417.ISP.EXAMPLE", CLASS_DYNAMIC, "ip" },      /* hex, upper case */
  /* another address's digits are not the client's */
  { "192.0.2.7", "192.0.2.77.isp.example", CLASS_NAMED, "name" },
  { "192.0.2.7", "1192.0.2.7.isp.example", CLASS_NAMED, "name" },
  { "192.0.2.7", "ac6336417.isp.example", CLASS_NAMED, "name" },
  { "::ffff:192.0.2.7", "host-192-0-2-7.isp.example", CLASS_DYNAMIC, "ip" },
  { "2001:db8::7", "mail.example.org", CLASS_NAMED, "name" },
  /* the search itself: any case, at either end, after a near miss */
  { "192.0.2.7", "DyNaMiC.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "dyn.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "dyn.isp.example.", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "a.b.Ppp0.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "1.2.in-addr.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "LTE5.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "x-4G.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "xdyn.isp.example", CLASS_NAMED, "name" },
  { "192.0.2.7", "dyndyn.isp.example", CLASS_NAMED, "name" },
  { "192.0.2.7", "dyndyn.dyn.isp.example", CLASS_DYNAMIC, "keyword" },
  { "192.0.2.7", "Dy.isp.example", CLASS_NAMED, "name" },
  { "192.0.2.7", "isp.dyn", CLASS_NAMED, "name" },
  { "192.0.2.7", "dyn", CLASS_NAMED, "name" },
  { "192.0.2.7", "\xe9" "dyn\xe9.isp.example", CLASS_DYNAMIC, "keyword" },  /* only ASCII letters are letters */
  { "192.0.2.7", "\xc4YN.isp.example", CLASS_NAMED, "name" },
  { "192.0.2.7", "192.0.2.77.192.0.2.7.isp.example", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "isp.example.192.0.2.7", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "192.0.2.7", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "192.0.2.", CLASS_NAMED, "name" },
  { "192.0.2.7", "x192_000_002_007y.isp.example", CLASS_DYNAMIC, "ip" },
  { "192.0.2.7", "192.0.2.70.1192.0.2.7.isp.example", CLASS_NAMED, "name" },
  { "198.51.100.23", "Ip-C6336417.isp.example", CLASS_DYNAMIC, "ip" },
  { "198.51.100.23", "xc6336417.isp.example", CLASS_DYNAMIC, "ip" },
  { "198.51.100.23", "C6336417F.isp.example", CLASS_NAMED, "name" },
  { "198.51.100.23", "c6336417c6336417.isp.example", CLASS_NAMED, "name" },
  { "198.51.100.23", "c6336417c6336417-c6336417.isp.example", CLASS_DYNAMIC, "ip" },
  { "10.0.0.1", "x.0a000001.isp.example", CLASS_DYNAMIC, "ip" },
  { "10.0.0.1", "x.0A000001.isp.example", CLASS_DYNAMIC, "ip" },
  { "10.0.0.1", "x.0A0000010.isp.example", CLASS_NAMED, "name" },
  { "255.255.255.255", "ffffffff.isp.example", CLASS_DYNAMIC, "ip" },
  { "255.255.255.255", "h255255255255.isp.example", CLASS_DYNAMIC, "ip" },
  { "255.255.255.255", "h4294967295.isp.example", CLASS_DYNAMIC, "ip" },
  { "0.0.0.0", "h0-0-0-0.isp.example", CLASS_DYNAMIC, "ip" },
  { "0.0.0.0", "h0000.isp.example", CLASS_NAMED, "name" },
  { "0.0.0.0", "h000000000000.isp.example", CLASS_DYNAMIC, "ip" },
} ;

/* names longer than a label or a DNS name: the keywords are sought in
   the first 255 bytes of the part left of the registered domain, the
   address in the whole name */
static void long_names (patterns const *p)
{
  static struct { size_t pad ; char const *tail ; char const *ip ; enum rdns_class want ; char const *why ; } const longs[] =
  {
    { 240, ".dyn.isp.example.org", "192.0.2.7", CLASS_DYNAMIC, "keyword" },
    { 250, ".dyn.isp.example.org", "192.0.2.7", CLASS_DYNAMIC, "keyword" },   /* the cut is an edge */
    { 252, ".dyn.isp.example.org", "192.0.2.7", CLASS_NAMED, "name" },
    { 400, "-192-0-2-7.example.org", "192.0.2.7", CLASS_DYNAMIC, "ip" },
    { 1000, ".7.2.0.192.example.org", "192.0.2.7", CLASS_DYNAMIC, "ip" },
    { 1000, ".c000020701.example.org", "192.0.2.7", CLASS_NAMED, "name" },
    { 1000, ".c0000207.example.org", "192.0.2.7", CLASS_DYNAMIC, "ip" },
  } ;
  char host[1100] ;
  char name[128] ;
  size_t i ;
  for (i = 0 ; i < sizeof longs / sizeof *longs ; i++)
  {
    ip46 ip ;
    char const *why = 0 ;
    enum rdns_class c ;
    memset(host, 'x', longs[i].pad) ;
    strcpy(host + longs[i].pad, longs[i].tail) ;
    mx_ip_scan(longs[i].ip, strlen(longs[i].ip), &ip) ;
    c = classify(p, host, &ip, &why) ;
    snprintf(name, sizeof name, "%s %zu x and %s -> %s (%s)", longs[i].ip, longs[i].pad, longs[i].tail, class_name(longs[i].want), longs[i].why) ;
    tap_ok(c == longs[i].want && !strcmp(why, longs[i].why), name) ;
  }
}

/* The pattern file loader as it was, reading the file with stdio:
   patterns_load and patterns_parse must read every file as this does
   (fgets(3) into 1024 bytes: long lines in pieces, NUL bytes cut). */
static int fgets_model (patterns *p, char const *file, char *err, size_t errlen)
{
  char line[1024] ;
  unsigned long lineno = 0 ;
  FILE *f = fopen(file, "r") ;
  if (!f)
  {
    snprintf(err, errlen, "%s: unable to open: %s", file, strerror(errno)) ;
    return -1 ;
  }
  while (fgets(line, sizeof line, f))
  {
    size_t len = strlen(line) ;
    regex_t *grown ;
    int e ;
    lineno++ ;
    if (len == sizeof line - 1 && line[len-1] != '\n')
    {
      snprintf(err, errlen, "%s:%lu: line longer than %u bytes", file, lineno, (unsigned int)sizeof line - 2) ;
      fclose(f) ;
      return 0 ;
    }
    while (len && (line[len-1] == '\n' || line[len-1] == '\r')) line[--len] = 0 ;
    {
      size_t b = strspn(line, " \t") ;
      if (b == len || line[b] == '#') continue ;
    }
    grown = realloc(p->re, (p->n + 1) * sizeof *p->re) ;
    if (!grown) { snprintf(err, errlen, "%s:%lu: out of memory", file, lineno) ; fclose(f) ; return 0 ; }
    p->re = grown ;
    e = regcomp(&p->re[p->n], line, REG_EXTENDED | REG_ICASE | REG_NOSUB) ;
    if (e)
    {
      char why[128] ;
      regerror(e, &p->re[p->n], why, sizeof why) ;
      snprintf(err, errlen, "%s:%lu: bad regular expression: %s", file, lineno, why) ;
      fclose(f) ;
      return 0 ;
    }
    p->n++ ;
  }
  if (ferror(f))
  {
    snprintf(err, errlen, "%s: unable to read: %s", file, strerror(errno)) ;
    fclose(f) ;
    return -1 ;
  }
  fclose(f) ;
  return 1 ;
}

/* text[0..len) as a pattern file: the model, patterns_load and
   patterns_parse agree on the result, the message, the number of
   patterns and what each matches */
static int same_reading (char const *text, size_t len)
{
  static char const *const probes[] = { "", "a", "A.b", "x y", "#", "(", "aaaa", "b" } ;
  char file[] = "/tmp/classify-test.XXXXXX" ;
  char err[3][512] ;
  patterns set[3] ;
  int r[3], ok = 1 ;
  size_t i, j, k ;
  int fd = mkstemp(file) ;
  if (fd < 0) return 0 ;
  if (write(fd, text, len) != (ssize_t)len) ok = 0 ;
  close(fd) ;
  for (i = 0 ; i < 3 ; i++) { patterns_init(&set[i], 0) ; err[i][0] = 0 ; }
  r[0] = fgets_model(&set[0], file, err[0], sizeof err[0]) ;
  r[1] = patterns_load(&set[1], file, err[1], sizeof err[1]) ;
  r[2] = patterns_parse(&set[2], file, text, len, err[2], sizeof err[2]) ;
  unlink(file) ;
  for (i = 1 ; i < 3 ; i++)
  {
    if (r[i] != r[0] || strcmp(err[i], err[0]) || set[i].n != set[0].n) { ok = 0 ; continue ; }
    for (j = 0 ; j < set[0].n ; j++)
      for (k = 0 ; k < sizeof probes / sizeof *probes ; k++)
        if (!regexec(&set[i].re[j], probes[k], 0, 0, 0) != !regexec(&set[0].re[j], probes[k], 0, 0, 0)) ok = 0 ;
  }
  for (i = 0 ; i < 3 ; i++) patterns_free(&set[i]) ;
  return ok ;
}

/* files at the edges of fgets' reading, then made-up ones */
static void readings (void)
{
  static struct { char const *text ; size_t len ; char const *name ; } const files[] =
  {
    { "", 0, "an empty file" },
    { "a", 1, "a last line with no newline" },
    { "a\r\n\r\n \t\n# x\n  #(\n", 17, "CRLF, blank lines, comments" },
    { "a\0(\n(", 5, "a NUL ends a line: the rest of it is not read" },
    { "\0(\nb\n", 5, "a line that starts with NUL is blank" },
    { "a\r\0\nb(\n", 7, "CR before a NUL is cut too" },
    { "#\0\n(\n", 5, "a bad line after a NUL-cut comment: line 2" },
  } ;
  static struct { size_t len ; size_t nul ; char const *tail ; char const *name ; } const longs[] =
  {
    { 1022, 0, "\n(\n", "a line of 1022 bytes" },
    { 1022, 0, "", "a last line of 1022 bytes" },
    { 1023, 0, "\n", "a line of 1023 bytes is too long" },
    { 1023, 0, "", "a last line of 1023 bytes is too long" },
    { 5000, 0, "\n", "a line of 5000 bytes is too long" },
    { 1023, 500, "(\n", "1023 bytes with a NUL: the rest of the line counts as the next line" },
    { 2046, 10, "\n", "2046 bytes with a NUL early: the second piece is too long" },
    { 2045, 10, "\nb(\n", "2045 bytes with a NUL early: two lines, then line 3" },
  } ;
  char buf[6000] ;
  char name[160] ;
  unsigned long x = 1 ;
  size_t i, bad = 0 ;
  for (i = 0 ; i < sizeof files / sizeof *files ; i++)
  {
    snprintf(name, sizeof name, "pattern file read as fgets reads it: %s", files[i].name) ;
    tap_ok(same_reading(files[i].text, files[i].len), name) ;
  }
  for (i = 0 ; i < sizeof longs / sizeof *longs ; i++)
  {
    size_t n = longs[i].len ;
    memset(buf, 'a', n) ;
    if (longs[i].nul) buf[longs[i].nul] = 0 ;
    memcpy(buf + n, longs[i].tail, strlen(longs[i].tail)) ;
    snprintf(name, sizeof name, "pattern file read as fgets reads it: %s", longs[i].name) ;
    tap_ok(same_reading(buf, n + strlen(longs[i].tail)), name) ;
  }
  for (i = 0 ; i < 400 ; i++)
  {
    static char const alphabet[] = "aaab.|()[]^$\\#  \t\r\n\n" ;
    size_t n, j ;
    x = x * 6364136223846793005UL + 1442695040888963407UL ;
    n = (x >> 33) % (i & 1 ? 3000 : 200) ;
    for (j = 0 ; j < n ; j++)
    {
      x = x * 6364136223846793005UL + 1442695040888963407UL ;
      buf[j] = (x >> 33) % 40 == 0 ? 0 : (i & 2) && (x >> 40) % 16 ? 'a' : alphabet[(x >> 40) % (sizeof alphabet - 1)] ;
    }
    if (!same_reading(buf, n)) bad++ ;
  }
  tap_ok(!bad, "400 made-up pattern files are read as fgets reads them") ;
}

int main (void)
{
  patterns p ;
  size_t i ;
  char name[256] ;
  if (!tap_ok(patterns_init(&p, 1), "built-in patterns compile")) return tap_done() ;
  for (i = 0 ; i < sizeof cases / sizeof *cases ; i++)
  {
    ip46 ip ;
    char const *why = 0 ;
    enum rdns_class c ;
    mx_ip_scan(cases[i].ip, strlen(cases[i].ip), &ip) ;
    c = classify(&p, cases[i].host, &ip, &why) ;
    snprintf(name, sizeof name, "%s %s -> %s (%s)", cases[i].ip, cases[i].host ? cases[i].host : "(unset)", class_name(cases[i].want), cases[i].why) ;
    tap_ok(c == cases[i].want && !strcmp(why, cases[i].why), name) ;
  }
  {
    ip46 ip ;
    char const *why ;
    mx_ip_scan("192.0.2.7", 9, &ip) ;
    tap_ok(classify(&p, "host-192-0-2-7.isp.example", 0, &why) == CLASS_NAMED, "no address: no IP-in-name test") ;
  }
  long_names(&p) ;
  readings() ;
  {
    patterns none ;
    ip46 ip ;
    char const *why ;
    char err[256] ;
    char file[] = "/tmp/classify-test.XXXXXX" ;
    int fd = mkstemp(file) ;
    FILE *f = fd >= 0 ? fdopen(fd, "w") : 0 ;
    mx_ip_scan("192.0.2.7", 9, &ip) ;
    tap_ok(patterns_init(&none, 0), "no built-in patterns (-B)") ;
    tap_ok(classify(&none, "dyn-42.isp.example", &ip, &why) == CLASS_NAMED, "-B: keywords no longer count") ;
    if (f)
    {
      fputs("# site patterns\n\n  \t\n   # indented comment\n\\.home\\.example$\n^mail[0-9]+\\.bad\\.example$\n", f) ;
      fclose(f) ;
      tap_ok(patterns_load(&none, file, err, sizeof err), "pattern file loads") ;
      tap_ok(classify(&none, "kitchen.HOME.example", &ip, &why) == CLASS_DYNAMIC && !strcmp(why, "pattern"), "pattern matches, case-insensitive") ;
      tap_ok(classify(&none, "mail7.bad.example", &ip, &why) == CLASS_DYNAMIC, "second pattern matches") ;
      tap_ok(classify(&none, "mail.good.example", &ip, &why) == CLASS_NAMED, "no pattern matches") ;
      f = fopen(file, "w") ;
      fputs("ok\n# comment\nbad(\n", f) ;
      fclose(f) ;
      tap_ok(patterns_load(&none, file, err, sizeof err) == 0 && strstr(err, ":3: bad regular expression"), "a bad regex is refused with its line number") ;
      unlink(file) ;
    }
    tap_ok(patterns_load(&none, "/nonexistent/patterns", err, sizeof err) < 0 && strstr(err, "unable to open"), "a missing file is a temporary failure") ;
    patterns_free(&none) ;
    tap_ok(!none.n && !none.re, "patterns_free empties the set") ;
  }
  patterns_free(&p) ;
  return tap_done() ;
}
