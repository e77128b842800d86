/* screen: what smtp-screen's files share: the configuration, the
 * clients being screened (one struct each, a state machine), the
 * children handed off, and the functions each file gives the others.
 *
 * A client's way through:
 *
 *   ST_PROXY   from a balancer named with -P: its PROXY header is read
 *              (only its bytes), then the client it names is the client
 *   (admission: the rules file, then the per-client limits)
 *   ST_WAIT    the teaser sent, the greeting wait runs; the checks of
 *              this stage (checks[] in conn.c: pregreet, rdns, dnsbl; the DNS
 *              answers through lookup.c) give their verdicts into v[]
 *   ST_QUEUED  passed, waiting for a free child (-c)
 *   hand-off   a spawn of the chain (handoff.c); the slot is free
 *   ST_REFUSE  refused after talking first: smtp-delay's conversation
 *              (refuse.c)
 *   ST_DRAIN   our last reply written, our side shut down: what the
 *              client still sends is read and dropped until it closes
 *              or a second passes, so the reply is not lost to a reset
 */
#ifndef SMTPSCREEN_SCREEN_H
#define SMTPSCREEN_SCREEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <skalibs/ip46.h>

#include "cache.h"
#include "clientlimits.h"
#include "mx_classify.h"
#include "mx_dnsq.h"
#include "mx_rbl.h"
#include "mx_refuse.h"
#include "mx_ip.h"
#include "mx_net.h"
#include "rules.h"

#define RULES_ENV_MAX 4096  /* a rule's VAR=value items, all of them */
#define VERDICT_MAX 8
#define FIRST_MAX 100
#define NAME_MAX_TEXT 64
#define PROXY_MS 10000      /* a balancer's header, all of it */
#define QUEUE_MS 30000      /* a client that passed, waiting for a child */
#define REFUSE_MS 60000     /* the refusal conversation (smtp-delay's -t) */
#define DRAIN_MS 1000

/* the tests a client may run, and the cache knows */
#define NEED_PREGREET 1
#define NEED_DNSBL 2
#define NEED_RDNS 4

enum state { ST_FREE, ST_PROXY, ST_WAIT, ST_QUEUED, ST_REFUSE, ST_DRAIN } ;

/* one test's outcome, logged as test=word (conn.c's table): a byte in
   the client's slot, where two pointers would be 16 */
enum verdict
{
  V_PREGREET_FAIL, V_PREGREET_PASS, V_SKIP_DNSWL, V_CACHE_PARTIAL, V_CACHE_HIT,
  V_RULES_DENY, V_RULES_RELAYCLIENT, V_LIMITS_UNTRACKED, V_PROXY_LOCAL
} ;

typedef struct client_s client ;
struct client_s
{
  enum state state ;
  int fd ;
  uint32_t gen ;                /* slots.c */
  int32_t prev, next ;          /* slots.c: the state's list, or the free list */
  int32_t hpos ;                /* slots.c: ST_WAIT's place in the heap */
  unsigned long id ;
  long long start, deadline ;   /* mx_now_ms */
  ip46 peer ; uint16_t peerport ;     /* the TCP peer: the client, or a balancer */
  ip46 ip ; uint16_t port ;           /* the client */
  ip46 local ; uint16_t localport ;   /* where it connected to */
  unsigned int viaproxy : 1 ;
  unsigned int counted : 1 ;    /* holds a connection in the limits table */
  unsigned int teaser : 1 ;     /* the teaser was written */
  unsigned int early : 1 ;      /* talked first, handed on with RBLSMTPD (-e) */
  unsigned int trusted : 1 ;    /* the rule set RELAYCLIENT */
  unsigned int need : 3 ;       /* NEED_*: the tests this client runs */
  unsigned int cached : 3 ;     /* NEED_*: the tests the cache answered */
  unsigned int ptr_pending : 1 ;
  unsigned int ptr_answered : 1 ;  /* the PTR had an answer (a name or none) */
  unsigned int rbl_ttl_unknown : 1 ;
  unsigned int rbl_done : 1 ;   /* the DNSBL verdict is in (lookup.c) */
  unsigned int cls : 2 ;        /* enum rdns_class, once known */
  unsigned int cls_known : 1 ;
  unsigned int rbl_faults : 6 ; /* zones that timed out or failed */
  unsigned int rule_wait ;      /* the rule's SMTPDELAY in ms + 1, or 0 */
  int8_t rbl_txtzone ;          /* the zone whose TXT is in rbltxt, or -1 */
  int32_t rbl_score ;           /* a cached DNSBL pass: its score */
  uint32_t rbl_pending ;        /* zones whose A is still out */
  uint32_t txt_pending ;        /* zones whose TXT is still out */
  uint32_t rbl_listed ;         /* zones that list the client */
  uint32_t rbl_ttl, ptr_ttl ;   /* the lowest TTLs, seconds (0 unknown) */
  long long wait_start ;        /* mx_now_ms: the wait's start */
  unsigned int wait_ms ;        /* the greeting wait, once the class is known */
  char *host ;                  /* the confirmed PTR name (malloc), or 0 */
  uint64_t *qid ;               /* lookups out (malloc, 1 + 2 zones): the
                                   PTR's, each zone's A, then TXT; 0 none */
  char *rbltxt ; size_t rbltxtlen ;   /* the heaviest listing's TXT (malloc) */
  char iptext[MX_IP_FMT] ;
  limkey key ;
  char *env ; size_t envlen ;   /* the rule's VAR=value\0 items (malloc) */
  unsigned char v[VERDICT_MAX] ; unsigned char nv ;   /* enum verdict */
  char *first ;                 /* an early talker's first bytes, made safe (malloc), or 0 */
  unsigned char *hdr ; size_t have ;          /* ST_PROXY (malloc) */
  mx_refuse rf ;                /* ST_REFUSE */
} ;

