/* greylist: see greylist.h. */
#include "greylist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skalibs/djbunix.h>
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
    g->cause = rdns || dnsbl ;
    /* without a cause of the client's own, SPF may still give one, per transaction */
    if (!g->cause && !(g->only & GREY_ONLY_SPF)) g->skip = "unselected" ;
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
  if (IS("spfallow")) { if (!*eq) return 0 ; g->spfallow = eq ; return 1 ; }
  if (IS("dnswl")) return mx_rbl_score_scan(eq, &g->dnswl) ;
  if (IS("only"))
  {
    g->only = 0 ;
    while (*eq)
    {
      size_t k = strcspn(eq, "+,") ;
      if (k == 4 && !memcmp(eq, "rdns", 4)) g->only |= GREY_ONLY_RDNS ;
      else if (k == 5 && !memcmp(eq, "dnsbl", 5)) g->only |= GREY_ONLY_DNSBL ;
      else if (k == 3 && !memcmp(eq, "spf", 3)) g->only |= GREY_ONLY_SPF ;
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

/* the allow-list, read once a session: 1 usable, 0 not (warned once) */
static int allow_load (greylist *g, char const *ip)
{
  static char text[SPFALLOW_FILE_MAX + 1] ;
  ssize_t r ;
  long n ;
  unsigned int line = 0 ;
  char const *why = 0 ;
  if (g->allow_state) return g->allow_state > 0 ;
  g->allow_state = -1 ;
  r = openreadnclose(g->spfallow, text, SPFALLOW_FILE_MAX + 1) ;
  if (r < 0) { mx_warn(ip, "spfallow=", g->spfallow, " error=unable to read: ", strerror(errno)) ; return 0 ; }
  if (r > SPFALLOW_FILE_MAX) { mx_warn(ip, "spfallow=", g->spfallow, " error=larger than 65536 bytes") ; return 0 ; }
  n = spfallow_parse(text, (size_t)r, g->allow, sizeof g->allow, &line, &why) ;
  if (n < 0)
  {
    char l[UINT_FMT] ;
    l[uint_fmt(l, line)] = 0 ;
    mx_warn(ip, "spfallow=", g->spfallow, " error=line ", l, why) ;
    return 0 ;
  }
  g->allowlen = (size_t)n ;
  g->allow_state = 1 ;
  return 1 ;
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
  {
    int pass = e->spf.result == 1 + (int)MX_SPF_PASS ;
    if (pass && g->spfallow && e->spf.domain[0] && allow_load(g, e->ip) && spfallow_match(g->allow, g->allowlen, e->spf.domain))
    { *word = "spf-allow" ; return 0 ; }
    if (g->only && !g->cause && (!(g->only & GREY_ONLY_SPF) || pass)) { *word = "unselected" ; return 0 ; }
  }
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
