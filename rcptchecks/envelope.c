/* envelope: see envelope.h. The MAIL stage and the command stage are
 * tables: each entry is one check family (its own file where it parses:
 * helo.c, sender.c), run in order until one refuses.
 */
#include "envelope.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <skalibs/cdb.h>
#include <skalibs/strerr.h>

#include "helo.h"
#include "mx_dns.h"
#include "mx_log.h"
#include "mx_text.h"
#include "senderline.h"

extern char const *PROG ;

static char const *const names[ENV_NCHECKS] =
{
  "sender-access", "helo-syntax", "helo-fqdn", "helo-literal", "sender-fqdn",
  "sender-domain", "rhsbl", "spf", "pipelining", "nonsmtp", "greylist"
} ;

int envelope_modes (envelope *e, char const *list, enum envelope_mode m)
{
  while (*list)
  {
    size_t n = strcspn(list, ",") ;
    unsigned int i ;
    if (n == 3 && !memcmp(list, "all", 3))
      for (i = 0 ; i < ENV_NCHECKS ; i++) { if (i != ENV_SPF && i != ENV_GREYLIST && (m == ENV_WARN || (i != ENV_ACCESS && i != ENV_RHSBL))) e->mode[i] = (unsigned char)m ; }
    else
    {
      for (i = 0 ; i < ENV_NCHECKS ; i++) if (strlen(names[i]) == n && !memcmp(list, names[i], n)) break ;
      if (i == ENV_NCHECKS) return 0 ;
      e->mode[i] = (unsigned char)m ;
    }
    list += n ;
    if (*list) list++ ;
  }
  return 1 ;
}

/* text the client wrote, for a log line: no blank, '<' or '>' (they
   delimit the field) and nothing unprintable */
static void shown (char *dst, char const *s, size_t n)
{
  size_t w = mx_text_safe(dst, ENV_SHOWN_MAX, s, n), i ;
  for (i = 0 ; i < w ; i++) if (dst[i] == ' ' || dst[i] == '<' || dst[i] == '>') dst[i] = '?' ;
}

void envelope_reset (envelope *e)
{
  e->from[0] = 0 ;
  e->sender_ok = 0 ;
  e->in_transaction = 0 ;
  e->smtputf8 = 0 ;
  spf_reset(&e->spf) ;
}

void envelope_helo (envelope *e, char const *arg, size_t len)
{
  shown(e->helo, arg, len) ;
  e->helo_given = 1 ;
  e->helo_verdict = helo_judge(arg, len, &e->client) ;
  spf_helo(&e->spf, arg, len) ;
  envelope_reset(e) ;
}

/* what one check decided */
typedef struct verdict_s verdict ;
struct verdict_s
{
  char const *result ;     /* for the log: helo-invalid, sender-unknown, ... ; 0: passed */
  char const *code ;       /* "550 5.7.1" */
  char const *text ;       /* after the code */
  char const *detail ;     /* zone=..., or 0 */
  int check ;              /* the envelope_check that decided */
} ;

typedef struct mailctx_s mailctx ;
struct mailctx_s
{
  envelope *e ;
  enum sender_form form ;
  sender s ;
  char extra[ENV_SHOWN_MAX + 64] ;   /* REJECT text, zone name */
  char spfsender[2 * SENDER_MAX + 2] ;
  spf_verdict spfv ;
} ;

static int refuse (verdict *v, int check, char const *result, char const *code, char const *text)
{
  v->check = check ; v->result = result ; v->code = code ; v->text = text ;
  return 1 ;
}

