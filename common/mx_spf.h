/* mx_spf: the Sender Policy Framework (RFC 7208), check_host() and the
 * HELO and MAIL FROM identities.
 *
 * The evaluator does no I/O: every DNS question goes through an
 * mx_spf_dns (a function and its context), bound in programs to the
 * deadline-bound client of mx_dns (mx_dns_spf_start, mx_dns_spf_ask,
 * in the sealed DNS object, whose entry points are all mx_dns_*: one
 * deadline for the whole evaluation),
 * and in the unit test and the fuzz harness to a scripted resolver.
 * Plain C types only (mx_dns.h's rule). Why not libspf2:
 * common/LIBRARIES.
 */
#ifndef MX_SPF_H
#define MX_SPF_H

#include <stddef.h>
#include <time.h>

enum mx_spf_result
{
  MX_SPF_NONE, MX_SPF_NEUTRAL, MX_SPF_PASS, MX_SPF_FAIL, MX_SPF_SOFTFAIL,
  MX_SPF_TEMPERROR, MX_SPF_PERMERROR
} ;

enum mx_spf_qtype { MX_SPF_Q_TXT, MX_SPF_Q_A, MX_SPF_Q_AAAA, MX_SPF_Q_MX, MX_SPF_Q_PTR } ;

/* The records of one answer, in buf: each a 2-byte length (big endian)
   then its bytes: TXT, a record's strings joined (RFC 7208 §3.3); A and
   AAAA, 4 or 16 bytes; MX and PTR, the name, dotted, without the last
   dot. Records that do not fit are left out (n counts those kept). */
#define MX_SPF_ANSWER_MAX 8192
typedef struct mx_spf_answer_s mx_spf_answer ;
struct mx_spf_answer_s
{
  unsigned int rcode ;     /* 0, or 3: the name does not exist */
  unsigned int n ;
  size_t len ;
  unsigned char buf[MX_SPF_ANSWER_MAX] ;
} ;

/* ask: 1 with *out filled, 0 on timeout (the deadline passed), -1 on
   any other failure (server failure, no resolver). name is dotted,
   without the last dot; for PTR, the in-addr.arpa or ip6.arpa name. */
typedef struct mx_spf_dns_s mx_spf_dns ;
struct mx_spf_dns_s
{
  int (*ask) (void *ctx, enum mx_spf_qtype type, char const *name, mx_spf_answer *out) ;
  void *ctx ;
} ;

/* RFC 7208 §4.6.4 and §7.3 */
#define MX_SPF_MAX_TERMS 10
#define MX_SPF_MAX_VOID 2
#define MX_SPF_MAX_NAMES 10
#define MX_SPF_DOMAIN_MAX 253
#define MX_SPF_EXP_MAX 512
#define MX_SPF_WHY_MAX 128

typedef struct mx_spf_s mx_spf ;
struct mx_spf_s
{
  /* in */
  mx_spf_dns dns ;
  unsigned char ip[16] ;       /* the client: 4 bytes, or 16 if is6 */
  int is6 ;
  char const *receiver ;       /* %{r}: this host's name, or 0 ("unknown") */
  time_t now ;                 /* %{t} */
  /* out, by mx_spf_check_host and the calls that use it */
  unsigned int terms ;         /* DNS-querying terms counted */
  unsigned int voids ;         /* void lookups counted */
  unsigned int queries ;       /* every question asked */
  char exp[MX_SPF_EXP_MAX] ;   /* fail: the explanation (exp=), or "" */
  char why[MX_SPF_WHY_MAX] ;   /* what decided: the mechanism, or the error */
} ;

/* check_host(ip, domain, sender) of RFC 7208 §4: domain the one to
   check, sender local@domain. Counters and texts of s reset first. */
extern enum mx_spf_result mx_spf_check_host (mx_spf *s, char const *domain, char const *sender, char const *helo) ;

/* The HELO identity (§2.3): check_host(ip, helo, postmaster@helo);
   none if helo is not a multi-label domain name (an address literal). */
extern enum mx_spf_result mx_spf_check_helo (mx_spf *s, char const *helo) ;

/* The MAIL FROM identity (§2.4): sender "" (MAIL FROM:<>) is checked
   as postmaster@helo; a sender without "@" as postmaster@sender. */
extern enum mx_spf_result mx_spf_check_mailfrom (mx_spf *s, char const *sender, char const *helo) ;

/* "pass", "fail", ... as in RFC 7208 §2.6 */
extern char const *mx_spf_result_name (enum mx_spf_result r) ;

/* The binding to mx_dns (in the sealed DNS object): ctx is an
   mx_spf_dnsctx, started with the deadline ms from now for every
   question asked through it. */
typedef struct mx_spf_dnsctx_s mx_spf_dnsctx ;
struct mx_spf_dnsctx_s { long long deadline_ms ; } ;
extern void mx_dns_spf_start (mx_spf_dnsctx *c, unsigned int ms) ;
extern int mx_dns_spf_ask (void *ctx, enum mx_spf_qtype type, char const *name, mx_spf_answer *out) ;

#endif
