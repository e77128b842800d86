/* mx_rbl: see mx_rbl.h. */
#include "mx_rbl.h"

#include <string.h>

#include <skalibs/types.h>

#include "mx_text.h"

void mx_rbl_init (mx_rbl *r)
{
  r->n = 0 ;
  r->threshold = 1 ;
  r->allow_threshold = -1 ;
  r->permanent = 0 ;
  r->late = 0 ;
  r->template = MX_RBL_TEMPLATE ;
}

int mx_rbl_add (mx_rbl *r, char const *spec, int allow, char const **why)
{
  if (r->n >= MX_RBL_ZONES) { *why = "too many zones (at most 32)" ; return 0 ; }
  if (!zonespec_parse(spec, &r->zone[r->n], why)) return 0 ;
  r->allow[r->n++] = !!allow ;
  return 1 ;
}

int mx_rbl_score_scan (char const *s, int *v)
{
  int neg = *s == '-' ;
  unsigned int u ;
  if (neg || *s == '+') s++ ;
  if (!uint0_scan(s, &u) || u > 100000) return 0 ;
  *v = neg ? -(int)u : (int)u ;
  return 1 ;
}

void mx_rbl_qname (mx_rbl const *r, unsigned int i, ip46 const *ip, char *buf)
{
  static char const hex[] = "0123456789abcdef" ;
  size_t n = 0, z = strlen(r->zone[i].name) ;
  int k ;
  if (ip46_is6(ip))
    for (k = 15 ; k >= 0 ; k--)
    {
      unsigned char b = (unsigned char)ip->ip[k] ;
      buf[n++] = hex[b & 15] ; buf[n++] = '.' ;
      buf[n++] = hex[b >> 4] ; buf[n++] = '.' ;
    }
  else
    for (k = 3 ; k >= 0 ; k--)
    {
      n += uint_fmt(buf + n, (unsigned char)ip->ip[k]) ;
      buf[n++] = '.' ;
    }
  memcpy(buf + n, r->zone[i].name, z + 1) ;
}

int mx_rbl_listed (mx_rbl const *r, unsigned int i, unsigned char const (*a)[4], unsigned int na, int *fault)
{
  unsigned int k ;
  int listed = 0 ;
  *fault = -1 ;
  for (k = 0 ; k < na ; k++)
    switch (zonespec_verdict(&r->zone[i], a[k]))
    {
      case ANSWER_LISTED : listed = 1 ; break ;
      case ANSWER_FILTERED : break ;
      case ANSWER_FAULT : if (*fault < 0) *fault = (int)k ; break ;
    }
  return listed ;
}

int mx_rbl_score (mx_rbl const *r, uint32_t listed)
{
  unsigned int i ;
  int score = 0 ;
  for (i = 0 ; i < r->n ; i++)
    if (listed & ((uint32_t)1 << i)) score += zonespec_points(&r->zone[i], r->allow[i]) ;
  return score ;
}

int mx_rbl_could_add (mx_rbl const *r, uint32_t pending)
{
  unsigned int i ;
  int add = 0 ;
  for (i = 0 ; i < r->n ; i++)
    if (pending & ((uint32_t)1 << i))
    {
      int p = zonespec_points(&r->zone[i], r->allow[i]) ;
      if (p > 0) add += p ;
    }
  return add ;
}

int mx_rbl_heaviest (mx_rbl const *r, uint32_t listed)
{
  unsigned int i ;
  int h = -1 ;
  for (i = 0 ; i < r->n ; i++)
    if ((listed & ((uint32_t)1 << i)) && !r->allow[i] && (h < 0 || r->zone[i].weight > r->zone[h].weight)) h = (int)i ;
  return h ;
}