/* the access list: a: the address, d: the domain, s: each parent */
static int check_access (mailctx *m, verdict *v)
{
  envelope *e = m->e ;
  cdb c = CDB_ZERO ;
  cdb_data d ;
  char const *dom = m->s.domain ;
  int r = 0 ;
  if (!e->mode[ENV_ACCESS] || !e->access || m->form == SENDER_NULL || m->form == SENDER_TOOLONG) return 0 ;
  if (!cdb_init(&c, e->access))
  {
    mx_warn(e->ip, "result=tempfail error=unable to open ", e->access, ": ", strerror(errno)) ;
    return refuse(v, ENV_ACCESS, "sender-tempfail", "451 4.3.0", "sender access list unavailable, try again later") ;
  }
  /* a recipient database given by mistake would match nothing, silently */
  if (cdb_find(&c, &d, "o:list", 6) != 1 || d.len != 7 || memcmp(d.s, "senders", 7))
  {
    cdb_free(&c) ;
    mx_warn(e->ip, "result=tempfail error=", e->access, " is not a sender access list (rcptchecks-make -s)") ;
    return refuse(v, ENV_ACCESS, "sender-tempfail", "451 4.3.0", "sender access list unavailable, try again later") ;
  }
  {
    static char keys[SENDERLINE_KEYS_MAX][SENDERLINE_KEY_MAX] ;
    unsigned int nk = senderline_keys(m->s.addr, dom, keys, SENDERLINE_KEYS_MAX), i ;
    for (i = 0 ; i < nk && !r ; i++) r = cdb_find(&c, &d, keys[i], (uint32_t)strlen(keys[i])) ;
  }
  if (r < 0) { cdb_free(&c) ; return refuse(v, ENV_ACCESS, "sender-tempfail", "451 4.3.0", "sender access list unreadable, try again later") ; }
  if (r == 1 && d.len >= 6 && !memcmp(d.s, "REJECT", 6))
  {
    /* the text is copied before the database is let go */
    size_t tl = d.len > 7 ? d.len - 7 : 0 ;
    if (tl > ENV_SHOWN_MAX) tl = ENV_SHOWN_MAX ;
    if (tl) mx_text_safe(m->extra, ENV_SHOWN_MAX, d.s + 7, tl) ;
    else strcpy(m->extra, "Access denied") ;
    cdb_free(&c) ;
    return refuse(v, ENV_ACCESS, "sender-rejected", "550 5.7.1", m->extra) ;
  }
  cdb_free(&c) ;
  if (r == 1)
  {
    /* OK: this transaction is lifted out of the rest of the table */
    e->sender_ok = e->mode[ENV_ACCESS] == ENV_ON ;
    mx_info(e->ip, "helo=<", e->helo, "> from=<", e->from, "> result=sender-ok", e->mode[ENV_ACCESS] == ENV_WARN ? " dryrun=1" : "") ;
    if (e->sender_ok) return -1 ;
  }
  return 0 ;
}

static int check_helo (mailctx *m, verdict *v)
{
  envelope *e = m->e ;
  if (!e->helo_given || e->sender_ok) return 0 ;
  switch (e->helo_verdict)
  {
    case HELO_INVALID :
      if (e->mode[ENV_HELO_SYNTAX]) return refuse(v, ENV_HELO_SYNTAX, "helo-invalid", "501 5.5.2", "Helo command rejected: Invalid name") ;
      break ;
    case HELO_NOT_FQDN :
      if (e->mode[ENV_HELO_FQDN]) return refuse(v, ENV_HELO_FQDN, "helo-not-fqdn", "504 5.5.2", "Helo command rejected: need fully-qualified hostname") ;
      break ;
    case HELO_NOT_CLIENT :
      if (e->mode[ENV_HELO_LITERAL]) return refuse(v, ENV_HELO_LITERAL, "helo-literal", "550 5.7.1", "Helo command rejected: address literal is not the client's address") ;
      break ;
  }
  return 0 ;
}

static int check_sender_form (mailctx *m, verdict *v)
{
  envelope *e = m->e ;
  if (m->form == SENDER_TOOLONG && (e->mode[ENV_ACCESS] || e->mode[ENV_SENDER_FQDN] || e->mode[ENV_SENDER_DOMAIN] || e->mode[ENV_RHSBL]))
    return refuse(v, e->mode[ENV_SENDER_FQDN] ? ENV_SENDER_FQDN : e->mode[ENV_SENDER_DOMAIN] ? ENV_SENDER_DOMAIN : e->mode[ENV_ACCESS] ? ENV_ACCESS : ENV_RHSBL,
      "sender-too-long", "553 5.1.7", "Sender address rejected: path longer than 256 bytes") ;
  if (!m->e->mode[ENV_SENDER_FQDN] || m->form != SENDER_NOT_FQDN || m->e->sender_ok) return 0 ;
  return refuse(v, ENV_SENDER_FQDN, "sender-not-fqdn", "553 5.1.7", "Sender address rejected: need fully-qualified address") ;
}

