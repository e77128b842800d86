/* classify-test: reverse-DNS classes, table-driven: keywords, every
   IP-in-name form, names that must stay "named", a pattern file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
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
} ;

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
