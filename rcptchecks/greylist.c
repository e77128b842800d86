/* greylist: see greylist.h. */
#include "greylist.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "mx_log.h"
#include "mx_rbl.h"

extern char const *PROG ;

void greylist_client (greylist *g, ip46 const *ip)
{
  char const *score = getenv("RBLSCORE"), *cls = getenv("SMTPDELAY_CLASS") ;
  int s = 0, have = score && *score && mx_rbl_score_scan(score, &s) ;
  greystore_net(g->net, ip, g->v4, g->v6) ;
  g->skip = 0 ;
  if (have && s <= g->dnswl) { g->skip = "dnswl" ; return ; }
  if (g->only)
  {
    int rdns = (g->only & GREY_ONLY_RDNS) && cls && (!strcmp(cls, "none") || !strcmp(cls, "dynamic")) ;
    int dnsbl = (g->only & GREY_ONLY_DNSBL) && have && s > 0 ;
    if (!rdns && !dnsbl) g->skip = "unselected" ;
  }
}

static int num (char const *s, uint64_t max, uint64_t *v)
{
  uint64_t u ;
  size_t n = uint64_scan(s, &u) ;
  if (!n || s[n] || u > max) return 0 ;
  *v = u ;
  return 1 ;
}

int greylist_option (greylist *g, char const *s)
{
  char const *eq = strchr(s, '=') ;
  size_t n = eq ? (size_t)(eq - s) : 0 ;
  uint64_t v ;
  if (!eq) return 0 ;
  eq++ ;
#define IS(w) (n == sizeof w - 1 && !memcmp(s, w, n))
  if (IS("window")) return num(eq, 365 * 86400, &g->conf.window) ;
  if (IS("lifetime")) return num(eq, 3650 * 86400, &g->conf.lifetime) ;
  if (IS("autoallow")) { if (!num(eq, 1000000, &v)) return 0 ; g->conf.autoallow = (unsigned int)v ; return 1 ; }
  if (IS("ipv4")) { if (!num(eq, 32, &v)) return 0 ; g->v4 = (unsigned int)v ; return 1 ; }
  if (IS("ipv6")) { if (!num(eq, 128, &v)) return 0 ; g->v6 = (unsigned int)v ; return 1 ; }
  if (IS("dnswl")) return mx_rbl_score_scan(eq, &g->dnswl) ;
  if (IS("only"))
  {
    g->only = 0 ;
    while (*eq)
    {
      size_t k = strcspn(eq, "+,") ;
      if (k == 4 && !memcmp(eq, "rdns", 4)) g->only |= GREY_ONLY_RDNS ;
      else if (k == 5 && !memcmp(eq, "dnsbl", 5)) g->only |= GREY_ONLY_DNSBL ;
      else if (k == 3 && !memcmp(eq, "all", 3)) g->only = 0 ;
      else return 0 ;
      eq += k ;
      if (*eq) eq++ ;
    }
    return 1 ;
  }
#undef IS
  return 0 ;
}

int greylist_rcpt (void *gv, envelope const *e, char const *rcpt, char *reply, size_t *replylen, char const **word)
{
  greylist *g = gv ;
  char snd[GREY_FIELD_MAX + 1], r[GREY_FIELD_MAX + 1] ;
  greyrec rec = { 0, 0, 0 } ;
  enum grey_verdict v ;
  uint64_t now = (uint64_t)time(0), wait ;
  if (g->skip) { *word = g->skip ; return 0 ; }
  if (e->sender_ok) { *word = "sender-ok" ; return 0 ; }
  greystore_sender(snd, e->greysender) ;
  greystore_field(r, rcpt, strlen(rcpt), 1) ;
  v = greystore_check(&g->store, &g->conf, now, g->net, snd, r, &rec) ;
  *word = greystore_word(v) ;
  if (v == GREY_ERROR)
  {
    /* once per session: the reason, then greylist=error on each line */
    if (!g->store_failed)
      mx_warn(e->ip, "greylist-store=", greystore_kind(&g->store), " error=", g->store.err) ;
    g->store_failed = 1 ;
    return 0 ;
  }
  if (v != GREY_NEW && v != GREY_EARLY) return 0 ;
  if (g->warn) return -1 ;
  wait = rec.first + g->conf.delay > now ? rec.first + g->conf.delay - now : 0 ;
  {
    char n[UINT64_FMT] ;
    size_t l ;
    n[uint64_fmt(n, wait)] = 0 ;
    memcpy(reply, "451 4.7.1 Greylisted: please try again in ", 42) ; l = 42 ;
    memcpy(reply + l, n, strlen(n)) ; l += strlen(n) ;
    memcpy(reply + l, " seconds\r\n", 10) ; l += 10 ;
    *replylen = l ;
  }
  return 1 ;
}