typedef struct child_s { pid_t pid ; limkey key ; int counted ; char iptext[MX_IP_FMT] ; } childrec ;

typedef struct config_s config ;
struct config_s
{
  unsigned int maxchildren ;   /* -c */
  unsigned int maxscreen ;     /* -S */
  unsigned int waits[3] ;      /* -n -y -k by enum rdns_class; -w sets all three */
  unsigned int maxwait ;       /* the longest of them */
  unsigned int dns_ms ;        /* -t: the DNS deadline; 0: the longest wait */
  int lookup ;                 /* no -H: the PTR is looked up */
  patterns pats ;              /* the rDNS patterns: built-in (not -B), -F file */
  char const *patfile ;        /* -F */
  int builtin ;
  mx_rbl rbl ;                 /* -r -a -s -W -E -m -Y */
  char const *cachefile ;      /* -f */
  unsigned int cachemax ;      /* -M */
  uint32_t rbl_cap, rdns_cap ; /* -j -J: the longest a DNSBL or rDNS pass is held */
  unsigned int v6bits ;        /* -N */
  unsigned int verbosity ;     /* -q 0, -Q 1, -v 2 */
  int nodelay ;                /* -D */
  char const *rulesfile ;      /* -x */
  int rulesoptional ;          /* -X */
  char const *localname ;      /* -l */
  char name[NAME_MAX_TEXT + 1] ;  /* in the teaser and the refusal */
  char teaser[NAME_MAX_TEXT + 8] ; size_t teaserlen ;  /* "220-name\r\n" */
  int handon ;                 /* -e */
  mx_netlist balancers ;       /* -P */
  char const *const *argv ;    /* the chain */
} ;

typedef struct screen_s screen ;
struct screen_s
{
  config cf ;
  int epfd ;
  client *c ; unsigned int nslots ; unsigned int nused ;
  childrec *kids ; unsigned int nkids ;
  limits lim ;
  rules rl ;
  unsigned long nextid ;
  mx_dns_q *dq ;               /* 0: no resolver */
  cache *mem ;                 /* 0: no -f */
} ;

extern screen S ;

/* conn.c: a client's way through the stages */
extern void client_start (client *c) ;
extern void client_event (client *c, uint32_t events) ;
extern void client_timeout (client *c) ;

/* client.c: what every stage does with a client */
extern void client_end (client *c, char const *result, char const *extra) ;
extern void client_free (client *c) ;
extern int client_say_final (client *c, char const *reply) ;
extern void client_say_close (client *c, char const *reply, char const *result, char const *extra) ;
extern void client_log (client const *c, char const *result, char const *extra) ;
extern void client_watch (client *c, uint32_t events) ;
extern int client_say (client *c, char const *s, size_t len) ;
extern void client_drain (client *c) ;

extern void add_verdict (client *c, enum verdict v) ;

/* the wait's end: done now, or a new deadline (conn.c) */
extern void wait_update (client *c) ;

/* lookup.c: the lookups of the wait and their answers */
extern void rdns_class (client *c, enum rdns_class k) ;
extern void rdns_start (client *c) ;
extern void rdns_answer (client *c, mx_dns_q_result const *r) ;
extern void rdns_end (client *c) ;
extern void dnsbl_start (client *c) ;
extern void dnsbl_answer (client *c, unsigned int zone, mx_dns_q_result const *r) ;
extern void dnsbl_end (client *c) ;
extern long long lookup_deadline (client const *c) ;
extern void lookups_cancel (client *c) ;
extern uint64_t dns_tag (client const *c, unsigned int zone) ;
extern void dns_results (void) ;

/* refuse.c: ST_REFUSE, smtp-delay's conversation with an early talker */
extern void refuse_start (client *c) ;
extern void refuse_read (client *c) ;

/* options.c: the command line into S; the listening socket's fd */
extern int screen_options (int argc, char const *const *argv, char const **host, char const **port) ;

/* smtp-screen.c */
extern void screen_pass (client *c) ;
extern int screen_rules (client *c, int *deny) ;

/* handoff.c */
extern int handoff_init (void) ;
extern pid_t handoff_spawn (client const *c) ;

#endif