/* The sender domain and the RHSBL zones: every question at once. */
static int check_dns (mailctx *m, verdict *v)
{
  envelope *e = m->e ;
  mx_dns_query q[3 + ENV_ZONES_MAX] ;
  char names_[ENV_ZONES_MAX][2 * SENDER_MAX + 2] ;
  int domain = e->mode[ENV_SENDER_DOMAIN] && m->form == SENDER_DOMAIN ;
  int rhsbl = e->mode[ENV_RHSBL] && e->nzones && m->form == SENDER_DOMAIN ;
  if (e->sender_ok) return 0 ;
  size_t n = 0, z0 ;
  unsigned int i ;
  int score = 0 ;
  char const *listed_by = 0 ;
  if (!domain && !rhsbl) return 0 ;
  memset(q, 0, sizeof q) ;
  if (domain)
  {
    q[n].name = m->s.domain ; q[n++].type = MX_DNS_MX ;
    q[n].name = m->s.domain ; q[n++].type = MX_DNS_A ;
    q[n].name = m->s.domain ; q[n++].type = MX_DNS_AAAA ;
  }
  z0 = n ;
  if (rhsbl)
    for (i = 0 ; i < e->nzones ; i++)
    {
      size_t dl = strlen(m->s.domain), zl = strlen(e->zones[i].name) ;
      memcpy(names_[i], m->s.domain, dl) ;
      names_[i][dl] = '.' ;
      memcpy(names_[i] + dl + 1, e->zones[i].name, zl + 1) ;
      q[n].name = names_[i] ; q[n++].type = MX_DNS_A ;
    }
  if (mx_dns_all(q, n, e->dns_ms) < 0) for (i = 0 ; i < n ; i++) q[i].status = MX_DNS_FAILED ;

  if (rhsbl)
    for (i = 0 ; i < e->nzones ; i++)
    {
      mx_dns_query const *r = &q[z0 + i] ;
      int hit = 0 ;
      if (r->status != MX_DNS_ANSWERED) continue ;   /* a timeout is not a listing */
      for (unsigned int k = 0 ; k < r->na ; k++)
      {
        enum answer_verdict av = zonespec_verdict(&e->zones[i], r->a[k]) ;
        if (av == ANSWER_LISTED) hit = 1 ;
        else if (av == ANSWER_FAULT)
        {
          char a[16] ;
          a[ip4_fmt(a, (char const *)r->a[k])] = 0 ;
          mx_warn(e->ip, "zone=", e->zones[i].name, " answer=", a, " reason=configuration fault: an answer outside 127.0.0.0/8 or a query-refused code never counts") ;
        }
      }
      if (hit)
      {
        score += zonespec_points(&e->zones[i], 0) ;
        if (!listed_by) listed_by = e->zones[i].name ;
      }
    }
  if (domain)
  {
    mx_dns_query const *mx = &q[0], *a = &q[1], *aaaa = &q[2] ;
    /* NXDOMAIN only when no question found a record */
    int any = (mx->status == MX_DNS_ANSWERED && mx->na) || (a->status == MX_DNS_ANSWERED && a->na) || (aaaa->status == MX_DNS_ANSWERED && aaaa->na) ;
    int nx = !any && ((mx->status == MX_DNS_ANSWERED && mx->rcode == 3) || (a->status == MX_DNS_ANSWERED && a->rcode == 3)
      || (aaaa->status == MX_DNS_ANSWERED && aaaa->rcode == 3)) ;
    /* RFC 7505: a null MX is the domain's only MX */
    if (mx->status == MX_DNS_ANSWERED && mx->nullmx && mx->na == 1)
      return refuse(v, ENV_SENDER_DOMAIN, "sender-nullmx", "550 5.1.8", "Sender address rejected: the domain accepts no mail (null MX)") ;
    if (nx)
      return refuse(v, ENV_SENDER_DOMAIN, "sender-unknown", "550 5.1.8", "Sender address rejected: Domain not found") ;
    if (mx->status == MX_DNS_ANSWERED && a->status == MX_DNS_ANSWERED && aaaa->status == MX_DNS_ANSWERED)
    {
      if (!mx->na && !a->na && !aaaa->na)
        return refuse(v, ENV_SENDER_DOMAIN, "sender-unknown", "550 5.1.8", "Sender address rejected: Domain has no mail server") ;
    }
    else if (!(mx->status == MX_DNS_ANSWERED && mx->na) && !(a->status == MX_DNS_ANSWERED && a->na) && !(aaaa->status == MX_DNS_ANSWERED && aaaa->na))
      return refuse(v, ENV_SENDER_DOMAIN, "sender-tempfail", "450 4.1.8", "Sender address rejected: Domain not found in time, try again later") ;
  }
  if (rhsbl && score >= 1)
  {
    strcpy(m->extra, "Sender address rejected: domain listed by ") ;
    strncat(m->extra, listed_by, ENV_SHOWN_MAX) ;
    v->detail = listed_by ;
    return refuse(v, ENV_RHSBL, "rhsbl", e->rhsbl_temp ? "451 4.7.1" : "550 5.7.1", m->extra) ;
  }
  return 0 ;
}

