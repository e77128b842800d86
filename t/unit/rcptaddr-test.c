/* rcptaddr-test: RCPT TO arguments parsed as qmail-smtpd parses them,
   and the lookup keys of each address, table-driven. */
#include <stdio.h>
#include <string.h>

#include "rcptaddr.h"
#include "tap.h"

static struct { char const *arg ; char const *want ; } const parses[] =
{
  { "<alice@example.org>", "alice@example.org" },
  { " <alice@example.org>", "alice@example.org" },
  { "<alice@example.org> SIZE=100", "alice@example.org" },
  { "alice@example.org", "alice@example.org" },              /* no brackets */
  { " alice@example.org SIZE=100", "alice@example.org" },
  { "<>", "" },
  { "<@a.example,@b.example:bob@example.org>", "bob@example.org" },   /* source route */
  { "<\"alice smith\"@example.org>", "alice smith@example.org" },   /* quoted local part */
  { "<\"a>b\"@example.org>", "a>b@example.org" },             /* quoted terminator */
  { "<\"a (b)\"@example.org>", "a (b)@example.org" },         /* quoted blank and parentheses */
  { "<a\\>b@example.org>", "a>b@example.org" },               /* escaped terminator */
  { "<a\\\\b@example.org>", "a\\b@example.org" },
  { "<postmaster>", "postmaster" },
  { "<alice@[192.0.2.1]>", "alice@[192.0.2.1]" },
  { "<unterminated@example.org", "unterminated@example.org" }, /* qmail-smtpd does not care */
  { "TO:<alice@example.org>", "alice@example.org" },          /* the whole text after RCPT */
  { "to:alice@example.org SIZE=1", "alice@example.org" },      /* no brackets: after the colon */
  { "TO: alice@example.org", "alice@example.org" },
  { "TO:@a.example:bob@example.org", "bob@example.org" },
} ;

static char const *const refused[] =
{
  "<a\rb@example.org>", "<a\nb@example.org>",
  "<nobody@example.org(x)>", "<nobody@(x)example.org>", "<nobody(x)@example.org>",   /* comments */
  "<nobody@ example.org>", "<nobody @example.org>", "<nobody@example.org\t>",       /* blanks */
} ;

static struct { char const *addr ; char delim ; int keep ; char const *want ; } const keys[] =
{
  { "alice@example.org", '-', 0, "alice@example.org|@example.org" },
  { "Alice@Example.ORG.", '-', 0, "alice@example.org|@example.org" },
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

static char const *const no_domain[] = { "postmaster", "", "alice@", "alice@." } ;

int main (void)
{
  char out[RCPTADDR_MAX + 1], name[1200] ;
  size_t i ;
  for (i = 0 ; i < sizeof parses / sizeof *parses ; i++)
  {
    int n = rcptaddr_parse(parses[i].arg, strlen(parses[i].arg), out) ;
    snprintf(name, sizeof name, "parse %s -> \"%s\"", parses[i].arg, parses[i].want) ;
    tap_ok(n == (int)strlen(parses[i].want) && !strcmp(out, parses[i].want), name) ;
  }
  for (i = 0 ; i < sizeof refused / sizeof *refused ; i++)
    tap_ok(rcptaddr_parse(refused[i], strlen(refused[i]), out) < 0, "CR, LF, a blank or a comment inside the address is refused") ;
  tap_ok(rcptaddr_parse("<a\0b@example.org>", 17, out) < 0, "NUL inside the address is refused") ;
  {
    static char big[2000] ;
    memset(big, 'x', sizeof big - 1) ;
    big[0] = '<' ;
    tap_ok(rcptaddr_parse(big, strlen(big), out) < 0, "a 2000-byte address is refused") ;
    memset(big, 'x', RCPTADDR_MAX + 1) ;
    big[0] = '<' ; big[RCPTADDR_MAX + 1] = '>' ; big[RCPTADDR_MAX + 2] = 0 ;
    tap_ok(rcptaddr_parse(big, strlen(big), out) == RCPTADDR_MAX, "an address of exactly the limit is taken") ;
  }
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
