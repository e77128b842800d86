/* rbl-test: the DNSBL/DNSWL scoring rblenv and smtp-screen share
   (common/mx_rbl.h), table-driven in the zone=filter*weight syntax
   users type: which zones list, the score, the verdict against the
   thresholds, the heaviest listing, the query names, and the
   environment (RBLSCORE, RBLLISTS, RBLSMTPD or RBLLATE, the text). */
#include <stdio.h>
#include <string.h>

#include <skalibs/stralloc.h>

#include "mx_rbl.h"
#include "tap.h"

static mx_rbl r ;

static void zones (void)
{
  char const *why ;
  mx_rbl_init(&r) ;
  tap_ok(mx_rbl_add(&r, "zen.example=127.0.0.[2..11]*3", 0, &why), "zen.example=127.0.0.[2..11]*3 added") ;
  tap_ok(mx_rbl_add(&r, "bl.example*2", 0, &why), "bl.example*2 added") ;
  tap_ok(mx_rbl_add(&r, "wl.example*-5", 1, &why), "wl.example*-5 added as an allow-list") ;
  tap_ok(mx_rbl_add(&r, "bad.example", 0, &why), "bad.example added") ;
}

/* the environment items as one line, NULs as '|' */
static void env (uint32_t listed, char const *txt, int dry, char *out, size_t max, enum mx_rbl_result *v)
{
  stralloc sa = STRALLOC_ZERO ;
  size_t i ;
  if (!mx_rbl_env(&r, listed, txt, txt ? strlen(txt) : 0, "192.0.2.7", dry, &sa, v)) { strcpy(out, "(no memory)") ; return ; }
  for (i = 0 ; i < sa.len && i + 1 < max ; i++) out[i] = sa.s[i] ? sa.s[i] : '|' ;
  out[i] = 0 ;
  stralloc_free(&sa) ;
}

int main (void)
{
  static struct { uint32_t listed ; int score ; enum mx_rbl_result v ; int heaviest ; } const t[] =
  {
    { 0, 0, MX_RBL_CLEAN, -1 },
    { 1, 3, MX_RBL_REFUSED, 0 },
    { 2, 2, MX_RBL_REFUSED, 1 },
    { 3, 5, MX_RBL_REFUSED, 0 },
    { 4, -5, MX_RBL_ALLOWED, -1 },
    { 5, -2, MX_RBL_ALLOWED, 0 },    /* listed and allow-listed: allowed */
    { 8, 1, MX_RBL_REFUSED, 3 },
    { 12, -4, MX_RBL_ALLOWED, 3 },
  } ;
  unsigned char a[3][4] = { { 127, 0, 0, 2 }, { 127, 0, 0, 12 }, { 127, 255, 255, 254 } } ;
  char buf[512] ;
  enum mx_rbl_result v ;
  unsigned int i ;
  int fault ;
  ip46 ip ;

  zones() ;
  for (i = 0 ; i < sizeof t / sizeof *t ; i++)
  {
    char name[64] ;
    snprintf(name, sizeof name, "listed %u: score %d", (unsigned int)t[i].listed, t[i].score) ;
    tap_ok(mx_rbl_score(&r, t[i].listed) == t[i].score, name) ;
    snprintf(name, sizeof name, "listed %u: verdict %s", (unsigned int)t[i].listed, mx_rbl_word(t[i].v)) ;
    tap_ok(mx_rbl_decide(&r, t[i].listed) == t[i].v, name) ;
    snprintf(name, sizeof name, "listed %u: heaviest %d", (unsigned int)t[i].listed, t[i].heaviest) ;
    tap_ok(mx_rbl_heaviest(&r, t[i].listed) == t[i].heaviest, name) ;
  }
  tap_ok(mx_rbl_could_add(&r, 0xf) == 6, "the most the zones not answered could add: 3 + 2 + 1, the allow-list none") ;

  tap_ok(mx_rbl_listed(&r, 0, a, 1, &fault) && fault < 0, "127.0.0.2 in zen's filter: listed") ;
  tap_ok(!mx_rbl_listed(&r, 0, a + 1, 1, &fault) && fault < 0, "127.0.0.12 outside zen's filter: not listed, no fault") ;
  tap_ok(!mx_rbl_listed(&r, 3, a + 2, 1, &fault) && fault == 0, "127.255.255.254: a fault, never a listing") ;
  tap_ok(mx_rbl_listed(&r, 3, a, 3, &fault) && fault == 2, "a listing beside a fault: listed, the fault named") ;

  ip46_from_ip4(&ip, "\300\000\002\007") ;
  mx_rbl_qname(&r, 0, &ip, buf) ;
  tap_ok(!strcmp(buf, "7.2.0.192.zen.example"), "IPv4 query name: reversed octets") ;
  ip46_from_ip6(&ip, "\040\001\015\270\000\000\000\000\000\000\000\000\000\000\000\001") ;
  mx_rbl_qname(&r, 1, &ip, buf) ;
  tap_ok(!strcmp(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example"), "IPv6 query name: nibbles") ;

  env(0, 0, 0, buf, sizeof buf, &v) ;
  tap_ok(!strcmp(buf, "RBLSCORE=0|RBLLISTS=|") && v == MX_RBL_CLEAN, "clean: RBLSCORE and RBLLISTS only") ;
  env(3, "zen says no", 0, buf, sizeof buf, &v) ;
  tap_ok(!strcmp(buf, "RBLSCORE=5|RBLLISTS=zen.example,bl.example|RBLSMTPD=zen says no|"), "refused: the heaviest's TXT") ;
  env(2, 0, 0, buf, sizeof buf, &v) ;
  tap_ok(!strcmp(buf, "RBLSCORE=2|RBLLISTS=bl.example|RBLSMTPD=Client address 192.0.2.7 is listed by bl.example|"), "refused without a TXT: the template") ;
  env(1, "---", 0, buf, sizeof buf, &v) ;
  tap_ok(!strcmp(buf, "RBLSCORE=3|RBLLISTS=zen.example|RBLSMTPD=Client address 192.0.2.7 is listed by zen.example|"), "a TXT of dashes: the template, never an empty RBLSMTPD") ;
  env(5, 0, 0, buf, sizeof buf, &v) ;
  tap_ok(!strcmp(buf, "RBLSCORE=-2|RBLLISTS=zen.example,wl.example|RBLSMTPD=|") && v == MX_RBL_ALLOWED, "allowed: RBLSMTPD empty") ;
  env(1, "x", 1, buf, sizeof buf, &v) ;
  tap_ok(!strcmp(buf, "RBLSCORE=3|RBLLISTS=zen.example|") && v == MX_RBL_REFUSED, "dry run: the verdict, no RBLSMTPD") ;
  r.permanent = 1 ; r.late = 1 ;
  env(1, "-listed", 0, buf, sizeof buf, &v) ;
  tap_ok(!strcmp(buf, "RBLSCORE=3|RBLLISTS=zen.example|RBLLATE=-listed|") && v == MX_RBL_LATE, "late and permanent: RBLLATE, one leading dash") ;
  return tap_done() ;
}
