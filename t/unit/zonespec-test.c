/* zonespec-test: DNSBL zone specs in the zone=filter*weight syntax users
   type, table-driven: what parses, what each answer means, what a
   listing scores, and every malformed spec refused with its reason. */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "mx_zonespec.h"

static struct
{
  char const *spec ;
  char const *answer ;   /* an A record */
  enum answer_verdict want ;
  int points, allow_points ;
} const good[] =
{
  { "zen.spamhaus.org=127.0.0.[2..11]*3", "127.0.0.2", ANSWER_LISTED, 3, -3 },
  { "zen.spamhaus.org=127.0.0.[2..11]*3", "127.0.0.11", ANSWER_LISTED, 3, -3 },
  { "zen.spamhaus.org=127.0.0.[2..11]*3", "127.0.0.12", ANSWER_FILTERED, 3, -3 },
  { "zen.spamhaus.org=127.0.0.[2..11]*3", "127.0.0.1", ANSWER_FILTERED, 3, -3 },
  { "zen.spamhaus.org=127.0.0.[2..11]*3", "127.255.255.254", ANSWER_FAULT, 3, -3 },
  { "zen.spamhaus.org=127.0.0.[2..11]*3", "127.255.255.252", ANSWER_FAULT, 3, -3 },
  { "bl.spamcop.net*2", "127.0.0.2", ANSWER_LISTED, 2, -2 },
  { "bl.spamcop.net*2", "127.1.2.3", ANSWER_LISTED, 2, -2 },
  { "bl.spamcop.net*2", "10.0.0.2", ANSWER_FAULT, 2, -2 },           /* outside 127/8 */
  { "bl.spamcop.net*2", "127.255.255.255", ANSWER_FAULT, 2, -2 },    /* query refused */
  { "bl.spamcop.net", "127.0.0.2", ANSWER_LISTED, 1, -1 },
  { "bl.spamcop.net.", "127.0.0.2", ANSWER_LISTED, 1, -1 },          /* trailing dot */
  { "list.dnswl.org=127.0.[0..255].[1..3]*-5", "127.0.9.1", ANSWER_LISTED, -5, -5 },
  { "list.dnswl.org=127.0.[0..255].[1..3]*-5", "127.0.9.0", ANSWER_FILTERED, -5, -5 },
  { "list.dnswl.org=127.0.[0..255].[1..3]*-5", "127.1.9.1", ANSWER_FILTERED, -5, -5 },
  { "list.dnswl.org=127.0.[0..255].[1..3]*5", "127.0.200.3", ANSWER_LISTED, 5, -5 },
  { "b.example=127.0.0.[2;4;6..8]", "127.0.0.4", ANSWER_LISTED, 1, -1 },
  { "b.example=127.0.0.[2;4;6..8]", "127.0.0.7", ANSWER_LISTED, 1, -1 },
  { "b.example=127.0.0.[2;4;6..8]", "127.0.0.5", ANSWER_FILTERED, 1, -1 },
  { "b.example=127.0.0.2", "127.0.0.2", ANSWER_LISTED, 1, -1 },
  { "b.example=127.0.0.2", "127.0.0.3", ANSWER_FILTERED, 1, -1 },
  /* a filter cannot make a fault count */
  { "b.example=[0..255].[0..255].[0..255].[0..255]", "192.0.2.1", ANSWER_FAULT, 1, -1 },
  { "b.example*+7", "127.0.0.2", ANSWER_LISTED, 7, -7 },
  { "b.example*0", "127.0.0.2", ANSWER_LISTED, 0, 0 },
  { "b.example*1000", "127.0.0.2", ANSWER_LISTED, 1000, -1000 },
  { "b.example*-1000", "127.0.0.2", ANSWER_LISTED, -1000, -1000 },
  { "dnsbl_1.Example-Zone.ORG", "127.0.0.2", ANSWER_LISTED, 1, -1 },
} ;

static struct { char const *spec ; char const *why ; } const bad[] =
{
  { "", "empty zone name" },
  { ".", "empty zone name" },
  { "=127.0.0.2", "empty zone name" },
  { "*3", "empty zone name" },
  { ".zen.example", "empty label" },
  { "zen..example", "empty label" },
  { "zen.example..", "empty label" },      /* one trailing dot is allowed, not two */
  { "zen example", "character other than" },
  { "zen.example/24", "character other than" },
  { "zen.example;rm", "character other than" },
  { "zen.example=127.0.0", "four octets" },
  { "zen.example=127.0.0.2.5", "garbage after" },
  { "zen.example=127.0.0.256", "not a number 0..255" },
  { "zen.example=127.0.0.[2..]", "range end" },
  { "zen.example=127.0.0.[11..2]", "backwards" },
  { "zen.example=127.0.0.[2;]", "list item" },
  { "zen.example=127.0.0.[2", "not closed" },
  { "zen.example=127.0.0.x", "not a number 0..255 or a [list]" },
  { "zen.example=", "not a number 0..255 or a [list]" },
  { "zen.example*", "not a whole number" },
  { "zen.example*x", "not a whole number" },
  { "zen.example*1001", "beyond -1000..1000" },
  { "zen.example*-99999999999", "beyond -1000..1000" },
  { "zen.example*3x", "garbage after" },
  { "zen.example*3=127.0.0.2", "garbage after" },
} ;

static int parse_answer (char const *s, unsigned char *a)
{
  unsigned int b[4] ;
  int i ;
  if (sscanf(s, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) != 4) return 0 ;
  for (i = 0 ; i < 4 ; i++) a[i] = (unsigned char)b[i] ;
  return 1 ;
}

int main (void)
{
  char name[512] ;
  size_t i ;
  for (i = 0 ; i < sizeof good / sizeof *good ; i++)
  {
    zonespec z ;
    char const *why = "" ;
    unsigned char a[4] ;
    int ok = zonespec_parse(good[i].spec, &z, &why) && parse_answer(good[i].answer, a) ;
    snprintf(name, sizeof name, "%s answers %s: %s, %+d points (%+d as allow-list)", good[i].spec, good[i].answer,
      good[i].want == ANSWER_LISTED ? "listed" : good[i].want == ANSWER_FILTERED ? "filtered" : "fault",
      good[i].points, good[i].allow_points) ;
    tap_ok(ok && zonespec_verdict(&z, a) == good[i].want
       && zonespec_points(&z, 0) == good[i].points && zonespec_points(&z, 1) == good[i].allow_points, name) ;
  }
  {
    zonespec z ;
    char const *why ;
    tap_ok(zonespec_parse("Zen.Spamhaus.org.=127.0.0.2*3", &z, &why) && !strcmp(z.name, "Zen.Spamhaus.org"), "the name is kept without its trailing dot") ;
  }
  {
    char longname[300] ;
    zonespec z ;
    char const *why = "" ;
    memset(longname, 'a', sizeof longname - 1) ;
    longname[sizeof longname - 1] = 0 ;
    tap_ok(!zonespec_parse(longname, &z, &why) && strstr(why, "longer than 253"), "a 299-character zone name is refused") ;
  }
  for (i = 0 ; i < sizeof bad / sizeof *bad ; i++)
  {
    zonespec z ;
    char const *why = "" ;
    int r = zonespec_parse(bad[i].spec, &z, &why) ;
    snprintf(name, sizeof name, "refused: \"%s\" (%s)", bad[i].spec, bad[i].why) ;
    tap_ok(!r && strstr(why, bad[i].why), name) ;
  }
  return tap_done() ;
}
