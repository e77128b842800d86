/* lookup: the DNS tests of the greeting wait, through the one non-
 * blocking engine (common/mx_dnsq.h) the listener's loop runs:
 *
 *   rdns   a forward-confirmed PTR (the rule of smtp-delay -l), classed
 *          by smtp-delay's classifier (common/mx_classify.h): the class
 *          picks the client's wait. No answer within the wait of class
 *          none (or the DNS deadline when no wait is run): class none.
 *   dnsbl  every zone of -r and -a asked at once for an A record, a
 *          blocklist that lists asked then for its TXT; scored as
 *          rblenv scores (common/mx_rbl.h). A zone that does not answer
 *          by the DNS deadline (-t, else the longest wait) counts as
 *          not listed; an answer outside 127/8 or in 127.255.255/24 is
 *          a configuration fault, logged, never a listing.
 *
 * A lookup's tag names the client's slot, the low 24 bits of its
 * generation and the zone (0xff: the PTR): an answer for a client that
 * has moved on, or whose slot was taken again, is dropped. The ids of
 * a client's lookups still out are kept (qid), so that they are
 * cancelled when the wait ends or the client goes: the engine, bounded
 * to what the clients held can ask, is never filled by clients gone (a
 * submission it refuses counts as a lookup that failed).
 */
#include <stdlib.h>
#include <string.h>

#include <skalibs/types.h>

#include "mx_log.h"
#include "mx_secs.h"
#include "slots.h"

#define ZONE_PTR 0xffu
#define FAULT_TEXT " reason=configuration fault: an answer outside 127.0.0.0/8 or a query-refused code never counts"

uint64_t dns_tag (client const *c, unsigned int zone)
{
  return ((uint64_t)(c->gen & 0xffffff) << 40) | ((uint64_t)(zone & 0xff) << 32) | (uint64_t)(uint32_t)(c - S.c) ;
}

static client *of_tag (uint64_t tag, unsigned int *zone)
{
  uint32_t i = (uint32_t)tag ;
  client *c ;
  if (i >= S.nslots) return 0 ;
  c = S.c + i ;
  if (c->state != ST_WAIT || (c->gen & 0xffffff) != (uint32_t)(tag >> 40)) return 0 ;
  *zone = (unsigned int)(tag >> 32) & 0xff ;
  return c ;
}

static unsigned int dns_ms (void)
{
  return S.cf.dns_ms ? S.cf.dns_ms : S.cf.maxwait ? S.cf.maxwait : 3000 ;
}

long long lookup_deadline (client const *c)
{
  return c->wait_start + dns_ms() ;
}

static long long ptr_deadline (client const *c)
{
  unsigned int w = S.cf.waits[CLASS_NONE] ;
  return c->wait_start + ((c->need & NEED_PREGREET) && w ? w : dns_ms()) ;
}

/* qid's room, once: 1 + 2 * zones ids */
static uint64_t *ids (client *c)
{
  if (!c->qid) c->qid = calloc(1 + 2 * S.cf.rbl.n, sizeof *c->qid) ;
  return c->qid ;
}

void lookups_cancel (client *c)
{
  unsigned int i ;
  if (!c->qid) return ;
  for (i = 0 ; i < 1 + 2 * S.cf.rbl.n ; i++) if (c->qid[i]) mx_dns_q_cancel(S.dq, c->qid[i]) ;
  free(c->qid) ;
  c->qid = 0 ;
}

void rdns_class (client *c, enum rdns_class k)
{
  c->cls = k ;
  c->cls_known = 1 ;
  c->wait_ms = c->rule_wait ? c->rule_wait - 1 : S.cf.waits[k] ;
}

void rdns_start (client *c)
{
  uint64_t *q ;
  if (!(c->need & NEED_RDNS)) return ;
  q = S.dq ? ids(c) : 0 ;
  if (q && (q[0] = mx_dns_q_fcrdns(S.dq, c->ip.ip, ip46_is6(&c->ip), dns_tag(c, ZONE_PTR), mx_now_ms(), ptr_deadline(c))))
    c->ptr_pending = 1 ;
  else rdns_class(c, CLASS_NONE) ;
}

void rdns_answer (client *c, mx_dns_q_result const *r)
{
  if (!c->ptr_pending) return ;
  c->ptr_pending = 0 ;
  c->qid[0] = 0 ;
  if (r->fcrdns > 0)
  {
    size_t n = strlen(r->name) ;
    c->host = malloc(n + 1) ;
    if (c->host) memcpy(c->host, r->name, n + 1) ;
    c->ptr_answered = 1 ;
    c->ptr_ttl = r->ttl ;
    rdns_class(c, classify(&S.cf.pats, r->name, &c->ip, 0)) ;
  }
  else
  {
    c->ptr_answered = r->fcrdns == 0 ;
    c->ptr_ttl = r->ttl ;
    rdns_class(c, CLASS_NONE) ;
  }
}