enum mx_rbl_result mx_rbl_decide (mx_rbl const *r, uint32_t listed)
{
  int score = mx_rbl_score(r, listed) ;
  if (score >= r->threshold && mx_rbl_heaviest(r, listed) >= 0) return r->late ? MX_RBL_LATE : MX_RBL_REFUSED ;
  if (score <= r->allow_threshold) return MX_RBL_ALLOWED ;
  return MX_RBL_CLEAN ;
}

char const *mx_rbl_word (enum mx_rbl_result v)
{
  static char const *const word[] = { "clean", "refused", "late", "allowed" } ;
  return word[v] ;
}

int mx_rbl_lists (mx_rbl const *r, uint32_t listed, stralloc *sa)
{
  unsigned int i ;
  int first = 1 ;
  for (i = 0 ; i < r->n ; i++)
    if (listed & ((uint32_t)1 << i))
    {
      if (!first && !stralloc_catb(sa, ",", 1)) return 0 ;
      if (!stralloc_cats(sa, r->zone[i].name)) return 0 ;
      first = 0 ;
    }
  return 1 ;
}

/* s without its leading dashes, or 0 if nothing but blanks is left.
   A leading - would make rblsmtpd answer 553: only -p may. A text of
   nothing would leave RBLSMTPD empty, which rblsmtpd takes for "accept
   the client", and one of blanks refuses with nothing to say: a listing
   must never turn into an acceptance, so the caller falls back to a
   template. */
static char const *undash (char const *s)
{
  char const *x ;
  while (*s == '-') s++ ;
  for (x = s ; *x == ' ' || *x == '\t' ; x++) ;
  return *x ? s : 0 ;
}

/* template with %IP% and %ZONE% filled in */
static int fill_template (stralloc *out, char const *t, char const *ipt, char const *zonename)
{
  while (*t)
  {
    if (!strncmp(t, "%IP%", 4)) { if (!stralloc_cats(out, ipt)) return 0 ; t += 4 ; }
    else if (!strncmp(t, "%ZONE%", 6)) { if (!stralloc_cats(out, zonename)) return 0 ; t += 6 ; }
    else if (!stralloc_catb(out, t++, 1)) return 0 ;
  }
  return 1 ;
}

int mx_rbl_env (mx_rbl const *r, uint32_t listed, char const *txt, size_t txtlen, char const *ipt, int dryrun, stralloc *modif, enum mx_rbl_result *result)
{
  char scorestr[INT_FMT] ;
  scorestr[int_fmt(scorestr, mx_rbl_score(r, listed))] = 0 ;
  *result = mx_rbl_decide(r, listed) ;
  if (!stralloc_cats(modif, "RBLSCORE=") || !stralloc_cats(modif, scorestr) || !stralloc_0(modif)
   || !stralloc_cats(modif, "RBLLISTS=") || !mx_rbl_lists(r, listed, modif) || !stralloc_0(modif)) return 0 ;
  if (dryrun) return 1 ;
  if (*result == MX_RBL_REFUSED || *result == MX_RBL_LATE)
  {
    int h = mx_rbl_heaviest(r, listed) ;
    char safe[MX_RBL_TXT_MAX + 1] ;
    char const *x = 0 ;
    if (!stralloc_cats(modif, *result == MX_RBL_LATE ? "RBLLATE=" : "RBLSMTPD=")) return 0 ;
    if (r->permanent && !stralloc_catb(modif, "-", 1)) return 0 ;
    if (txt && txtlen)
    {
      mx_text_safe(safe, MX_RBL_TXT_MAX, txt, txtlen) ;
      x = undash(safe) ;
    }
    if (x) { if (!stralloc_cats(modif, x)) return 0 ; }
    else
    {
      char const *m = undash(r->template) ;
      if (!fill_template(modif, m ? m : MX_RBL_TEMPLATE, ipt, r->zone[h].name)) return 0 ;
    }
    return stralloc_0(modif) ;
  }
  if (*result == MX_RBL_ALLOWED) return stralloc_cats(modif, "RBLSMTPD=") && stralloc_0(modif) ;
  return 1 ;
}