/* SPF (spf.h): the sender as local@domain (the domain in A-labels, as
   the DNS asks it), "" for "<>" (the HELO identity) */
static int check_spf (mailctx *m, verdict *v)
{
  envelope *e = m->e ;
  if (!e->mode[ENV_SPF] || e->sender_ok || m->form == SENDER_TOOLONG) return 0 ;
  if (m->form == SENDER_NULL) m->spfsender[0] = 0 ;
  else if (m->s.domain[0])
  {
    size_t dl = strlen(m->s.domain) ;
    memcpy(m->spfsender, m->s.addr, m->s.locallen) ;
    m->spfsender[m->s.locallen] = '@' ;
    memcpy(m->spfsender + m->s.locallen + 1, m->s.domain, dl + 1) ;
  }
  else strcpy(m->spfsender, m->s.addr) ;
  spf_mail(&e->spf, &e->client, m->spfsender, &m->spfv) ;
  if (!m->spfv.code)
  {
    char const *w = spf_word(&e->spf) ;
    if (w) mx_info(e->ip, "helo=<", e->helo, "> from=<", e->from, "> result=", m->spfv.result, " spf=", w) ;
    return 0 ;
  }
  return refuse(v, ENV_SPF, m->spfv.result, m->spfv.code, m->spfv.text) ;
}

/* the MAIL stage, in order: a check returns 1 (refused: v says how),
   0 (passed) or -1 (the transaction is lifted out of the rest) */
static int (*const mail_stage[]) (mailctx *, verdict *) = { check_access, check_helo, check_sender_form, check_dns, check_spf } ;

int envelope_mail (envelope *e, char const *arg, rcptaddr_from const *f, char *reply, size_t *replylen)
{
  static mailctx m ;   /* two addresses of 900 bytes and more: off the stack */
  unsigned int i ;
  m.e = e ;
  m.form = sender_parse(arg, f, &m.s) ;
  shown(e->from, m.s.addr, strlen(m.s.addr)) ;
  {
    /* the local part as written, the domain lower-cased (A-labels) */
    size_t dl = strlen(m.s.domain) ;
    memcpy(e->greysender, m.s.addr, m.s.locallen) ;
    e->greysender[m.s.locallen] = 0 ;
    if (dl && m.s.locallen + 1 + dl <= SENDER_MAX) { e->greysender[m.s.locallen] = '@' ; memcpy(e->greysender + m.s.locallen + 1, m.s.domain, dl + 1) ; }
    else if (!dl) memcpy(e->greysender, m.s.addr, strlen(m.s.addr) + 1) ;
  }
  e->sender_ok = 0 ;
  spf_reset(&e->spf) ;   /* a result is this transaction's only */
  for (i = 0 ; i < sizeof mail_stage / sizeof *mail_stage ; i++)
  {
    verdict v = { 0, 0, 0, 0, 0 } ;
    int r = mail_stage[i](&m, &v) ;
    if (r < 0) break ;
    if (!r) continue ;
    {
      int warn = e->mode[v.check] == ENV_WARN ;
      size_t n = 0, l ;
      char const *sw = v.check == ENV_SPF ? spf_word(&e->spf) : 0 ;
      if (v.detail) mx_info(e->ip, "helo=<", e->helo, "> from=<", e->from, "> result=", v.result, warn ? " dryrun=1" : "", " zone=", v.detail) ;
      else mx_info(e->ip, "helo=<", e->helo, "> from=<", e->from, "> result=", v.result, warn ? " dryrun=1" : "", sw ? " spf=" : "", sw ? sw : "") ;
      if (warn) continue ;
      /* "CODE <addr>: text", cut to one reply line */
      l = strlen(v.code) ; memcpy(reply, v.code, l) ; n = l ;
      memcpy(reply + n, " <", 2) ; n += 2 ;
      l = strlen(e->from) ; memcpy(reply + n, e->from, l) ; n += l ;
      memcpy(reply + n, ">: ", 3) ; n += 3 ;
      l = strlen(v.text) ; if (l > 500 - n) l = 500 - n ; memcpy(reply + n, v.text, l) ; n += l ;
      reply[n++] = '\r' ; reply[n++] = '\n' ;
      *replylen = n ;
      e->from[0] = 0 ;   /* no transaction */
      spf_reset(&e->spf) ;
      return 0 ;
    }
  }
  return 1 ;
}