void dnsbl_start (client *c)
{
  unsigned int i ;
  long long now = mx_now_ms(), deadline = lookup_deadline(c) ;
  uint64_t *q ;
  if (!(c->need & NEED_DNSBL)) return ;
  q = S.dq ? ids(c) : 0 ;
  c->rbl_txtzone = -1 ;
  c->rbl_ttl = UINT32_MAX ;
  for (i = 0 ; i < S.cf.rbl.n ; i++)
  {
    char name[MX_RBL_QNAME] ;
    mx_rbl_qname(&S.cf.rbl, i, &c->ip, name) ;
    if (q && (q[1 + i] = mx_dns_q_lookup(S.dq, MX_DNS_Q_A, name, dns_tag(c, i), now, deadline))) c->rbl_pending |= (uint32_t)1 << i ;
    else c->rbl_faults++ ;
  }
  if (!c->rbl_pending) c->rbl_done = 1 ;
}

/* zone a's TXT is worth more than zone b's: heavier, or as heavy and
   first (mx_rbl_heaviest's choice) */
static int heavier (unsigned int a, int b)
{
  return b < 0 || S.cf.rbl.zone[a].weight > S.cf.rbl.zone[b].weight
    || (S.cf.rbl.zone[a].weight == S.cf.rbl.zone[b].weight && (int)a < b) ;
}

void dnsbl_answer (client *c, unsigned int zone, mx_dns_q_result const *r)
{
  uint32_t bit = (uint32_t)1 << zone ;
  if (zone >= S.cf.rbl.n) return ;
  if (r->kind == MX_DNS_Q_A)
  {
    int fault ;
    if (!(c->rbl_pending & bit)) return ;
    c->rbl_pending &= ~bit ;
    c->qid[1 + zone] = 0 ;
    if (r->status != MX_DNS_Q_ANSWERED) c->rbl_faults++ ;
    else
    {
      if (mx_rbl_listed(&S.cf.rbl, zone, (unsigned char const (*)[4])r->a, r->na, &fault))
      {
        c->rbl_listed |= bit ;
        if (!S.cf.rbl.allow[zone])
        {
          char name[MX_RBL_QNAME] ;
          mx_rbl_qname(&S.cf.rbl, zone, &c->ip, name) ;
          if ((c->qid[1 + S.cf.rbl.n + zone] = mx_dns_q_lookup(S.dq, MX_DNS_Q_TXT, name, dns_tag(c, zone), mx_now_ms(), lookup_deadline(c)))) c->txt_pending |= bit ;
        }
      }
      if (fault >= 0)
      {
        char a[IP4_FMT] ;
        a[ip4_fmt(a, (char const *)r->a[fault])] = 0 ;
        mx_warn(c->iptext, "zone=", S.cf.rbl.zone[zone].name, " answer=", a, FAULT_TEXT) ;
      }
      if (r->ttl && r->ttl < c->rbl_ttl) c->rbl_ttl = r->ttl ;
      if (!r->ttl) c->rbl_ttl_unknown = 1 ;
    }
  }
  else if (r->kind == MX_DNS_Q_TXT)
  {
    if (!(c->txt_pending & bit)) return ;
    c->txt_pending &= ~bit ;
    c->qid[1 + S.cf.rbl.n + zone] = 0 ;
    if (r->status == MX_DNS_Q_ANSWERED && r->txtlen && heavier(zone, c->rbl_txtzone))
    {
      char *t = realloc(c->rbltxt, r->txtlen) ;
      if (t)
      {
        memcpy(t, r->txt, r->txtlen) ;
        c->rbltxt = t ; c->rbltxtlen = r->txtlen ; c->rbl_txtzone = (int8_t)zone ;
      }
    }
  }
  if (!c->rbl_pending && !c->txt_pending) c->rbl_done = 1 ;
}

/* the DNSBL test ends: what is still out counts as not answered */
void dnsbl_end (client *c)
{
  unsigned int i ;
  if (!(c->need & NEED_DNSBL) || c->rbl_done) return ;
  for (i = 0 ; i < S.cf.rbl.n ; i++) if (c->rbl_pending & ((uint32_t)1 << i)) c->rbl_faults++ ;
  c->rbl_pending = c->txt_pending = 0 ;
  c->rbl_done = 1 ;
}

void rdns_end (client *c)
{
  if (!c->cls_known) { c->ptr_pending = 0 ; rdns_class(c, CLASS_NONE) ; }
}

void dns_results (void)
{
  mx_dns_q_result r ;
  if (!S.dq) return ;
  mx_dns_q_run(S.dq, mx_now_ms()) ;
  while (mx_dns_q_next(S.dq, &r))
  {
    unsigned int zone ;
    client *c = of_tag(r.tag, &zone) ;
    if (!c) continue ;
    if (zone == ZONE_PTR) rdns_answer(c, &r) ;
    else dnsbl_answer(c, zone, &r) ;
    wait_update(c) ;
  }
}