int envelope_nonsmtp (char const *line, size_t len)
{
  static char const *const verbs[] = { "CONNECT", "GET", "POST", "USER", 0 } ;
  size_t w = 0 ;
  while (w < len && line[w] != ' ' && line[w] != ':') w++ ;
  for (char const *const *v = verbs ; *v ; v++)
    if (strlen(*v) == w && !strncasecmp(line, *v, w) && (w == len || line[w] == ' ')) return 1 ;
  /* "Host: x", "User-Agent: y": a name, a colon, a blank */
  if (w && w + 1 < len && line[w] == ':' && line[w+1] == ' ')
  {
    for (size_t i = 0 ; i < w ; i++)
      if (!((line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= 'a' && line[i] <= 'z') || (line[i] >= '0' && line[i] <= '9') || line[i] == '-')) return 0 ;
    return 1 ;
  }
  return 0 ;
}

/* Unauthorised pipelining (RFC 2920; Postfix's
   smtpd_forbid_unauth_pipelining): the engine says when the client did
   not wait (early). */
static int check_pipelining (envelope *e, envelope_cmd *c)
{
  int warn ;
  if (!c->early || !e->mode[ENV_PIPELINING] || c->trusted) return 0 ;
  warn = e->mode[ENV_PIPELINING] == ENV_WARN ;
  /* refused: the session's own line says result=pipelining */
  if (warn && !e->pipelining_logged)
    mx_info(e->ip, "helo=<", e->helo, "> from=<", e->from, "> result=pipelining dryrun=1") ;
  e->pipelining_logged = 1 ;
  if (warn) return 0 ;
  c->reply = "554 5.5.0 Error: improper use of SMTP command pipelining\r\n" ;
  c->close = "pipelining" ;
  c->now = 1 ;   /* nothing the client sent reaches the server */
  return 1 ;
}

/* a web or proxy client, or a POP one, at the SMTP port: not passed on
   (postscreen's non-SMTP command test) */
static int check_nonsmtp (envelope *e, envelope_cmd *c)
{
  if (!c->line || !e->mode[ENV_NONSMTP] || c->trusted || !envelope_nonsmtp(c->line, c->len)) return 0 ;
  /* refused: the session's own line says result=nonsmtp */
  if (e->mode[ENV_NONSMTP] == ENV_WARN)
  {
    mx_info(e->ip, "helo=<", e->helo, "> from=<", e->from, "> result=nonsmtp dryrun=1") ;
    return 0 ;
  }
  c->reply = "421 4.7.0 this is an SMTP server, closing connection\r\n" ;
  c->close = "nonsmtp" ;
  c->now = 0 ;
  return 1 ;
}

/* the command stage, in order: a check returns 1 (refused: c says how)
   or 0 */
static int (*const command_stage[]) (envelope *, envelope_cmd *) = { check_pipelining, check_nonsmtp } ;

int envelope_command (envelope *e, envelope_cmd *c)
{
  unsigned int i ;
  for (i = 0 ; i < sizeof command_stage / sizeof *command_stage ; i++)
    if (command_stage[i](e, c)) return 1 ;
  return 0 ;
}
